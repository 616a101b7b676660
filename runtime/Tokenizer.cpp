//===- Tokenizer.cpp - Text in and out, where a library reads the tokenizer ===//

#include "runtime/Tokenizer.h"

#include <filesystem>

#ifdef HFQ_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace hfq::runtime {

namespace {

#ifdef HFQ_HAVE_SENTENCEPIECE
class SentencePieceTokenizer : public Tokenizer {
public:
  SentencePieceTokenizer(int64_t bos) : bos(bos) {}

  bool load(const std::string &path, std::string &error) {
    auto status = processor.Load(path);
    if (!status.ok())
      error = path + ": " + status.ToString();
    return status.ok();
  }

  bool encode(const std::string &text, std::vector<int64_t> &ids,
              std::string &error) const override {
    std::vector<int> pieces;
    auto status = processor.Encode(text, &pieces);
    if (!status.ok()) {
      error = "cannot encode the prompt: " + status.ToString();
      return false;
    }
    ids.clear();
    if (bos >= 0)
      ids.push_back(bos);
    ids.insert(ids.end(), pieces.begin(), pieces.end());
    return true;
  }

  std::string decode(const std::vector<int64_t> &ids) const override {
    std::vector<int> pieces;
    for (int64_t id : ids)
      if (id >= 0 && id < processor.GetPieceSize())
        pieces.push_back(static_cast<int>(id));
    std::string text;
    if (!processor.Decode(pieces, &text).ok())
      return "";
    return text;
  }

private:
  sentencepiece::SentencePieceProcessor processor;
  int64_t bos;
};
#endif

} // namespace

std::unique_ptr<Tokenizer> Tokenizer::open(const std::string &modelDir,
                                           int64_t bos, std::string &error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string model = modelDir + "/tokenizer.model";
  if (!fs::exists(model, ec)) {
    error = fs::exists(modelDir + "/tokenizer.json", ec)
                ? modelDir + " has only tokenizer.json (Hugging Face "
                             "tokenizers' format), which no maintained C++ "
                             "library reads; pass the prompt as --prompt-ids"
                : modelDir + " has no tokenizer (tokenizer.model); pass the "
                             "prompt as --prompt-ids";
    return nullptr;
  }
#ifdef HFQ_HAVE_SENTENCEPIECE
  auto tokenizer = std::make_unique<SentencePieceTokenizer>(bos);
  if (!tokenizer->load(model, error))
    return nullptr;
  return tokenizer;
#else
  (void)bos;
  error = "this build has no SentencePiece (libsentencepiece-dev) to read " +
          model + "; pass the prompt as --prompt-ids";
  return nullptr;
#endif
}

} // namespace hfq::runtime
