//===- Tokenizer.h - Text in and out, where a library reads the tokenizer -*- C++ -*-===//
//
// A checkpoint directory's tokenizer, for hfq-run's --prompt=TEXT and the
// text of the generated ids. Read with SentencePiece (Debian's
// libsentencepiece), the maintained library for `tokenizer.model`
// (Llama 1/2, Mistral, Gemma, ...). `tokenizer.json` alone (Llama-3, Qwen:
// Hugging Face tokenizers' byte-level BPE) has no maintained C++ library in
// Debian: such a checkpoint takes --prompt-ids, and the error says so.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_RUNTIME_TOKENIZER_H
#define HFQ_RUNTIME_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hfq::runtime {

class Tokenizer {
public:
  /// The tokenizer of `modelDir`; nullptr with `error` saying why not (no
  /// tokenizer.model, only a tokenizer.json, a build without SentencePiece,
  /// a file SentencePiece cannot read). `bos`, when >= 0, is prepended to
  /// every encoded prompt, as transformers' Llama tokenizer does
  /// (add_bos_token).
  static std::unique_ptr<Tokenizer> open(const std::string &modelDir,
                                         int64_t bos, std::string &error);
  virtual ~Tokenizer() = default;
  /// The ids of `text` (BOS first when configured).
  virtual bool encode(const std::string &text, std::vector<int64_t> &ids,
                      std::string &error) const = 0;
  /// The text of `ids`.
  virtual std::string decode(const std::vector<int64_t> &ids) const = 0;
};

} // namespace hfq::runtime

#endif // HFQ_RUNTIME_TOKENIZER_H
