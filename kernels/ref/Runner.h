//===- Runner.h - The CPU reference's entry points, decoded -----*- C++ -*-===//
//
// The body of every `_mlir_ciface_<kernel>_f32` of the CPU reference: the
// ABI's descriptors and tensor table decoded and checked (kernels/abi), the
// args decoded into the kernel's generated struct (kernels/generated/
// MethodArgs.h, from the method's spec), the method's forward (or
// quantizer) run on floats, the bias added and y written. Each method's
// entry points (kernels/ref/*Entry.cpp) are a typed function and one macro:
//
//   static bool gptqDequantize(const LinearCall &call, const GptqArgs &args,
//                              std::vector<float> &w, std::string &error);
//   HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_gptq, gptqDequantize)
//
// The macro takes the args type from the kernel's name
// (kernel_args::hfq_ref_gptq), so a spec that changes its args no longer
// compiles against an entry point that reads the old ones.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_RUNNER_H
#define HFQ_KERNELS_REF_RUNNER_H

#include "kernels/abi/Abi.h"
#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"
#include "kernels/generated/MethodArgs.h"

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
using LinearForward =
    std::function<bool(const LinearCall &call, std::string &error)>;

/// What a reference quantizer gets: the float weight [n, k] and the
/// arguments; it returns the packed tensors, which the runner checks
/// against the buffers the caller provided (dtype and shape) and copies in.
struct QuantizeCall {
  const float *w = nullptr;
  int64_t n = 0, k = 0;
  std::vector<double> args;
};
using Quantizer =
    std::function<bool(const QuantizeCall &call,
                       std::vector<StoredTensor> &packed, std::string &error)>;

/// A forward, a dequantizer (W [n, k], which the runner multiplies) and a
/// quantizer of a method whose args decode into `Args`.
template <typename Args>
using TypedForward = bool (*)(const LinearCall &call, const Args &args,
                              std::string &error);
template <typename Args>
using TypedDequantizer = bool (*)(const LinearCall &call, const Args &args,
                                  std::vector<float> &w, std::string &error);
template <typename Args>
using TypedQuantizer = bool (*)(const QuantizeCall &call, const Args &args,
                                std::vector<StoredTensor> &packed,
                                std::string &error);

/// y = x·Wᵀ into call.y, for a dequantized W [n, k] (checked).
bool linearWithWeight(const LinearCall &call, const std::vector<float> &w,
                      std::string &error);

/// Copies a forward's y [m, n] (checked) into call.y; `what` names the
/// forward in the message.
bool storeOutput(const LinearCall &call, const std::vector<float> &y,
                 const char *what, std::string &error);

/// The typed functions above as the runner's, decoding call.args first.
template <typename Args> LinearForward withArgs(TypedForward<Args> forward) {
  return [forward](const LinearCall &call, std::string &error) {
    Args args;
    return Args::decode(call.args, args, error) && forward(call, args, error);
  };
}
template <typename Args>
LinearForward withArgs(TypedDequantizer<Args> dequantize) {
  return [dequantize](const LinearCall &call, std::string &error) {
    Args args;
    std::vector<float> w;
    return Args::decode(call.args, args, error) &&
           dequantize(call, args, w, error) && linearWithWeight(call, w, error);
  };
}
template <typename Args> Quantizer withArgs(TypedQuantizer<Args> quantize) {
  return [quantize](const QuantizeCall &call, std::vector<StoredTensor> &packed,
                    std::string &error) {
    Args args;
    return Args::decode(call.args, args, error) &&
           quantize(call, args, packed, error);
  };
}

/// The quantizer of a method transformers never quantizes at load: it
/// fails with `why` (the args are not read).
Quantizer refuseQuantize(const char *why);

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

} // namespace hfq::kernels

/// Defines the f32 linear entry point of `kernel` with `fn`, a TypedForward
/// or TypedDequantizer of the kernel's args (kernel_args::<kernel>).
#define HFQ_DEFINE_LINEAR_KERNEL(kernel, fn)                                   \
  extern "C" int32_t _mlir_ciface_##kernel##_f32(                              \
      StridedMemRefType<float, 2> *y, StridedMemRefType<float, 2> *x,          \
      StridedMemRefType<float, 1> *bias, StridedMemRefType<double, 1> *args,   \
      StridedMemRefType<int64_t, 2> *table) {                                  \
    static const ::hfq::kernels::LinearForward forward =                       \
        ::hfq::kernels::withArgs<::hfq::kernels::kernel_args::kernel>(fn);     \
    return ::hfq::kernels::runLinearKernel(#kernel, y, x, bias, args, table,   \
                                           forward);                           \
  }

/// Defines the f32 quantize entry point of `kernel` running `quantizer`, a
/// Quantizer expression.
#define HFQ_QUANTIZE_ENTRY(kernel, quantizer)                                  \
  extern "C" int32_t _mlir_ciface_##kernel##_quantize_f32(                     \
      StridedMemRefType<float, 2> *w, StridedMemRefType<double, 1> *args,      \
      StridedMemRefType<int64_t, 2> *table) {                                  \
    static const ::hfq::kernels::Quantizer quantize = quantizer;               \
    return ::hfq::kernels::runQuantizeKernel(#kernel, w, args, table,          \
                                             quantize);                        \
  }

/// Defines the f32 quantize entry point of `kernel` with `fn`, a
/// TypedQuantizer of the kernel's args.
#define HFQ_DEFINE_QUANTIZE_KERNEL(kernel, fn)                                 \
  HFQ_QUANTIZE_ENTRY(                                                          \
      kernel,                                                                  \
      ::hfq::kernels::withArgs<::hfq::kernels::kernel_args::kernel>(fn))

/// Defines the f32 quantize entry point of a method that needs calibration
/// data (a pre-quantized checkpoint): it fails with `why`.
#define HFQ_REFUSE_QUANTIZE_KERNEL(kernel, why)                                \
  HFQ_QUANTIZE_ENTRY(kernel, ::hfq::kernels::refuseQuantize(why))

#endif // HFQ_KERNELS_REF_RUNNER_H
