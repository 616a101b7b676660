// For the GPU machine, which has no MLIR: the memref descriptor of the
// kernel ABI (kernels/include/hfq_kernels.h), the one thing hfq uses of
// MLIR's CRunnerUtils.h, with the same layout. bench/device.sh and
// bench/model-ops-device.sh put this folder on the include path where
// MLIR's own header is absent.
#ifndef HFQ_DEVICE_CRUNNERUTILS_H
#define HFQ_DEVICE_CRUNNERUTILS_H
#include <cstdint>
template <typename T, int N> struct StridedMemRefType {
  T *basePtr;
  T *data;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
};
template <typename T> struct StridedMemRefType<T, 0> {
  T *basePtr;
  T *data;
  int64_t offset;
};
#endif
