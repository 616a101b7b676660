//===- Internal.h - host helpers the CUDA kernel files share ----*- C++ -*-===//
//
// Not an API: what the kernel files (Decode.cu, Gemm.cu, Dequant.cu) and the
// host file (WeightOnly.cu, which defines the helpers) share: each path's
// launcher, the helpers they all use, and the kernel arguments of the Gemm
// and Dequant kernels.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_INTERNAL_H
#define HFQ_KERNELS_CUDA_INTERNAL_H

#include "kernels/cuda/WeightOnly.h"

#include <cuda_runtime.h>

#include <cstddef>
#include <string>

#define HFQ_CUDA_TRY(call)                                                     \
  do {                                                                         \
    cudaError_t status_ = (call);                                              \
    if (status_ != cudaSuccess) {                                              \
      error = std::string(#call) + " failed: " + cudaGetErrorString(status_);  \
      return false;                                                            \
    }                                                                          \
  } while (0)

#define HFQ_LAUNCH_CHECK(what)                                                 \
  do {                                                                         \
    cudaError_t status_ = cudaGetLastError();                                  \
    if (status_ != cudaSuccess) {                                              \
      error = std::string("launching ") + (what) +                            \
              " failed: " + cudaGetErrorString(status_);                       \
      return false;                                                            \
    }                                                                          \
  } while (0)

namespace hfq::cuda {
struct Bnb4Weight; // Bnb4.h
}

namespace hfq::cuda::detail {

/// The kernel arguments of the Gemm loop and the dequantize kernel.
struct Params {
  const void *x;
  const void *bias;
  void *y;
  float *partials;
  int *counters;
  const uint4 *q;
  const uint4 *scales;
  const uint4 *zeros;
  const int *perm;
  int m, n, k, np, kp, groupSize;
  int ntiles;     // np / 64
  int ksteps;     // kp / 16
  int pblocks;    // kp / 128
  int pbPerSplit; // P-blocks per split (set by the Gemm launcher)
  int splitK;
  int chunks; // row chunks of 16 * MT
};

/// K-steps per fold of scales and zeros, the kernels' SPG: a group's (groups
/// of 32 and 64), or a whole P-block (groups of 128 and more).
inline int stepsPerFold(const DeviceWeight &w) {
  return w.groupSize >= 128 ? kernels::tile::kStepsPerBlock : static_cast<int>(w.groupSize / 16);
}

/// Params of `w` for M rows (no split K yet).
Params makeParams(const DeviceWeight &w, const void *x, const void *bias, void *y, int64_t m);

/// The most dynamic shared memory one block may ask for on this device.
size_t maxSharedMemory();

/// Raises a kernel's dynamic shared-memory limit (once per kernel and size).
bool allowSharedMemory(const void *fn, size_t bytes, std::string &error);

/// Grows a device buffer to `need` bytes (contents are lost when it grows).
bool growBuffer(void *&buffer, size_t &have, size_t need, std::string &error);

/// Points the workspace's split-K accumulator (f32, `partialBytes`, zero)
/// and `counters` arrival counters (zero) at memory of at least that size.
/// Kernels that use them leave both zeroed for the next launch. A buffer
/// that grows is zeroed on `stream`, ordered before the kernel that reads
/// it (the model's stream is non-blocking: a legacy-stream memset is not).
bool splitScratch(Workspace &ws, size_t partialBytes, size_t counters,
                  cudaStream_t stream, std::string &error);

/// out[m, width] = x[:, perm] (w.perm, or x itself when null), columns past K
/// zero: the act-order gather of the Dequant path (width K) and the decode
/// loop's permuted or aligned copy (width Kp). In Dequant.cu.
bool gatherActivations(const DeviceWeight &w, const void *x, int64_t m, int64_t width,
                       void *out, cudaStream_t stream, std::string &error);

/// Multiprocessors of the current device.
int smCount();

/// The paths of linear(), one per kernel file:
/// Gemv (Decode.cu): M <= 16 per launch, register-streamed weights;
bool decodeLinear(const DeviceWeight &w, const void *x, const void *bias,
                  void *y, int64_t m, Workspace &ws, cudaStream_t stream,
                  const LaunchConfig &config, std::string &error);
/// Gemm (Gemm.cu): the shared-memory loop;
bool gemmLinear(const DeviceWeight &w, const void *x, const void *bias, void *y, int64_t m,
                Workspace &ws, cudaStream_t stream, const LaunchConfig &config, std::string &error);
/// Wgmma (Wgmma.cu): sm_90a, the weight as wgmma's register operand (forced
/// only until measured);
bool wgmmaLinear(const DeviceWeight &w, const void *x, const void *bias, void *y, int64_t m,
                 Workspace &ws, cudaStream_t stream, const LaunchConfig &config,
                 std::string &error);
/// Dequant (Dequant.cu): W to a 16-bit scratch, then cuBLAS.
bool dequantLinear(const DeviceWeight &w, const void *x, const void *bias, void *y, int64_t m,
                   Workspace &ws, cudaStream_t stream, std::string &error);

/// y = x·Wᵀ (+ bias) through cuBLAS, W a dense 16-bit [N, K] matrix of the
/// activation type (the second half of every dequantize path; Dequant.cu).
bool denseLinear(ActType act, const void *dense, const void *x, const void *bias, void *y,
                 int64_t m, int64_t n, int64_t k, Workspace &ws, cudaStream_t stream,
                 std::string &error);

/// bitsandbytes 4-bit (Bnb4.h): the decode kernel, 1 <= M <= 64, K % 32 ==
/// 0, x 16-byte aligned (Bnb4Decode.cu); the dequantize kernel (Bnb4Dequant.cu).
/// log2(v) when v is a power of two (v >= 1), else -1.
inline int log2Exact(int64_t v) {
  int s = 0;
  while (s < 62 && (int64_t{1} << s) < v)
    ++s;
  return (int64_t{1} << s) == v ? s : -1;
}
bool bnb4DecodeLinear(const Bnb4Weight &w, const void *x, const void *bias, void *y, int64_t m,
                      Workspace &ws, cudaStream_t stream, std::string &error);
bool bnb4LaunchDequant(const Bnb4Weight &w, void *dense, cudaStream_t stream,
                       std::string &error);

/// The dequantize kernel alone (Dequant.cu): W as a 16-bit [N, K] matrix,
/// in kernel K order or (originalOrder) in the checkpoint's.
bool launchDequant(const DeviceWeight &w, void *dense, bool originalOrder, cudaStream_t stream,
                   std::string &error);

} // namespace hfq::cuda::detail

#endif // HFQ_KERNELS_CUDA_INTERNAL_H
