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
// quark writes its scales in the model's dtype (its observers': F32 for a
// float32 model, BF16 for a bf16 one; the spec's layouts say act_dtype);
// they are read here as f32, f16 or bf16. `act` is the model's activation
// type, in which quark's forward rounds.
//
// The two exports read here (the spec's layouts):
//   fp8 per-tensor: weight f8E4M3FN [N, K], weight_scale []:
//     W[n, k] = act(e4m3(weight[n, k]) * weight_scale)
//   int8 per-channel: weight i8 [N, K], weight_scale [N],
//   weight_zero_point i8 [N] (quark stores zero points in the quantized
//   dtype, as its real_quantized export writes them):
//     W[n, k] = act((weight[n, k] - weight_zero_point[n]) * weight_scale[n])
// quark's dequantize multiplies in float32 (the code widened, the scale
// converted), one f32 rounding (the difference of two integers is exact);
// _forward_generic then casts W to the input's dtype: act(v) rounds to
// nearest even in bf16/f16 and is v for float32.
//
// Static fp8_e4m3 per-tensor input quantization (input_scale []), quark's
// fake_quantize_fp8_per_tensor_with_scale on x in the model's dtype:
//   x' = act(e4m3(clamp(act(x / input_scale), -448, 448)) * input_scale)
// with e4m3 rounding to nearest even. Each torch op on bf16/f16 computes
// in float32 and rounds once to the dtype (the 0-dim scale does not promote
// x); ±448 and every e4m3 value are exact in both. So the forward is exact
// up to F.linear, whose bf16 accumulation the runner does in f32 and rounds
// once. Dynamic, int8 or other input schemes and output/bias quantizers are
// not reproduced: the spec's kernel rule excludes them (a planned rule
// names them).
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
/// f8E4M3FN [n, k], `scale` []) or int8 per-channel weight (`weight` i8
/// [n, k], `scale` [n], `zeroPoint` i8 [n]) to W [n, k] row-major, each
/// element rounded to `act` (F32, F16 or BF16). Scales are f32, f16 or bf16.
bool dequantizeQuark(const TensorView &weight, const TensorView &scale,
                     const TensorView *zeroPoint, int64_t n, int64_t k,
                     DType act, std::vector<float> &w, std::string &error);

/// Quark's static fp8_e4m3 per-tensor fake quantization of `count` values
/// of x (of type `act`) with `inputScale` ([] f32, f16 or bf16, positive
/// and finite) into `out`, each step rounded to `act`.
bool fakeQuantizeQuarkFp8Input(const float *x, int64_t count,
                               const TensorView &inputScale, DType act,
                               std::vector<float> &out, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_QUARK_H
