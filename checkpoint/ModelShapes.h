//===- ModelShapes.h - A model's linear layers and shapes -------*- C++ -*-===//
//
// The dry-run planner needs the names and shapes of a model's linear layers
// without downloading its weights. They come from, in order of preference:
//   * the tensors of safetensors headers or an index (Safetensors.h reads
//     them): every module owning a rank-2 `weight` or a method's packed
//     tensor;
//   * config.json alone, for the architectures whose module tree is known
//     (Llama-style decoders and DeepSeek-V3-style MLA + MoE).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_CHECKPOINT_MODELSHAPES_H
#define HFQ_CHECKPOINT_MODELSHAPES_H

#include "spec/expr/Expr.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hfq::checkpoint {

struct TensorInfo; // Safetensors.h

/// A linear layer: its module path and, when known, N (outputs) and K.
struct LinearInfo {
  std::string name;
  int64_t n = -1;
  int64_t k = -1;
  /// Layers that share this one's decision (e.g. experts of every layer).
  int64_t repeat = 1;
};

/// The linear layers among `tensors`: modules owning a rank-2 `weight`, or
/// one of `anchors` (the first tensor of each of the method's layouts, such
/// as GPTQ's `qweight`). Embeddings (`embed_tokens`, `wte`, `wpe`) are
/// excluded, as transformers does not treat them as nn.Linear.
std::vector<LinearInfo>
linearsFromTensors(const std::map<std::string, TensorInfo> &tensors,
                   const std::vector<std::string> &anchors);

/// The linear layers of a known architecture from config.json alone, every
/// decoder layer's and `lm_head`; the routed experts of a MoE layer are one
/// entry whose `repeat` counts them. Returns false when the architecture is
/// unknown, or when a field it reads is out of range: every integer is
/// range-checked before any arithmetic on it (spec/Limits.h: layers,
/// sizes, experts) and every derived N and K against kMaxLinearDim; then
/// `error` is "/<field>: <problem>" (empty for an unknown architecture)
/// and `linears` is left unchanged.
bool linearsFromConfig(const spec::Json &config,
                       std::vector<LinearInfo> &linears, std::string &error);

/// linearsFromConfig without the reason (false for both).
bool linearsFromConfig(const spec::Json &config,
                       std::vector<LinearInfo> &linears);

} // namespace hfq::checkpoint

#endif // HFQ_CHECKPOINT_MODELSHAPES_H
