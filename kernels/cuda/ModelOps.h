//===- ModelOps.h - The CUDA model ops' library, for its callers -*- C++
//-*-===//
//
// libhfq_model_ops_cuda.so defines the entry points of
// kernels/include/hfq_model_ops.h (_mlir_ciface_hfq_<op>_<act>, act f32,
// f16 or bf16) with device-resident operands: every activation, ids,
// positions, the KV cache and the weights' addresses in the tensor table are
// device pointers; the descriptors, args, the table and inv_freq are read on
// the host (kernels/cuda/ModelOps.md, "Where each operand lives"). An entry
// checks its descriptors on the host, launches on the library's stream and
// returns without waiting, so a decode step can be captured in a CUDA graph.
//
// The same symbols as the CPU reference's (libhfq_kernels_ref.so): a process
// picks host or device model ops by the library it loads, or resolves them
// from one library's handle (dlopen + dlsym), as the GPU test does.
//
// What the entry points cannot check on the host (an id or a position in
// device memory outside its range) the kernels record in a device fault
// word, write NaN rows for, and never act on (no access outside the table or
// the cache); hfq_cuda_model_ops_check() reports it, with the CPU
// reference's message.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_MODELOPS_H
#define HFQ_KERNELS_CUDA_MODELOPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The stream the model ops launch on (a cudaStream_t): the one set by
/// hfq_cuda_model_ops_set_stream, else the library's own (non-blocking,
/// created on first use). Null, with hfq_kernel_last_error() set, without a
/// usable GPU.
void *hfq_cuda_model_ops_stream(void);

/// Launches every later model op on `stream` (a cudaStream_t the caller
/// owns, e.g. one being captured into a graph); null returns to the
/// library's own. Returns 0, or 1 without a usable GPU.
int32_t hfq_cuda_model_ops_set_stream(void *stream);

/// Waits for the stream, then reports the first fault a kernel recorded
/// since the last check ("hfq_attention: positions[3] = 9 is outside the
/// cache's [0, 8)"; "hfq_embedding: ids[0] = -1 is outside [0, 32000)") or
/// an asynchronous CUDA error: 0 if none, else 1 with
/// hfq_kernel_last_error() set. The fault word is then cleared.
int32_t hfq_cuda_model_ops_check(void);

/// Frees the device copies of host weights (a table naming host memory,
/// the run-time loader's mapped checkpoint, is copied to the device once)
/// and the weights hfq_linear_<act> converted to the activation type (cached
/// by address; a weight already of that type is used in place). Call it
/// before freeing or rewriting such a weight.
void hfq_cuda_model_ops_release_weights(void);

/// Which attention kernel serves the calls that follow: 0 the choice by
/// shape (the tile kernel for f16 / bf16 with head_dim 64 or 128 and at
/// least 16 queries, else the row kernel), 1 always the row kernel, 2 the
/// tile kernel where it applies. For tests and benchmarks.
void hfq_cuda_model_ops_force_attention_path(int32_t path);

#ifdef __cplusplus
}
#endif

#endif // HFQ_KERNELS_CUDA_MODELOPS_H
