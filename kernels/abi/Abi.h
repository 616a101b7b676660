//===- Abi.h - The kernel ABI, decoded for the CPU reference ----*- C++ -*-===//
//
// kernels/include/hfq_kernels.h defines one C signature for every kernel.
// This header turns its memref descriptors and tensor table back into
// TensorViews and floats, checks every precondition the ABI states, and
// runs a method's reference forward (or quantizer) on them. Each method's
// entry points (kernels/ref/*Entry.cpp) are a few lines on top of it.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_ABI_ABI_H
#define HFQ_KERNELS_ABI_ABI_H

#include "kernels/include/hfq_kernels.h"
#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <functional>
#include <string>
#include <vector>

namespace hfq::kernels {

/// What a reference forward gets: activations [m, k] as floats, the layout's
/// packed tensors and arguments, and room for y [m, n].
struct LinearCall {
  const float *x = nullptr;
  int64_t m = 0, n = 0, k = 0;
  std::vector<TensorView> packed;
  std::vector<double> args;
  float *y = nullptr;
};

/// A method's reference forward: fills call.y or returns false with `error`.
using LinearForward = std::function<bool(const LinearCall &call, std::string &error)>;

/// What a reference quantizer gets: the float weight [n, k] and the
/// arguments; it returns the packed tensors, which the ABI layer checks
/// against the buffers the caller provided (dtype and shape) and copies in.
struct QuantizeCall {
  const float *w = nullptr;
  int64_t n = 0, k = 0;
  std::vector<double> args;
};
using Quantizer = std::function<bool(const QuantizeCall &call,
                                     std::vector<StoredTensor> &packed,
                                     std::string &error)>;

/// y = x·Wᵀ into call.y, for a dequantized W [n, k] (checked).
bool linearWithWeight(const LinearCall &call, const std::vector<float> &w,
                      std::string &error);

/// Copies a forward's y [m, n] (checked) into call.y; `what` names the
/// forward in the message.
bool storeOutput(const LinearCall &call, const std::vector<float> &y,
                 const char *what, std::string &error);

/// A forward computed from a dequantizer: W = dequantize(...), y = x·Wᵀ.
using Dequantizer = std::function<bool(const LinearCall &call,
                                       std::vector<float> &w,
                                       std::string &error)>;
LinearForward forwardByDequantizing(Dequantizer dequantize);

/// The body of `_mlir_ciface_<kernel>_f32`: decodes, checks, runs `forward`,
/// adds the bias and writes y. Returns the ABI status.
int32_t runLinearKernel(const char *kernel, StridedMemRefType<float, 2> *y,
                        StridedMemRefType<float, 2> *x,
                        StridedMemRefType<float, 1> *bias,
                        StridedMemRefType<double, 1> *args,
                        StridedMemRefType<int64_t, 2> *table,
                        const LinearForward &forward);

/// The body of `_mlir_ciface_<kernel>_quantize_f32`.
int32_t runQuantizeKernel(const char *kernel, StridedMemRefType<float, 2> *w,
                          StridedMemRefType<double, 1> *args,
                          StridedMemRefType<int64_t, 2> *table,
                          const Quantizer &quantize);

/// Decodes the tensor table (hfq_kernels.h) into views of contiguous
/// row-major buffers, checking its column count, every element type code,
/// rank and size, and that a non-empty tensor has an address; false with an
/// error naming the row otherwise. Every entry point decodes through this.
bool decodeTable(const StridedMemRefType<int64_t, 2> *table,
                 std::vector<TensorView> &views, std::string &error);

/// The kernel arguments, in order (none for a null descriptor).
std::vector<double> decodeArgs(const StridedMemRefType<double, 1> *args);

/// Records "<kernel>: <message>" as this thread's hfq_kernel_last_error()
/// and returns the non-zero ABI status: how entry points outside this
/// library's own runners (the CUDA kernels' kernels/cuda/Entry.cpp) report
/// a failure through the one last-error mechanism.
int32_t failKernel(const char *kernel, const std::string &message);

/// Checks that `call.args` has exactly `names` (for messages) and returns
/// false with an error otherwise.
bool expectArgs(const std::vector<double> &args,
                std::initializer_list<const char *> names, std::string &error);

} // namespace hfq::kernels

/// Defines the f32 linear entry point of `kernel` with the forward `fn`.
#define HFQ_DEFINE_LINEAR_KERNEL(kernel, fn)                                   \
  extern "C" int32_t _mlir_ciface_##kernel##_f32(                              \
      StridedMemRefType<float, 2> *y, StridedMemRefType<float, 2> *x,          \
      StridedMemRefType<float, 1> *bias, StridedMemRefType<double, 1> *args,  \
      StridedMemRefType<int64_t, 2> *table) {                                  \
    return ::hfq::kernels::runLinearKernel(#kernel, y, x, bias, args, table,   \
                                           fn);                                \
  }

/// Defines the f32 quantize entry point of `kernel` with the quantizer `fn`.
#define HFQ_DEFINE_QUANTIZE_KERNEL(kernel, fn)                                 \
  extern "C" int32_t _mlir_ciface_##kernel##_quantize_f32(                     \
      StridedMemRefType<float, 2> *w, StridedMemRefType<double, 1> *args,      \
      StridedMemRefType<int64_t, 2> *table) {                                  \
    return ::hfq::kernels::runQuantizeKernel(#kernel, w, args, table, fn);     \
  }

#endif // HFQ_KERNELS_ABI_ABI_H
