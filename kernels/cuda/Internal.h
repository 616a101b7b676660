//===- Internal.h - host helpers the CUDA kernel files share ----*- C++ -*-===//
//
// Not an API: what WeightOnly.cu (which defines these) and Decode.cu both
// need on the host side.
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

namespace hfq::cuda::detail {

/// Grows a device buffer to `need` bytes (contents are lost when it grows).
bool growBuffer(void *&buffer, size_t &have, size_t need, std::string &error);

/// Points the workspace's split-K accumulator (f32, `partialBytes`, zero)
/// and `counters` arrival counters (zero) at memory of at least that size.
/// Kernels that use them leave both zeroed for the next launch.
bool splitScratch(Workspace &ws, size_t partialBytes, size_t counters,
                  std::string &error);

/// out[m, width] = x[:, perm] (w.perm, or x itself when null), columns past K
/// zero: the act-order gather of the Dequant path (width K) and the decode
/// loop's permuted or aligned copy (width Kp).
bool gatherActivations(const DeviceWeight &w, const void *x, int64_t m, int64_t width,
                       void *out, cudaStream_t stream, std::string &error);

/// Multiprocessors of the current device.
int smCount();

/// Decode path (Decode.cu): M <= 16, register-streamed weights.
bool decodeLinear(const DeviceWeight &w, const void *x, const void *bias,
                  void *y, int64_t m, Workspace &ws, cudaStream_t stream,
                  const LaunchConfig &config, std::string &error);

} // namespace hfq::cuda::detail

#endif // HFQ_KERNELS_CUDA_INTERNAL_H
