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

/// Reads a tensor's raw bytes (as stored: little-endian, row-major). The
/// range was checked against the file when the header was read; it is
/// checked again against the file as it is now before anything is
/// allocated.
bool readTensorData(const TensorInfo &info, std::vector<char> &bytes,
                    std::string &error);

/// Reads the header of a safetensors file into `tensors`. The header is
/// checked as safetensors itself checks it (safetensors/src/tensor.rs,
/// Metadata::validate), before any tensor data is read: every tensor has a
/// known dtype, a shape whose element count fits int64 (overflow-checked)
/// and data_offsets whose length is exactly that many elements' bytes; the
/// tensors, in offset order, cover the data section from its first byte to
/// the end of the file with no gap and no overlap; `__metadata__` is an
/// object of strings; at most kMaxTensors tensors (spec/Limits.h). Every
/// error names the file and the tensor.
bool readSafetensorsHeader(const std::string &path,
                           std::map<std::string, TensorInfo> &tensors,
                           std::string &error);

/// readSafetensorsHeader's checks on a file already in memory: `data` holds
/// at least the length prefix and the header (`size` bytes of it), and the
/// file is `fileSize` bytes long. `path` names the file in messages.
bool parseSafetensorsHeader(const std::string &path, const char *data,
                            std::uint64_t size, std::uint64_t fileSize,
                            std::map<std::string, TensorInfo> &tensors,
                            std::string &error);

/// Reads a safetensors index: every tensor name, and the headers of the
/// shards that exist beside it. With `requireShards`, a shard the index
/// names that is not there is an error (a model to run, not to plan).
bool readSafetensorsIndex(const std::string &path,
                          std::map<std::string, TensorInfo> &tensors,
                          std::string &error, bool requireShards = false);

/// readSafetensorsIndex's checks on the index text: a JSON object (within
/// the limits of spec/Limits.h) whose "weight_map" maps at most kMaxTensors
/// names to shard file names (relative, without ".."). Fills `tensors`
/// (without shapes) and `shards`, in name order.
bool parseSafetensorsIndex(const std::string &path, const std::string &text,
                           std::map<std::string, TensorInfo> &tensors,
                           std::vector<std::string> &shards,
                           std::string &error);

/// The *.safetensors files of a checkpoint directory that has no index, in
/// name order; false with "<dir>: ..." when it cannot be listed or holds
/// none. (A directory with model.safetensors.index.json is read through
/// the index.)
bool listSafetensorsFiles(const std::string &dir,
                          std::vector<std::string> &files, std::string &error);

} // namespace hfq::checkpoint

#endif // HFQ_CHECKPOINT_SAFETENSORS_H
