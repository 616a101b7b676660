//===- Quark.h - AMD Quark reference ----------------------------*- C++ -*-===//
//
// AMD Quark exports (quant_method "quark"; specs/quark.json). transformers
// 5.17 hands the model to amd-quark (quantizer_quark.py: _map_to_quark
// replaces each linear by a QParamsLinear; the checkpoint's weight_scale,
// weight_zero_point, input_scale, ... are renamed to its quantizers'
// weight_quantizer.scale, input_quantizer.scale, ... by CHECKPOINT_KEYS).
// Without torch._scaled_mm (a CPU, or a GPU below sm_89), QParamsLinear's
// forward is the generic one: the weight dequantized, the input fake-quantized
// by its quantizer when the export has one, F.linear.
//
// The two exports read here (the spec's layouts):
//   fp8 per-tensor: weight f8E4M3FN [N, K], weight_scale f32 []:
//     W[n, k] = e4m3(weight[n, k]) * weight_scale
//   int8 per-channel: weight i8 [N, K], weight_scale f32 [N],
//   weight_zero_point i8 [N] (quark stores zero points in the quantized
//   dtype, as its real_quantized export writes them):
//     W[n, k] = (weight[n, k] - weight_zero_point[n]) * weight_scale[n]
// Each is one f32 rounding (the difference of two integers is exact).
//
// Static fp8_e4m3 per-tensor input quantization (input_scale f32 []),
// quark's fake_quantize_fp8_per_tensor_with_scale:
//   x' = e4m3(clamp(x / input_scale, -448, 448)) * input_scale
// with e4m3 rounding to nearest even. Quark's quantizers hold their scales
// in the model's dtype and compute in it, so this is exact for float32
// models; for bf16/f16 models quark rounds the scales and each step to that
// dtype (a tolerance, not bit-exact). Dynamic, int8 or other input schemes
// and output/bias quantizers are not reproduced: the spec's kernel rule
// excludes them (a planned rule names them).
//
// Errors: a NaN e4m3 weight code, a scale that is not positive and finite,
// wrong dtypes or shapes.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_QUARK_H
#define HFQ_KERNELS_REF_QUARK_H

#include "kernels/abi/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// Dequantizes Quark's fp8 per-tensor weight (`zeroPoint` null: `weight`
/// f8E4M3FN [n, k], `scale` f32 []) or int8 per-channel weight (`weight` i8
/// [n, k], `scale` f32 [n], `zeroPoint` i8 [n]) to W [n, k] row-major.
bool dequantizeQuark(const TensorView &weight, const TensorView &scale,
                     const TensorView *zeroPoint, int64_t n, int64_t k,
                     std::vector<float> &w, std::string &error);

/// Quark's static fp8_e4m3 per-tensor fake quantization of `count` values
/// of x with `inputScale` (f32 [], positive and finite) into `out`.
bool fakeQuantizeQuarkFp8Input(const float *x, int64_t count,
                               const TensorView &inputScale,
                               std::vector<float> &out, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_QUARK_H
