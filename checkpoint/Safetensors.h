//===- Safetensors.h - Reading checkpoints: safetensors and config.json -*- C++ -*-===//
//
// safetensors files are read exactly as published: an 8-byte little-endian
// header length, the JSON header (dtype, shape, data_offsets per tensor),
// then the raw little-endian data. hfq-bind-checkpoint reads tensor data;
// the dry-run planner reads headers only.
//
// The dry-run planner needs the names and shapes of a model's linear layers
// without downloading its weights. They come from, in order of preference:
//   * safetensors files: only the header is read (8-byte little-endian
//     length, then the JSON header), never the tensor data;
//   * a safetensors index (`model.safetensors.index.json`): the names of all
//     tensors; shapes from any shard header present beside it;
//   * config.json alone, for the architectures whose module tree is known
//     (Llama-style decoders and DeepSeek-V3-style MLA + MoE).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_CHECKPOINT_SAFETENSORS_H
#define HFQ_CHECKPOINT_SAFETENSORS_H

#include "spec/expr/Expr.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hfq::checkpoint {

/// One tensor of a checkpoint: dtype as safetensors spells it ("BF16",
/// "I32", "F8_E4M3") and shape; shape is empty when unknown.
struct TensorInfo {
  std::string dtype;
  std::vector<int64_t> shape;
  bool shapeKnown = false;
  /// Where the data lies: the file and the absolute byte range [begin, end).
  std::string file;
  uint64_t begin = 0, end = 0;
};

/// Reads a tensor's raw bytes (as stored: little-endian, row-major).
bool readTensorData(const TensorInfo &info, std::vector<char> &bytes,
                    std::string &error);

/// A linear layer: its module path and, when known, N (outputs) and K.
struct LinearInfo {
  std::string name;
  int64_t n = -1;
  int64_t k = -1;
  /// Layers that share this one's decision (e.g. experts of every layer).
  int64_t repeat = 1;
};

/// Reads the header of a safetensors file into `tensors`.
bool readSafetensorsHeader(const std::string &path,
                           std::map<std::string, TensorInfo> &tensors,
                           std::string &error);

/// Reads a safetensors index: every tensor name, and the headers of the
/// shards that exist beside it.
bool readSafetensorsIndex(const std::string &path,
                          std::map<std::string, TensorInfo> &tensors,
                          std::string &error);

/// The linear layers among `tensors`: modules owning a rank-2 `weight`, or
/// one of `anchors` (the first tensor of each of the method's layouts, such
/// as GPTQ's `qweight`). Embeddings (`embed_tokens`, `wte`, `wpe`) are
/// excluded, as transformers does not treat them as nn.Linear.
std::vector<LinearInfo>
linearsFromTensors(const std::map<std::string, TensorInfo> &tensors,
                   const std::vector<std::string> &anchors);

/// The linear layers of a known architecture from config.json alone. Only
/// the first decoder layer is listed; `repeat` counts the layers like it.
/// Returns false when the architecture is unknown.
bool linearsFromConfig(const spec::Json &config,
                       std::vector<LinearInfo> &linears);

} // namespace hfq::checkpoint

#endif // HFQ_CHECKPOINT_SAFETENSORS_H
