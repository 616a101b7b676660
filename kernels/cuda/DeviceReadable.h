//===- DeviceReadable.h - Whether a kernel can read an address --*- C++ -*-===//
//
// One test for the three libraries that take an address from lowered code
// which may be host memory (the loader's mapped checkpoint, the CPU
// target's activations) or device memory (the GPU target's): the model ops'
// weight upload, the weight-only entry points and the device runtime's
// staging. Header-only: each library links the CUDA runtime, not the others.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_DEVICEREADABLE_H
#define HFQ_KERNELS_CUDA_DEVICEREADABLE_H

#include <cuda_runtime.h>

namespace hfq::cuda {

/// Whether `data` is device or managed memory. Host memory, registered or
/// not, is not; the query's error (an unknown address) is cleared.
inline bool deviceReadable(const void *data) {
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, data) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return attributes.type == cudaMemoryTypeDevice ||
         attributes.type == cudaMemoryTypeManaged;
}

} // namespace hfq::cuda

#endif // HFQ_KERNELS_CUDA_DEVICEREADABLE_H
