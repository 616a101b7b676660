//===- CudaCheck.h - Abort a GPU program on a failed CUDA call --*- C++ -*-===//
//
// For the programs that drive the GPU directly (test/gpu, bench): every
// CUDA runtime call goes through CHECK_CUDA, which prints the call, the
// file and line and CUDA's message, and exits 1. (Library code returns the
// error instead: kernels/cuda.)
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_TEST_SUPPORT_CUDACHECK_H
#define HFQ_TEST_SUPPORT_CUDACHECK_H

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CHECK_CUDA(call)                                                       \
  do {                                                                         \
    cudaError_t status_ = (call);                                              \
    if (status_ != cudaSuccess) {                                              \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__,     \
                   #call, cudaGetErrorString(status_));                        \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

#endif // HFQ_TEST_SUPPORT_CUDACHECK_H
