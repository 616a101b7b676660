//===- Runner.h - The CPU reference's entry points, decoded -----*- C++ -*-===//
//
// The body of every `_mlir_ciface_<kernel>_<act>` of the CPU reference: the
// ABI's descriptors and tensor table decoded and checked (kernels/abi), the
// args decoded into the kernel's generated struct (kernels/generated/
// MethodArgs.h, from the method's spec), the method's forward (or
// quantizer) run on floats, the bias added and y written, rounded once to
// the activation type. Each method's entry points (kernels/ref/*Entry.cpp)
// are a typed function and one macro:
//
//   static bool gptqDequantize(const LinearCall &call, const GptqArgs &args,
//                              std::vector<float> &w, std::string &error);
//   HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_gptq, gptqDequantize)
//
// which defines the f32, f16 and bf16 entry points. The macro takes the args
// type from the kernel's name (kernel_args::hfq_ref_gptq), so a spec that
// changes its args no longer compiles against an entry point that reads the
// old ones.
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

//===----------------------------------------------------------------------===//
// Activation element types
//===----------------------------------------------------------------------===//

/// The activation element types of the entry points (`<act>` of the
/// symbol): the storage MLIR's C interface passes (float, or the 16-bit
/// pattern of f16 / bf16) and its conversions from and to f32, rounding to
/// nearest even. Computation is in f32 whatever the type.
struct F32Activation {
  using Storage = float;
  static constexpr DType kDType = DType::F32;
  static float load(float v) { return v; }
  static float store(float v) { return v; }
};
struct F16Activation {
  using Storage = uint16_t;
  static constexpr DType kDType = DType::F16;
  static float load(uint16_t v) { return halfToFloat(v); }
  static uint16_t store(float v) { return floatToHalf(v); }
};
struct Bf16Activation {
  using Storage = uint16_t;
  static constexpr DType kDType = DType::BF16;
  static float load(uint16_t v) { return bf16ToFloat(v); }
  static uint16_t store(float v) { return floatToBf16(v); }
};

/// A memref descriptor of activation type `Act`.
template <typename Act, int Rank>
using ActMemRef = StridedMemRefType<typename Act::Storage, Rank>;

/// A strided [rows, cols] memref of `Act` as dense row-major floats.
template <typename Act>
std::vector<float> loadActivations(const ActMemRef<Act, 2> &m) {
  std::vector<float> out(static_cast<size_t>(m.sizes[0] * m.sizes[1]));
  for (int64_t i = 0; i < m.sizes[0]; ++i)
    for (int64_t j = 0; j < m.sizes[1]; ++j)
      out[static_cast<size_t>(i * m.sizes[1] + j)] =
          Act::load(m.data[m.offset + i * m.strides[0] + j * m.strides[1]]);
  return out;
}

/// Writes dense row-major floats (sized to `m`) into the strided memref `m`,
/// each rounded once to `Act`.
template <typename Act>
void storeActivations(const std::vector<float> &values, ActMemRef<Act, 2> &m) {
  for (int64_t i = 0; i < m.sizes[0]; ++i)
    for (int64_t j = 0; j < m.sizes[1]; ++j)
      m.data[m.offset + i * m.strides[0] + j * m.strides[1]] =
          Act::store(values[static_cast<size_t>(i * m.sizes[1] + j)]);
}

//===----------------------------------------------------------------------===//
// The linear and quantize runners
//===----------------------------------------------------------------------===//

/// What a reference forward gets: activations [m, k] as floats (of element
/// type `act`, for a forward that rounds to it where its library computes
/// in the model's dtype), the layout's packed tensors and arguments, and
/// room for y [m, n].
struct LinearCall {
  const float *x = nullptr;
  DType act = DType::F32;
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

/// The body of `_mlir_ciface_<kernel>_<act>`: decodes, checks, converts x
/// to f32, runs `forward`, adds the bias and writes y rounded once to `Act`.
/// Returns the ABI status. Instantiated for the three activation types.
template <typename Act>
int32_t runLinearKernel(const char *kernel, ActMemRef<Act, 2> *y,
                        ActMemRef<Act, 2> *x, ActMemRef<Act, 1> *bias,
                        StridedMemRefType<double, 1> *args,
                        StridedMemRefType<int64_t, 2> *table,
                        const LinearForward &forward);

/// The body of `_mlir_ciface_<kernel>_quantize_<wt>`: the weight converted
/// to f32, then quantized. Instantiated for the three weight types.
template <typename Wt>
int32_t runQuantizeKernel(const char *kernel, ActMemRef<Wt, 2> *w,
                          StridedMemRefType<double, 1> *args,
                          StridedMemRefType<int64_t, 2> *table,
                          const Quantizer &quantize);

/// The runners of activation type `Act`, each preceded by `kind`: `extern
/// template` here, `template` where Runner.cpp instantiates them.
#define HFQ_RUNNER_INSTANCES(kind, Act)                                        \
  kind int32_t runLinearKernel<Act>(                                           \
      const char *, ActMemRef<Act, 2> *, ActMemRef<Act, 2> *,                  \
      ActMemRef<Act, 1> *, StridedMemRefType<double, 1> *,                     \
      StridedMemRefType<int64_t, 2> *, const LinearForward &);                 \
  kind int32_t runQuantizeKernel<Act>(                                         \
      const char *, ActMemRef<Act, 2> *, StridedMemRefType<double, 1> *,       \
      StridedMemRefType<int64_t, 2> *, const Quantizer &);
HFQ_RUNNER_INSTANCES(extern template, F32Activation)
HFQ_RUNNER_INSTANCES(extern template, F16Activation)
HFQ_RUNNER_INSTANCES(extern template, Bf16Activation)

} // namespace hfq::kernels

/// Calls `macro(suffix, activation type, ...)` once for each activation
/// type an entry point is defined for.
#define HFQ_FOR_EACH_ACTIVATION(macro, ...)                                    \
  macro(f32, ::hfq::kernels::F32Activation, __VA_ARGS__)                       \
  macro(f16, ::hfq::kernels::F16Activation, __VA_ARGS__)                       \
  macro(bf16, ::hfq::kernels::Bf16Activation, __VA_ARGS__)

/// `_mlir_ciface_<kernel>_<act>`, running `forward` (a LinearForward).
#define HFQ_LINEAR_ENTRY(act, Act, kernel, forward)                            \
  extern "C" int32_t _mlir_ciface_##kernel##_##act(                            \
      ::hfq::kernels::ActMemRef<Act, 2> *y,                                    \
      ::hfq::kernels::ActMemRef<Act, 2> *x,                                    \
      ::hfq::kernels::ActMemRef<Act, 1> *bias,                                 \
      StridedMemRefType<double, 1> *args,                                      \
      StridedMemRefType<int64_t, 2> *table) {                                  \
    return ::hfq::kernels::runLinearKernel<Act>(#kernel, y, x, bias, args,     \
                                                table, forward);               \
  }

/// The f32, f16 and bf16 linear entry points of `kernel`, running the
/// LinearForward that `forwardFn()` returns.
#define HFQ_LINEAR_ENTRIES(kernel, forwardFn)                                  \
  HFQ_FOR_EACH_ACTIVATION(HFQ_LINEAR_ENTRY, kernel, forwardFn())

/// Defines the linear entry points of `kernel` with `fn`, a TypedForward or
/// TypedDequantizer of the kernel's args (kernel_args::<kernel>).
#define HFQ_DEFINE_LINEAR_KERNEL(kernel, fn)                                   \
  static const ::hfq::kernels::LinearForward &kernel##_forward() {             \
    static const ::hfq::kernels::LinearForward forward =                       \
        ::hfq::kernels::withArgs<::hfq::kernels::kernel_args::kernel>(fn);     \
    return forward;                                                            \
  }                                                                            \
  HFQ_LINEAR_ENTRIES(kernel, kernel##_forward)

/// `_mlir_ciface_<kernel>_quantize_<wt>`, running `quantize` (a Quantizer).
#define HFQ_QUANTIZE_ENTRY_FOR(wt, Wt, kernel, quantize)                       \
  extern "C" int32_t _mlir_ciface_##kernel##_quantize_##wt(                    \
      ::hfq::kernels::ActMemRef<Wt, 2> *w, StridedMemRefType<double, 1> *args, \
      StridedMemRefType<int64_t, 2> *table) {                                  \
    return ::hfq::kernels::runQuantizeKernel<Wt>(#kernel, w, args, table,      \
                                                 quantize);                    \
  }

/// Defines the f32, f16 and bf16 quantize entry points of `kernel` running
/// `quantizer`, a Quantizer expression.
#define HFQ_QUANTIZE_ENTRY(kernel, quantizer)                                  \
  static const ::hfq::kernels::Quantizer &kernel##_quantizer() {               \
    static const ::hfq::kernels::Quantizer quantize = quantizer;               \
    return quantize;                                                           \
  }                                                                            \
  HFQ_FOR_EACH_ACTIVATION(HFQ_QUANTIZE_ENTRY_FOR, kernel, kernel##_quantizer())

/// Defines the quantize entry points of `kernel` with `fn`, a
/// TypedQuantizer of the kernel's args.
#define HFQ_DEFINE_QUANTIZE_KERNEL(kernel, fn)                                 \
  HFQ_QUANTIZE_ENTRY(                                                          \
      kernel,                                                                  \
      ::hfq::kernels::withArgs<::hfq::kernels::kernel_args::kernel>(fn))

/// Defines the quantize entry points of a method that needs calibration
/// data (a pre-quantized checkpoint): they fail with `why`.
#define HFQ_REFUSE_QUANTIZE_KERNEL(kernel, why)                                \
  HFQ_QUANTIZE_ENTRY(kernel, ::hfq::kernels::refuseQuantize(why))

#endif // HFQ_KERNELS_REF_RUNNER_H
