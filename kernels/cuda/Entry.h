//===- Entry.h - The CUDA kernels' weight cache, for callers ----*- C++ -*-===//
//
// kernels/cuda/Entry.cpp defines, for every CUDA weight-only kernel the
// specs name (HFQ_CUDA_KERNELS of the generated kernels/generated/
// MethodArgs.h: hfq_<method>_w4a16_gemv, ..._w8a16_gemm, and
// hfq_gptq_generic for GPTQ's 2/3-bit codes, widened to the 8-bit layout)
// and act in {f16, bf16, f32}, the ABI entry point
// _mlir_ciface_<kernel>_<act> of kernels/include/hfq_kernels.h (the f32 ones
// only refuse). Lowered IR needs nothing else from libhfq_kernels_cuda.so;
// its layers on the CPU reference call libhfq_kernels_ref.so, which it
// links. The two functions below manage the load-time repack cache those
// entry points share (docs/kernels.md, "CUDA kernels through the ABI").
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_ENTRY_H
#define HFQ_KERNELS_CUDA_ENTRY_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The stream calls with device-resident x and y run on (the GPU target's
/// runtime sets the one its model ops use; default: the legacy stream).
/// Such calls launch and return: no copy, no wait.
void hfq_cuda_set_stream(void *stream);

/// How many repacked weights are resident on the device.
int64_t hfq_cuda_cached_weights(void);

/// Drops every cached weight (a call in flight keeps the one it uses until
/// it returns). Call it before freeing or rewriting packed buffers that were
/// passed to a CUDA entry point: the cache is keyed by their addresses.
void hfq_cuda_release_weights(void);

#ifdef __cplusplus
}
#endif

#endif // HFQ_KERNELS_CUDA_ENTRY_H
