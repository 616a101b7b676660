//===- Quanto.cpp - optimum-quanto reference (de)quantizers ---------------===//
//
// Written from quanto's own code paths: QModuleMixin (group size),
// AbsmaxOptimizer / MaxOptimizer (scale, shift), quantize_symmetric /
// quantize_affine (rounding and clamping), pack_weights / unpack (planes) and
// QBitsDequantizer (w = scale*q - shift).
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Quanto.h"

#include <algorithm>
#include <cmath>

namespace hfq::kernels {

int64_t quantoGroupSize(int64_t k) {
  int64_t g = 128;
  if (k <= g)
    return k;
  while (k % g != 0 && g > 32)
    g -= 32;
  return k % g == 0 ? g : k;
}

bool dequantizeQuantoBytes(const TensorView &data, const TensorView &scale,
                           int64_t n, int64_t k, std::vector<float> &w,
                           std::string &error) {
  if (!checkMatrixShape("quanto", n, k, error))
    return false;
  if (data.dtype != DType::I8 && data.dtype != DType::F8E4M3FN &&
      data.dtype != DType::F8E5M2) {
    error = std::string("weight._data must be i8, f8E4M3FN or f8E5M2, got ") +
            dtypeName(data.dtype);
    return false;
  }
  if (!expectView(data, "weight._data", data.dtype, {n, k}, error) ||
      !expectFloatView(scale, "weight._scale", {n, 1}, error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t row = 0; row < n; ++row) {
    float s = scale.at(row);
    for (int64_t col = 0; col < k; ++col)
      w[row * k + col] = data.at(row * k + col) * s;
  }
  return true;
}

bool checkQuantoBits(const TensorView &data, const TensorView &scale,
                     const TensorView &shift, int bits, int64_t n, int64_t k,
                     int64_t groupSize, QuantoGroups &g, std::string &error) {
  if (!checkMatrixShape("quanto", n, k, error))
    return false;
  if (bits != 2 && bits != 4) {
    error = "quanto packed weights are qint4 or qint2, got bits=" +
            std::to_string(bits);
    return false;
  }
  if (groupSize < 1 || k % groupSize != 0) {
    error = "quanto group size " + std::to_string(groupSize) +
            " must divide K=" + std::to_string(k);
    return false;
  }
  g.rows = n * k / groupSize;
  g.planeRows = ceilDiv(g.rows, 8 / bits);
  if (!expectView(data, "weight._data._data", DType::U8,
                  {g.planeRows, groupSize}, error) ||
      !expectFloatView(scale, "weight._scale", {g.rows, 1}, error))
    return false;
  g.intShift = shift.dtype == DType::U8 || shift.dtype == DType::I8;
  return g.intShift
             ? expectView(shift, "weight._shift", shift.dtype, {g.rows, 1},
                          error)
             : expectFloatView(shift, "weight._shift", {g.rows, 1}, error);
}

bool dequantizeQuantoBits(const TensorView &data, const TensorView &scale,
                          const TensorView &shift, int bits, int64_t n,
                          int64_t k, int64_t groupSize, std::vector<float> &w,
                          std::string &error) {
  QuantoGroups g;
  if (!checkQuantoBits(data, scale, shift, bits, n, k, groupSize, g, error))
    return false;
  const int64_t rows = g.rows, planeRows = g.planeRows;
  const bool intShift = g.intShift;
  const uint32_t mask = (1u << bits) - 1;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    // Grouped row r lives in plane r / R' of packed row r % R'.
    const int64_t packedRow = r % planeRows;
    const int shiftBits = static_cast<int>(bits * (r / planeRows));
    const float s = scale.at(r);
    const float z = shift.at(r);
    for (int64_t c = 0; c < groupSize; ++c) {
      uint32_t q = (data.bits(packedRow * groupSize + c) >> shiftBits) & mask;
      float qf = static_cast<float>(q);
      w[r * groupSize + c] = intShift ? s * (qf - z) : s * qf - z;
    }
  }
  return true;
}

namespace {

// Returns round-half-to-even of `v` (torch.round), for finite `v`.
float roundEven(float v) { return std::nearbyint(v); }

bool quantizeBytes(const float *w, int64_t n, int64_t k, bool isFloat8,
                   DType dtype, QuantoQuantized &out) {
  // AbsmaxOptimizer: scale = amax(|w|, row) / qmax in the weight dtype;
  // quantize_symmetric: data = w / scale (in the weight dtype), rounded for
  // int8, clamped to the type's range, cast.
  const float qmax = isFloat8 ? 448.0f : 127.0f;
  out.data.reset(isFloat8 ? DType::F8E4M3FN : DType::I8, {n, k});
  out.scale.reset(dtype, {n, 1});
  for (int64_t row = 0; row < n; ++row) {
    float absmax = 0.0f;
    for (int64_t col = 0; col < k; ++col)
      absmax =
          std::max(absmax, std::fabs(roundToDType(dtype, w[row * k + col])));
    const float scale = roundToDType(dtype, absmax / qmax);
    out.scale.setFloat(row, scale);
    for (int64_t col = 0; col < k; ++col) {
      const float x = roundToDType(dtype, w[row * k + col]);
      if (scale == 0.0f) {
        out.data.setBits(row * k + col, 0);
        continue;
      }
      float v = roundToDType(dtype, x / scale);
      if (isFloat8) {
        // torch.clamp to finfo(e4m3fn) then .to(float8): round to nearest.
        v = std::clamp(v, -448.0f, 448.0f);
        out.data.setBits(row * k + col, floatToFp8e4m3(v));
      } else {
        v = clampCode(roundEven(v), -128.0f, 127.0f);
        out.data.setBits(row * k + col,
                         static_cast<uint32_t>(static_cast<int32_t>(v)));
      }
    }
  }
  return true;
}

bool quantizeBits(const float *w, int64_t n, int64_t k, int bits, DType dtype,
                  QuantoQuantized &out) {
  const int64_t g = quantoGroupSize(k);
  const int64_t rows = n * k / g;
  const int64_t perByte = 8 / bits;
  const int64_t planeRows = ceilDiv(rows, perByte);
  // MaxOptimizer: qmax - qmin of the signed qtype = 2^bits - 1.
  const float qrange = static_cast<float>((1 << bits) - 1);
  const float qmaxUnsigned = qrange;
  out.groupSize = g;
  out.data.reset(DType::U8, {planeRows, g});
  out.scale.reset(dtype, {rows, 1});
  out.shift.reset(dtype, {rows, 1});
  for (int64_t r = 0; r < rows; ++r) {
    const float *group = w + r * g;
    float rmin = roundToDType(dtype, group[0]);
    float rmax = rmin;
    for (int64_t c = 1; c < g; ++c) {
      float x = roundToDType(dtype, group[c]);
      rmin = std::min(rmin, x);
      rmax = std::max(rmax, x);
    }
    const float scale =
        roundToDType(dtype, roundToDType(dtype, rmax - rmin) / qrange);
    const float shift = -rmin;
    out.scale.setFloat(r, scale);
    out.shift.setFloat(r, shift);
    const int64_t packedRow = r % planeRows;
    const int shiftBits = static_cast<int>(bits * (r / planeRows));
    for (int64_t c = 0; c < g; ++c) {
      float q = 0.0f;
      if (scale != 0.0f) {
        // quantize_affine: round((base + shift) / scale), clamp [0, 2^b-1].
        float shifted =
            roundToDType(dtype, roundToDType(dtype, group[c]) + shift);
        q = clampCode(roundEven(roundToDType(dtype, shifted / scale)), 0.0f,
                      qmaxUnsigned);
      }
      const int64_t at = packedRow * g + c;
      uint32_t byte = out.data.bitsAt(at);
      byte |= static_cast<uint32_t>(q) << shiftBits;
      out.data.setBits(at, byte);
    }
  }
  return true;
}

} // namespace

bool quantizeQuanto(const float *w, int64_t n, int64_t k, QuantoWeights weights,
                    DType dtype, QuantoQuantized &out, std::string &error) {
  if (!checkMatrixShape("quanto", n, k, error))
    return false;
  if (!checkFinite(w, n * k, "quanto: weight", error))
    return false;
  if (!isFloatDType(dtype)) {
    error = std::string("quanto: the weight dtype must be f16, bf16 or f32, "
                        "got ") +
            dtypeName(dtype);
    return false;
  }
  out = QuantoQuantized();
  switch (weights) {
  case QuantoWeights::Int8:
    return quantizeBytes(w, n, k, /*isFloat8=*/false, dtype, out);
  case QuantoWeights::Float8:
    return quantizeBytes(w, n, k, /*isFloat8=*/true, dtype, out);
  case QuantoWeights::Int4:
    return quantizeBits(w, n, k, 4, dtype, out);
  case QuantoWeights::Int2:
    return quantizeBits(w, n, k, 2, dtype, out);
  }
  error = "quanto: unknown weight qtype";
  return false;
}

} // namespace hfq::kernels
