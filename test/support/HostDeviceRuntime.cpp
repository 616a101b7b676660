//===- HostDeviceRuntime.cpp - A device runtime over host memory ----------===//
//
// libhfq_test_host_device.so: runtime/hfq_device.h served by host memory,
// so that a device-resident artifact (hfq-compile --target=sm_90) whose
// kernels all have CPU definitions (a dense model: the model ops and
// hfq_linear) runs end to end on a machine without a GPU, through the very
// path a GPU run takes: the generic allocation functions, the runtime's
// moves, its argmax, hfq-exec's device mode. It cannot capture (capturable
// is 0: generation stays eager). Test support only; the GPU's runtime is
// runtime/cuda/.
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Tensor.h"
#include "runtime/hfq_device.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

int64_t allocated = 0, peak = 0;

const char *deviceName() { return "host memory (test device)"; }

void *alloc(size_t bytes) { return std::calloc(bytes ? bytes : 1, 1); }
void release(void *p) { std::free(p); }
int32_t move(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
  return 0;
}

float element(const void *row, int64_t i, int32_t type) {
  if (type == HFQ_DEVICE_F32)
    return static_cast<const float *>(row)[i];
  uint16_t bits = static_cast<const uint16_t *>(row)[i];
  return type == HFQ_DEVICE_F16 ? hfq::kernels::halfToFloat(bits)
                                : hfq::kernels::bf16ToFloat(bits);
}

/// torch.argmax's order: NaN first, then the larger value, then the
/// smaller index.
int32_t argmax(const void *row, int64_t n, int32_t type, int64_t *out) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    float v = element(row, i, type), b = element(row, best, type);
    if (std::isnan(b))
      break;
    if (std::isnan(v) || v > b)
      best = i;
  }
  *out = best;
  return 0;
}

int32_t notCapturable() { return 0; }
int32_t refuse() { return 1; }
void nothing() {}
int64_t peakBytes() { return peak; }

const hfq_device_runtime kRuntime = {
    "host",  deviceName, alloc,         release, move,
    move,    argmax,     notCapturable, refuse,  refuse,
    refuse,  nothing,    peakBytes};

} // namespace

extern "C" const hfq_device_runtime *hfq_device_runtime_get(void) {
  return &kRuntime;
}

extern "C" void *_mlir_memref_to_llvm_alloc(size_t size) {
  allocated += static_cast<int64_t>(size);
  peak = std::max(peak, allocated);
  return std::malloc(size ? size : 1);
}

extern "C" void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment,
                                                    size_t size) {
  void *p = nullptr;
  return posix_memalign(&p, std::max(alignment, sizeof(void *)), size ? size : 1)
             ? nullptr
             : p;
}

extern "C" void _mlir_memref_to_llvm_free(void *ptr) { std::free(ptr); }
