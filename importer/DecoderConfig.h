//===- DecoderConfig.h - A causal decoder's config.json, checked -*- C++ -*-===//
//
// The fields of config.json that hfq-import needs to write the forward of a
// Llama-family decoder (LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM, Qwen3ForCausalLM), with transformers' defaults for the
// ones a config may omit, each range-checked before any arithmetic
// (spec/Limits.h). An error names the key: "/num_attention_heads: ...".
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_IMPORTER_DECODERCONFIG_H
#define HFQ_IMPORTER_DECODERCONFIG_H

#include "spec/expr/Expr.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::importer {

/// Rotary embedding, as transformers' ROPE_INIT_FUNCTIONS compute it for
/// the config's rope type (Rope.h).
struct RopeConfig {
  std::string type = "default";
  double theta = 10000.0;
  double factor = 1.0;
  double lowFreqFactor = 1.0, highFreqFactor = 4.0;
  int64_t originalMaxPositions = 0;
};

struct DecoderConfig {
  std::string architecture;  // e.g. "LlamaForCausalLM"
  int64_t hiddenSize = 0, intermediateSize = 0, numLayers = 0;
  int64_t numHeads = 0, numKvHeads = 0, headDim = 0, vocabSize = 0;
  int64_t maxPositions = 0;
  double rmsNormEps = 1e-6;
  bool tieWordEmbeddings = false;
  bool attentionBias = false;  // q/k/v (and o for Llama) projections
  bool outputBias = false;     // o_proj's bias (Llama's attention_bias)
  bool mlpBias = false;
  bool qkNorm = false;         // Qwen3's per-head q_norm / k_norm
  /// Per layer: the sliding window (0: full attention).
  std::vector<int64_t> slidingWindow;
  RopeConfig rope;
  /// config.json's dtype (or torch_dtype): float32, float16, bfloat16.
  std::string dtype;
};

/// The architectures hfq-import writes, in the order --help lists them.
const std::vector<std::string> &supportedArchitectures();

/// Reads `config` (config.json's object) into `out`; false with `error`
/// ("/<key>: <what is wrong>") for a missing or out-of-range field, an
/// unsupported architecture, activation or rope type.
bool parseDecoderConfig(const spec::Json &config, DecoderConfig &out,
                        std::string &error);

} // namespace hfq::importer

#endif // HFQ_IMPORTER_DECODERCONFIG_H
