//===- WeightStore.h - Checkpoint tensors, mapped, at run time --*- C++ -*-===//
//
// The run-time side of `hfq.weight`: lowered code calls
// _mlir_ciface_hfq_weight_<dt>_<rank> (declared below) for each checkpoint
// tensor it reads, and gets a memref over the tensor's bytes inside the
// memory-mapped safetensors files of the installed WeightStore. A host opens
// the store once, validates every weight the model names against it, and
// installs it before running the model; docs/runtime.md has the policy.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_RUNTIME_WEIGHTSTORE_H
#define HFQ_RUNTIME_WEIGHTSTORE_H

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hfq::runtime {

/// Every tensor of a checkpoint directory, memory-mapped read-only.
class WeightStore {
public:
  /// One tensor. `data` points into the mapping when the tensor's address is
  /// aligned to its element size, else at an owned 64-byte-aligned copy made
  /// when the store was opened (docs/runtime.md, "Alignment").
  struct Tensor {
    /// As safetensors spells it: "BF16", "I32", "F8_E4M3".
    std::string dtype;
    std::vector<int64_t> shape;
    const void *data = nullptr;
    uint64_t bytes = 0;
    /// The shard the tensor lies in.
    std::string file;
  };

  /// Called after each shard is mapped: bytes mapped so far, of all shards.
  using Progress = std::function<void(uint64_t done, uint64_t total,
                                      const std::string &file)>;

  /// Opens a checkpoint directory: the shards named by
  /// model.safetensors.index.json (in name order), or else every *.safetensors
  /// file in it (in name order). Each shard is mapped and its header checked
  /// as checkpoint/Safetensors.h checks it. A tensor in two shards, a shard
  /// the index names that cannot be opened, or an index entry whose tensor
  /// is not in its shard is an error; nullptr and `error` then.
  static std::unique_ptr<WeightStore>
  open(const std::string &dir, std::string &error, Progress progress = {});

  ~WeightStore();
  WeightStore(const WeightStore &) = delete;
  WeightStore &operator=(const WeightStore &) = delete;

  /// The tensor called `name`, or nullptr.
  const Tensor *find(std::string_view name) const;

  /// `name` is in the checkpoint with exactly this dtype (safetensors'
  /// spelling) and shape; otherwise false and one line in `error`:
  ///   <file>: tensor '<name>' is BF16[2, 3], the model expects F32[2, 3]
  ///   tensor '<name>' is not in the checkpoint (<dir>)
  bool validate(std::string_view name, const std::string &dtype,
                const std::vector<int64_t> &shape, std::string &error) const;

  /// The directory the store was opened from.
  const std::string &directory() const { return dir; }
  /// Bytes of all mapped shards.
  uint64_t mappedBytes() const { return mapped; }
  /// Bytes copied because their tensors were misaligned in the mapping.
  uint64_t copiedBytes() const { return copied; }
  size_t tensorCount() const { return tensors.size(); }

private:
  struct Mapping;
  struct AlignedCopy;

  WeightStore() = default;
  /// bitsandbytes keeps a double-quantized 4-bit weight's `nested_offset` in
  /// its `<m>.weight.quant_state.bitsandbytes__<type>` JSON blob, not as a
  /// tensor; it is added as the F32 scalar `<m>.weight.nested_offset` that
  /// the bitsandbytes layout names (specs/bitsandbytes.json), unless the
  /// checkpoint has that tensor. The one format-specific step of the loader.
  bool addBitsandbytesOffsets(std::string &error);
  /// Maps the shard open as `fd` (`size` bytes), checks its header and adds
  /// its tensors.
  bool mapShard(const std::string &path, int fd, uint64_t size,
                std::string &error);

  std::string dir;
  std::vector<std::unique_ptr<Mapping>> mappings;
  std::vector<std::unique_ptr<AlignedCopy>> copies;
  /// The names the map's keys view; a deque never moves its elements.
  std::deque<std::string> names;
  std::unordered_map<std::string_view, Tensor> tensors;
  uint64_t mapped = 0, copied = 0;
};

/// Installs the store the C entry points read (nullptr uninstalls). The
/// caller keeps it alive while it is installed.
void installWeightStore(const WeightStore *store);

/// The installed store, or nullptr.
const WeightStore *installedWeightStore();

} // namespace hfq::runtime

/// The entry points' element types: X(<MLIR type>, <safetensors dtype>,
/// <C element type>).
#define HFQ_WEIGHT_DTYPES(X)                                                   \
  X(i8, "I8", int8_t)                                                          \
  X(ui8, "U8", uint8_t)                                                        \
  X(i16, "I16", int16_t)                                                       \
  X(i32, "I32", int32_t)                                                       \
  X(i64, "I64", int64_t)                                                       \
  X(f16, "F16", uint16_t)                                                      \
  X(bf16, "BF16", uint16_t)                                                    \
  X(f32, "F32", float)                                                         \
  X(f8E4M3FN, "F8_E4M3", uint8_t)                                              \
  X(f8E5M2, "F8_E5M2", uint8_t)

/// Declares (or, with a body, defines) the entry point of one element type
/// and rank, as MLIR's llvm.emit_c_interface calls
///   func.func private @hfq_weight_<dt>_<rank>(memref<?xi8>, memref<?xi64>)
///       -> memref<d0 x ... x dt>
/// `name` holds the tensor name's bytes (no NUL), `shape` the sizes the
/// model expects; `result` receives the tensor. A problem aborts with
/// "hfq: weight '<name>': <what is wrong>" (docs/runtime.md).
#define HFQ_WEIGHT_ENTRY(dt, rank, E)                                          \
  void _mlir_ciface_hfq_weight_##dt##_##rank(                                  \
      StridedMemRefType<E, rank> *result, StridedMemRefType<int8_t, 1> *name,  \
      StridedMemRefType<int64_t, 1> *shape)

#define HFQ_WEIGHT_DECLARE(dt, st, E)                                          \
  HFQ_WEIGHT_ENTRY(dt, 0, E);                                                  \
  HFQ_WEIGHT_ENTRY(dt, 1, E);                                                  \
  HFQ_WEIGHT_ENTRY(dt, 2, E);                                                  \
  HFQ_WEIGHT_ENTRY(dt, 3, E);                                                  \
  HFQ_WEIGHT_ENTRY(dt, 4, E);
extern "C" {
HFQ_WEIGHT_DTYPES(HFQ_WEIGHT_DECLARE)
}
#undef HFQ_WEIGHT_DECLARE

#endif // HFQ_RUNTIME_WEIGHTSTORE_H
