//===- Quark.cpp - AMD Quark reference ------------------------------------===//
//
// See Quark.h for the formats.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Quark.h"

#include "kernels/abi/StoredTensor.h"

#include <algorithm>
#include <cmath>

namespace hfq::kernels {

namespace {

/// `scale`'s element `i` (named `what` in the message) is positive and
/// finite.
bool positiveScale(const TensorView &scale, int64_t i, const std::string &what,
                   float &value, std::string &error) {
  value = scale.at(i);
  if (value > 0.0f && std::isfinite(value))
    return true;
  error = "quark: " + what + " must be positive and finite, got " +
          std::to_string(value);
  return false;
}

} // namespace

bool dequantizeQuark(const TensorView &weight, const TensorView &scale,
                     const TensorView *zeroPoint, int64_t n, int64_t k,
                     DType act, std::vector<float> &w, std::string &error) {
  if (!checkMatrixShape("quark", n, k, error))
    return false;
  if (!zeroPoint) {
    float s;
    if (!expectView(weight, "weight", DType::F8E4M3FN, {n, k}, error) ||
        !expectFloatView(scale, "weight_scale", {}, error) ||
        !positiveScale(scale, 0, "weight_scale", s, error))
      return false;
    w.assign(static_cast<size_t>(n * k), 0.0f);
    for (int64_t i = 0; i < n * k; ++i) {
      const auto code = static_cast<uint8_t>(weight.bits(i));
      if ((code & 0x7f) == 0x7f) {
        error = "quark: weight[" + std::to_string(i / k) + ", " +
                std::to_string(i % k) + "] is NaN (e4m3 code 0x" +
                (code == 0xff ? "ff" : "7f") + ")";
        return false;
      }
      w[i] = roundToDType(act, fp8e4m3ToFloat(code) * s);
    }
    return true;
  }
  if (!expectView(weight, "weight", DType::I8, {n, k}, error) ||
      !expectFloatView(scale, "weight_scale", {n}, error) ||
      !expectView(*zeroPoint, "weight_zero_point", DType::I8, {n}, error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t r = 0; r < n; ++r) {
    float s;
    if (!positiveScale(scale, r, "weight_scale[" + std::to_string(r) + "]", s,
                       error))
      return false;
    const int64_t zero = zeroPoint->integer(r);
    for (int64_t c = 0; c < k; ++c)
      w[r * k + c] = roundToDType(
          act, static_cast<float>(weight.integer(r * k + c) - zero) * s);
  }
  return true;
}

bool fakeQuantizeQuarkFp8Input(const float *x, int64_t count,
                               const TensorView &inputScale, DType act,
                               std::vector<float> &out, std::string &error) {
  float s;
  if (!expectFloatView(inputScale, "input_scale", {}, error) ||
      !positiveScale(inputScale, 0, "input_scale", s, error))
    return false;
  out.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    // torch.clamp keeps NaN, which the e4m3 cast keeps too (code 0x7f).
    const float q = roundToDType(act, x[i] / s);
    const float clamped = std::isnan(q) ? q : std::clamp(q, -448.0f, 448.0f);
    out[i] = roundToDType(act, fp8e4m3ToFloat(floatToFp8e4m3(clamped)) * s);
  }
  return true;
}

} // namespace hfq::kernels
