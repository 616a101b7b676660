//===- Generation.h - Prefill and greedy decode of a compiled model -*- C++ -*-===//
//
// Drives the two entry functions hfq-import writes (importer/ModelImporter.h),
// through their C interfaces, whoever compiled them: hfq-run's JIT or a
// shared library that hfq-compile wrote (hfq-exec). The KV cache is this
// side's: [layers, 2, prompt + max_new_tokens, kv_heads, head_dim] of the
// activation type. No LLVM here: a host built with nvcc alone links it.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_RUNTIME_GENERATION_H
#define HFQ_RUNTIME_GENERATION_H

#include "runtime/hfq_device.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::runtime {

/// What the host needs to know of the compiled model.
struct ModelShape {
  int64_t layers = 0, kvHeads = 0, headDim = 0, vocab = 0;
  /// The activation dtype: float32, float16 or bfloat16.
  std::string dtype;
};

/// The addresses of `_mlir_ciface_prefill` and `_mlir_ciface_decode`:
///   void (StridedMemRefType<Act, 2> *logits, StridedMemRefType<int64_t, 1> *ids,
///         StridedMemRefType<int64_t, 1> *positions,
///         StridedMemRefType<Act, 5> *cache)
/// For code compiled for a GPU target, `device` is the device runtime
/// (runtime/hfq_device.h): the cache, ids and positions are then device
/// buffers, and decode steps are replayed from a graph unless `graphs` is
/// false or a layer ran through the host.
struct EntryPoints {
  void *prefill = nullptr;
  void *decode = nullptr;
  const struct hfq_device_runtime *device = nullptr;
  bool graphs = true;
  /// Keep the logits of every prompt position (for --logits-out); else only
  /// the last one is read back (a 2048-token prompt's full logits are half
  /// a GB for a 128k vocabulary).
  bool allPromptLogits = true;
};

struct GenerateResult {
  std::vector<int64_t> generated;
  /// The prefill's logits, one row of V floats per prompt position (the
  /// last position's alone unless EntryPoints::allPromptLogits).
  std::vector<std::vector<float>> promptLogits;
  double prefillMs = 0, decodeMs = 0;
  /// Decode steps replayed from a captured graph (GPU target).
  int64_t graphSteps = 0;
};

/// Prefill `prompt`, then up to `maxNewTokens` greedy steps (argmax, the
/// first index of the maximum as torch.argmax; stopping after an `eos` id,
/// as transformers' generate does). False with `error` for an invalid
/// prompt (empty, an id outside the vocabulary) or dtype.
bool generate(const ModelShape &shape, const EntryPoints &entries,
              const std::vector<int64_t> &prompt, int64_t maxNewTokens,
              const std::vector<int64_t> &eos, GenerateResult &out,
              std::string &error);

} // namespace hfq::runtime

#endif // HFQ_RUNTIME_GENERATION_H
