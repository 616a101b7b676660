//===- Safetensors.h - Reading safetensors and index files ------*- C++ -*-===//
//
// safetensors files are read exactly as published: an 8-byte little-endian
// header length, the JSON header (dtype, shape, data_offsets per tensor),
// then the raw little-endian data. hfq-bind-checkpoint reads tensor data;
// the dry-run planner reads headers only (never the tensor data), or a
// safetensors index (`model.safetensors.index.json`): the names of all
// tensors, with shapes from any shard header present beside it. Which of
// those tensors are linear layers is ModelShapes.h's.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_CHECKPOINT_SAFETENSORS_H
#define HFQ_CHECKPOINT_SAFETENSORS_H

// The linear layers among a checkpoint's tensors (linearsFromTensors) and
// from config.json live in ModelShapes.h; included here so that code which
// reaches them through this header compiles unchanged.
#include "checkpoint/ModelShapes.h"

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

/// Reads the header of a safetensors file into `tensors`.
bool readSafetensorsHeader(const std::string &path,
                           std::map<std::string, TensorInfo> &tensors,
                           std::string &error);

/// Reads a safetensors index: every tensor name, and the headers of the
/// shards that exist beside it.
bool readSafetensorsIndex(const std::string &path,
                          std::map<std::string, TensorInfo> &tensors,
                          std::string &error);

} // namespace hfq::checkpoint

#endif // HFQ_CHECKPOINT_SAFETENSORS_H
