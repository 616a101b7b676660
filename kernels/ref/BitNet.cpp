//===- BitNet.cpp - BitNet b1.58 reference --------------------------------===//
//
// Written from transformers' integrations/bitnet.py: pack_weights /
// unpack_weights (planes along N, stored +1), BitLinear.activation_quant,
// BitLinear.post_quant_process and WeightQuant (the b1.58 weight rule).
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/BitNet.h"

#include <algorithm>
#include <cmath>

namespace hfq::kernels {

namespace {

bool checkBitnetShape(int64_t n, int64_t k, std::string &error) {
  if (!checkMatrixShape("BitNet", n, k, error))
    return false;
  if (n % 4 != 0) {
    error = "N (" + std::to_string(n) +
            ") must be a multiple of 4 for 2-bit ternary packing";
    return false;
  }
  return true;
}

} // namespace

bool unpackBitnetTernary(const TensorView &weight, int64_t n, int64_t k,
                         std::vector<int8_t> &t, std::string &error) {
  if (!checkBitnetShape(n, k, error) ||
      !expectView(weight, "weight", DType::U8, {n / 4, k}, error))
    return false;
  const int64_t plane = n / 4;
  t.assign(static_cast<size_t>(n * k), 0);
  for (int64_t r = 0; r < plane; ++r)
    for (int64_t c = 0; c < k; ++c) {
      const uint32_t byte = weight.bits(r * k + c);
      for (int i = 0; i < 4; ++i) {
        const uint32_t code = (byte >> (2 * i)) & 3;
        if (code == 3) {
          error = "weight byte 0x" +
                  std::string(1, "0123456789abcdef"[byte >> 4]) +
                  std::string(1, "0123456789abcdef"[byte & 0xf]) + " at [" +
                  std::to_string(r) + ", " + std::to_string(c) +
                  "] holds the code 3, which is not a ternary value + 1";
          return false;
        }
        t[(r + i * plane) * k + c] = static_cast<int8_t>(code) - 1;
      }
    }
  return true;
}

bool dequantizeBitnet(const TensorView &weight, const TensorView &weightScale,
                      int64_t n, int64_t k, std::vector<float> &w,
                      std::string &error, BitnetScaleMode mode) {
  std::vector<int8_t> t;
  if (!unpackBitnetTernary(weight, n, k, t, error) ||
      !expectFloatView(weightScale, "weight_scale", {1}, error))
    return false;
  const float s = weightScale.at(0);
  if (mode == BitnetScaleMode::Divide && s == 0.0f) {
    error = "weight_scale is 0: BitLinear divides by it";
    return false;
  }
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t i = 0; i < n * k; ++i)
    w[i] = mode == BitnetScaleMode::Divide ? t[i] / s : t[i] * s;
  return true;
}

bool quantizeBitnetActivations(const float *x, int64_t m, int64_t k,
                               std::vector<int8_t> &xq,
                               std::vector<float> &scales, std::string &error) {
  if (!checkMatrixShape("BitNet activations", m, k, error))
    return false;
  if (x == nullptr) {
    error = "BitNet activations have no data";
    return false;
  }
  if (!checkFinite(x, m * k, "BitNet activation", error))
    return false;
  xq.assign(static_cast<size_t>(m * k), 0);
  scales.assign(static_cast<size_t>(m), 0.0f);
  for (int64_t row = 0; row < m; ++row) {
    float absmax = 0.0f;
    for (int64_t col = 0; col < k; ++col)
      absmax = std::max(absmax, std::fabs(x[row * k + col]));
    // Qp / max|x|.clamp(min=1e-5): an all-zero token gets s_x = 1.27e7.
    const float s = 127.0f / std::max(absmax, 1e-5f);
    scales[row] = s;
    for (int64_t col = 0; col < k; ++col) {
      const float v = std::nearbyint(x[row * k + col] * s);
      xq[row * k + col] = static_cast<int8_t>(clampCode(v, -128.0f, 127.0f));
    }
  }
  return true;
}

bool bitnetLinear(const float *x, int64_t m, const TensorView &weight,
                  const TensorView &weightScale, int64_t n, int64_t k,
                  const float *bias, std::vector<float> &y,
                  std::string &error) {
  std::vector<int8_t> t, xq;
  std::vector<float> sx;
  if (!unpackBitnetTernary(weight, n, k, t, error) ||
      !expectFloatView(weightScale, "weight_scale", {1}, error) ||
      !quantizeBitnetActivations(x, m, k, xq, sx, error))
    return false;
  const float ws = weightScale.at(0);
  if (ws == 0.0f) {
    error = "weight_scale is 0: BitLinear divides by it";
    return false;
  }
  y.assign(static_cast<size_t>(m * n), 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t acc = 0;
      for (int64_t l = 0; l < k; ++l)
        acc += static_cast<int64_t>(xq[i * k + l]) * t[j * k + l];
      // post_quant_process: input / (input_scale * weight_scale).
      float v = static_cast<float>(acc) / (sx[i] * ws);
      if (bias)
        v += bias[j];
      y[i * n + j] = v;
    }
  return true;
}

bool quantizeBitnet(const float *w, int64_t n, int64_t k, DType dtype,
                    BitnetPacked &out, std::string &error) {
  if (!checkBitnetShape(n, k, error))
    return false;
  if (!checkFinite(w, n * k, "BitNet: weight", error))
    return false;
  if (!isFloatDType(dtype)) {
    error = std::string("BitNet: the weight dtype must be f16, bf16 or f32, "
                        "got ") +
            dtypeName(dtype);
    return false;
  }
  // mean|W| summed in double (torch's f32 reduction order is not specified,
  // so no order is "the" one; double makes it order-independent here).
  double sum = 0.0;
  for (int64_t i = 0; i < n * k; ++i)
    sum += std::fabs(static_cast<double>(w[i]));
  const float mean = static_cast<float>(sum / static_cast<double>(n * k));
  const float sw = 1.0f / std::max(mean, 1e-5f);
  const int64_t plane = n / 4;
  out = BitnetPacked();
  out.weight.reset(DType::U8, {plane, k});
  out.weightScale.reset(dtype, {1});
  out.weightScale.setFloat(0, sw);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      const float t =
          clampCode(std::nearbyint(w[row * k + col] * sw), -1.0f, 1.0f);
      const int64_t at = (row % plane) * k + col;
      const uint32_t code = static_cast<uint32_t>(static_cast<int32_t>(t) + 1);
      out.weight.setBits(at, out.weight.bitsAt(at) |
                                 (code << (2 * static_cast<int>(row / plane))));
    }
  return true;
}

} // namespace hfq::kernels
