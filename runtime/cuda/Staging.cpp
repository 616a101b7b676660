//===- Staging.cpp - CPU-reference layers inside a device-resident model --===//
//
// A method without a CUDA kernel for its format (kernels/README.md lists
// them; issue 16 adds the most used) is selected as its CPU reference,
// `_mlir_ciface_hfq_ref_<m>_<act>`, also for a GPU target. Its activations
// are device buffers there, which the reference cannot read. This library
// therefore defines every symbol of HFQ_REF_KERNELS (generated from the
// specs) itself; the host loads it before the reference, so lowered code
// calls these: each waits for the stream, copies x (and a device bias) to
// the host, calls the reference (the same symbol in the loaded
// libhfq_kernels_ref.so, found by name among the process's objects: the
// host dlopens both libraries, so RTLD_NEXT, which searches only this
// library's own dependencies, would not see it), and copies y back. Correct, and slow: the report of
// hfq-run / hfq-compile names such layers, and a step that ran one is never
// captured into a graph. With host activations (never the case for code
// compiled for a GPU) the reference is called directly.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/DeviceRuntime.h"

#include "kernels/abi/Abi.h"
#include "kernels/cuda/DeviceReadable.h"
#include "kernels/cuda/ModelOps.h"
#include "kernels/generated/MethodArgs.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cuda_runtime.h>
#include <dlfcn.h>
#include <link.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

namespace {

using hfq::cuda::deviceReadable;

std::atomic<int64_t> stagedCalls{0};

template <typename T>
using LinearFn = int32_t (*)(StridedMemRefType<T, 2> *,
                             StridedMemRefType<T, 2> *,
                             StridedMemRefType<T, 1> *,
                             StridedMemRefType<double, 1> *,
                             StridedMemRefType<int64_t, 2> *);

bool copied(cudaError_t status, const char *what, std::string &error) {
  if (status == cudaSuccess)
    return true;
  (void)cudaGetLastError();
  error = std::string(what) + ": " + cudaGetErrorString(status);
  return false;
}

/// A host copy of the contiguous device memref `m` (same sizes, strides).
template <typename T, int N>
bool toHost(const StridedMemRefType<T, N> &m, std::vector<T> &storage,
            StridedMemRefType<T, N> &out, std::string &error) {
  int64_t count = 1;
  for (int d = 0; d < N; ++d)
    count *= m.sizes[d];
  storage.resize(static_cast<size_t>(count));
  out = m;
  out.basePtr = out.data = storage.data();
  out.offset = 0;
  return copied(cudaMemcpy(storage.data(), m.data + m.offset,
                           storage.size() * sizeof(T), cudaMemcpyDeviceToHost),
                "copying an activation to the host", error);
}

template <typename T, int N> bool contiguous(const StridedMemRefType<T, N> &m) {
  int64_t stride = 1;
  for (int d = N - 1; d >= 0; --d) {
    if (m.sizes[d] > 1 && m.strides[d] != stride)
      return false;
    stride *= m.sizes[d];
  }
  return true;
}

constexpr const char *kReferenceLibrary = "libhfq_kernels_ref.so";

/// The handle of the loaded CPU reference library, or null while none is
/// loaded (then looked for again on the next call).
void *referenceLibrary() {
  static std::atomic<void *> handle{nullptr};
  if (void *known = handle.load())
    return known;
  std::string path;
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *data) {
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        const std::string file = name.substr(name.rfind('/') + 1);
        if (file != kReferenceLibrary)
          return 0;
        *static_cast<std::string *>(data) = name;
        return 1;
      },
      &path);
  void *found =
      path.empty() ? nullptr : dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  handle.store(found);
  return found;
}

template <typename T>
int32_t staged(const char *symbol, StridedMemRefType<T, 2> *y,
               StridedMemRefType<T, 2> *x, StridedMemRefType<T, 1> *bias,
               StridedMemRefType<double, 1> *args,
               StridedMemRefType<int64_t, 2> *table) {
  void *library = referenceLibrary();
  auto reference = reinterpret_cast<LinearFn<T>>(
      library ? dlsym(library, symbol) : nullptr);
  if (!reference)
    return hfq::kernels::failKernel(
        symbol, std::string("the CPU reference (") + kReferenceLibrary +
                    ") is not loaded, or does not define it");
  if (!x || !y || !bias || !deviceReadable(x->data))
    return reference(y, x, bias, args, table);
  std::string error;
  if (!contiguous(*x) || !contiguous(*y) || !deviceReadable(y->data))
    return hfq::kernels::failKernel(
        symbol, "a staged call needs contiguous device-resident x and y");
  ++stagedCalls;
  std::vector<T> xs, ys, bs;
  StridedMemRefType<T, 2> hx{}, hy = *y;
  StridedMemRefType<T, 1> hb = *bias;
  ys.resize(static_cast<size_t>(y->sizes[0] * y->sizes[1]));
  hy.basePtr = hy.data = ys.data();
  hy.offset = 0;
  if (!copied(cudaStreamSynchronize(static_cast<cudaStream_t>(
                  hfq_cuda_model_ops_stream())),
              "waiting for the device", error) ||
      !toHost(*x, xs, hx, error) ||
      (bias->sizes[0] && deviceReadable(bias->data) && !toHost(*bias, bs, hb, error)))
    return hfq::kernels::failKernel(symbol, error);
  if (int32_t status = reference(&hy, &hx, &hb, args, table))
    return status;
  if (!copied(cudaMemcpy(y->data + y->offset, ys.data(),
                         ys.size() * sizeof(T), cudaMemcpyHostToDevice),
              "copying y to the device", error))
    return hfq::kernels::failKernel(symbol, error);
  return 0;
}

} // namespace

extern "C" int64_t hfq_runtime_cuda_staged_calls(void) { return stagedCalls; }

#define HFQ_STAGED_ACT(kernel, act, T)                                         \
  extern "C" int32_t _mlir_ciface_##kernel##_##act(                            \
      StridedMemRefType<T, 2> *y, StridedMemRefType<T, 2> *x,                  \
      StridedMemRefType<T, 1> *bias, StridedMemRefType<double, 1> *args,       \
      StridedMemRefType<int64_t, 2> *table) {                                  \
    return staged<T>("_mlir_ciface_" #kernel "_" #act, y, x, bias, args,       \
                     table);                                                   \
  }
#define HFQ_STAGED(kernel, Args)                                               \
  HFQ_STAGED_ACT(kernel, f32, float)                                           \
  HFQ_STAGED_ACT(kernel, f16, uint16_t)                                        \
  HFQ_STAGED_ACT(kernel, bf16, uint16_t)
HFQ_REF_KERNELS(HFQ_STAGED)
#undef HFQ_STAGED
#undef HFQ_STAGED_ACT
