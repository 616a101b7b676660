//===- TorchAo.cpp - torchao reference (de)quantizers ---------------------===//
//
// Written from torchao's Int4TilePackedTo4dTensor / Int4Tensor / Int8Tensor
// from_hp paths (quant_primitives: _choose_qparams_affine_tinygemm,
// _quantize_affine_tinygemm, choose_qparams_affine, quantize_affine; mslk's
// int4_row_quantize_zp / pack_int4) and PyTorch's int4mm.cu
// (matrix_to_m16n8k16_Bint4_layout and the BLayout_TC_int4 dequantization).
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/TorchAo.h"

#include <algorithm>
#include <cmath>

namespace hfq::kernels {

namespace {

constexpr int kInnerKTiles = 8;
constexpr int64_t kTileK = 16 * kInnerKTiles; // k covered by one (nt, kt)

float bf(float v) { return roundToDType(DType::BF16, v); }

int64_t roundUp(int64_t v, int64_t m) { return ceilDiv(v, m) * m; }

// The k of nibble `i` in word j of lane t of k-super-tile kt (see header).
int64_t tinygemmK(int64_t kt, int j, int t, int i) {
  return kt * kTileK + j * 32 + 2 * (t % 4) + 8 * (i & 3) + (i >> 2);
}

bool checkTinygemmDims(int64_t np, int64_t kp, std::string &error) {
  if (np < 8 || kp < kTileK || np % 8 != 0 || kp % kTileK != 0 ||
      np >= (int64_t(1) << 31) || kp >= (int64_t(1) << 31)) {
    error = "tinygemm int4 packing needs N a multiple of 8 and K a multiple "
            "of 128, got [" +
            std::to_string(np) + ", " + std::to_string(kp) + "]";
    return false;
  }
  return true;
}

bool checkTinygemmGroup(int64_t groupSize, std::string &error) {
  if (groupSize != 32 && groupSize != 64 && groupSize != 128 &&
      groupSize != 256) {
    error = "tinygemm int4 group_size must be 32, 64, 128 or 256, got " +
            std::to_string(groupSize);
    return false;
  }
  return true;
}

bool checkRowOrTensorScale(const TensorView &scale, const char *name, int64_t n,
                           bool f32Only, bool &perTensor, std::string &error) {
  perTensor = scale.shape == std::vector<int64_t>{1, 1} && n != 1;
  const std::vector<int64_t> shape =
      perTensor ? std::vector<int64_t>{1, 1} : std::vector<int64_t>{n, 1};
  return f32Only ? expectView(scale, name, DType::F32, shape, error)
                 : expectFloatView(scale, name, shape, error);
}

} // namespace

//===--- int4 tile_packed_to_4d -------------------------------------------===//

bool packTinygemmInt4(const uint8_t *q, int64_t np, int64_t kp,
                      StoredTensor &qdata, std::string &error) {
  if (!checkTinygemmDims(np, kp, error))
    return false;
  if (q == nullptr) {
    error = "tinygemm int4 packing: codes have no data";
    return false;
  }
  const int64_t nTiles = np / 8, kTiles = kp / kTileK;
  qdata.reset(DType::I32, {nTiles, kTiles, 32, kInnerKTiles / 2});
  for (int64_t nt = 0; nt < nTiles; ++nt)
    for (int64_t kt = 0; kt < kTiles; ++kt)
      for (int t = 0; t < 32; ++t) {
        const int64_t row = nt * 8 + t / 4;
        for (int j = 0; j < kInnerKTiles / 2; ++j) {
          uint32_t word = 0;
          for (int i = 0; i < 8; ++i) {
            const uint8_t code = q[row * kp + tinygemmK(kt, j, t, i)];
            if (code > 15) {
              error = "tinygemm int4 code " + std::to_string(code) +
                      " is not in [0, 15]";
              return false;
            }
            word |= static_cast<uint32_t>(code) << (4 * i);
          }
          qdata.setBits(((nt * kTiles + kt) * 32 + t) * (kInnerKTiles / 2) + j,
                        word);
        }
      }
  return true;
}

bool unpackTinygemmInt4(const TensorView &qdata, int64_t np, int64_t kp,
                        std::vector<uint8_t> &q, std::string &error) {
  if (!checkTinygemmDims(np, kp, error))
    return false;
  const int64_t nTiles = np / 8, kTiles = kp / kTileK;
  if (!expectView(qdata, "_weight_qdata", DType::I32,
                  {nTiles, kTiles, 32, kInnerKTiles / 2}, error))
    return false;
  q.assign(static_cast<size_t>(np * kp), 0);
  for (int64_t nt = 0; nt < nTiles; ++nt)
    for (int64_t kt = 0; kt < kTiles; ++kt)
      for (int t = 0; t < 32; ++t) {
        const int64_t row = nt * 8 + t / 4;
        for (int j = 0; j < kInnerKTiles / 2; ++j) {
          const uint32_t word = qdata.bits(
              ((nt * kTiles + kt) * 32 + t) * (kInnerKTiles / 2) + j);
          for (int i = 0; i < 8; ++i)
            q[row * kp + tinygemmK(kt, j, t, i)] =
                static_cast<uint8_t>((word >> (4 * i)) & 0xf);
        }
      }
  return true;
}

bool dequantizeTorchaoInt4Tiled(const TensorView &qdata,
                                const TensorView &scaleAndZero, int64_t n,
                                int64_t k, int64_t groupSize,
                                std::vector<float> &w, std::string &error) {
  if (!checkMatrixShape("torchao int4 tile_packed_to_4d", n, k, error) ||
      !checkTinygemmGroup(groupSize, error))
    return false;
  const int64_t np = roundUp(n, 8), kp = roundUp(k, 1024);
  std::vector<uint8_t> q;
  if (!unpackTinygemmInt4(qdata, np, kp, q, error) ||
      !expectView(scaleAndZero, "_weight_scale_and_zero", DType::BF16,
                  {kp / groupSize, np, 2}, error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      const int64_t at = ((col / groupSize) * np + row) * 2;
      const float scale = scaleAndZero.at(at), zero = scaleAndZero.at(at + 1);
      const float v = static_cast<float>(q[row * kp + col]) - 8.0f;
      w[row * k + col] = std::fma(v, scale, zero);
    }
  return true;
}

bool quantizeTorchaoInt4Tiled(const float *w, int64_t n, int64_t k,
                              int64_t groupSize, TorchaoInt4Tiled &out,
                              std::string &error) {
  if (!checkMatrixShape("torchao int4 tile_packed_to_4d", n, k, error) ||
      !checkTinygemmGroup(groupSize, error))
    return false;
  if (!checkFinite(w, n * k, "torchao int4: weight", error))
    return false;
  const int64_t np = roundUp(n, 8), kp = roundUp(k, 1024);
  const int64_t groups = kp / groupSize;
  const float eps = std::ldexp(1.0f, -126); // finfo(bfloat16).smallest_normal
  out = TorchaoInt4Tiled();
  out.scaleAndZero.reset(DType::BF16, {groups, np, 2});
  std::vector<uint8_t> q(static_cast<size_t>(np * kp), 0);
  auto at = [&](int64_t row, int64_t col) {
    return row < n && col < k ? bf(w[row * k + col]) : 0.0f; // zero padding
  };
  for (int64_t row = 0; row < np; ++row)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t lo = g * groupSize, hi = lo + groupSize;
      float mn = at(row, lo), mx = mn;
      for (int64_t col = lo + 1; col < hi; ++col) {
        mn = std::min(mn, at(row, col));
        mx = std::max(mx, at(row, col));
      }
      // _choose_qparams_affine_tinygemm, every op on bf16 tensors.
      float scale = std::max(bf(bf(mx - mn) / 15.0f), eps);
      const float zero = bf(mn + bf(scale * 8.0f));
      // _quantize_affine_tinygemm: min_val = zero - scale * mid_point.
      const float minVal = bf(zero - bf(scale * 8.0f));
      for (int64_t col = lo; col < hi; ++col) {
        float v = bf(bf(at(row, col) - minVal) / scale);
        q[row * kp + col] =
            static_cast<uint8_t>(clampCode(std::nearbyint(v), 0.0f, 15.0f));
      }
      out.scaleAndZero.setFloat((g * np + row) * 2, scale);
      out.scaleAndZero.setFloat((g * np + row) * 2 + 1, zero);
    }
  return packTinygemmInt4(q.data(), np, kp, out.qdata, error);
}

//===--- int4 plain
//--------------------------------------------------------===//

bool dequantizeTorchaoInt4Plain(const TensorView &qdata,
                                const TensorView &scale,
                                const TensorView &zeroPoint, int64_t n,
                                int64_t k, int64_t groupSize,
                                std::vector<float> &w, std::string &error) {
  if (!checkMatrixShape("torchao int4 plain", n, k, error))
    return false;
  if (k % 2 != 0 || groupSize < 1 || k % groupSize != 0) {
    error = "torchao int4 needs K (" + std::to_string(k) +
            ") even and a multiple of group_size (" +
            std::to_string(groupSize) + ")";
    return false;
  }
  const int64_t groups = k / groupSize;
  if (!expectView(qdata, "_weight_qdata", DType::I8, {n, k / 2}, error) ||
      !expectFloatView(scale, "_weight_scale", {groups, n}, error) ||
      !expectFloatView(zeroPoint, "_weight_zero_point", {groups, n}, error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      const uint32_t byte = qdata.bits(row * (k / 2) + col / 2);
      const uint32_t nibble = col % 2 == 0 ? byte & 0xf : (byte >> 4) & 0xf;
      const int32_t v = nibble >= 8 ? static_cast<int32_t>(nibble) - 16
                                    : static_cast<int32_t>(nibble);
      const int64_t p = (col / groupSize) * n + row;
      w[row * k + col] = static_cast<float>(v) * scale.at(p) + zeroPoint.at(p);
    }
  return true;
}

bool quantizeTorchaoInt4Plain(const float *w, int64_t n, int64_t k,
                              int64_t groupSize, DType dtype,
                              TorchaoInt4Plain &out, std::string &error) {
  if (!checkMatrixShape("torchao int4 plain", n, k, error))
    return false;
  if (!checkFinite(w, n * k, "torchao int4: weight", error))
    return false;
  if (!isFloatDType(dtype)) {
    error = std::string("torchao int4: the weight dtype must be f16, bf16 or "
                        "f32, got ") +
            dtypeName(dtype);
    return false;
  }
  if (k % 2 != 0 || groupSize < 1 || k % groupSize != 0) {
    error = "torchao int4 needs K (" + std::to_string(k) +
            ") even and a multiple of group_size (" +
            std::to_string(groupSize) + ")";
    return false;
  }
  const int64_t groups = k / groupSize;
  out = TorchaoInt4Plain();
  out.qdata.reset(DType::I8, {n, k / 2});
  out.scale.reset(dtype, {groups, n});
  out.zeroPoint.reset(dtype, {groups, n});
  for (int64_t row = 0; row < n; ++row)
    for (int64_t g = 0; g < groups; ++g) {
      const float *x = w + row * k + g * groupSize;
      float mn = roundToDType(dtype, x[0]), mx = mn;
      for (int64_t j = 1; j < groupSize; ++j) {
        mn = std::min(mn, roundToDType(dtype, x[j]));
        mx = std::max(mx, roundToDType(dtype, x[j]));
      }
      // int4_row_quantize_zp, all in f32.
      const float scale = std::max(mx - mn, 1e-6f) / 15.0f;
      const float zero = mn + scale * 8.0f;
      for (int64_t j = 0; j < groupSize; ++j) {
        const float shifted = roundToDType(dtype, x[j]) - mn;
        const float code =
            clampCode(std::nearbyint(shifted / scale), 0.0f, 15.0f) - 8.0f;
        const int64_t col = g * groupSize + j;
        const int64_t byteAt = row * (k / 2) + col / 2;
        const uint32_t nibble =
            static_cast<uint32_t>(static_cast<int32_t>(code)) & 0xf;
        out.qdata.setBits(byteAt, out.qdata.bitsAt(byteAt) |
                                      (col % 2 == 0 ? nibble : nibble << 4));
      }
      out.scale.setFloat(g * n + row, scale);
      out.zeroPoint.setFloat(g * n + row, zero);
    }
  return true;
}

//===--- int8 and float8
//---------------------------------------------------===//

namespace {
/// w = (qdata - zeroPoint) · scale, one scale and zero point per row or one
/// for the whole tensor; no zero point (float8) is 0.
void scaleRows(const TensorView &qdata, const TensorView &scale,
               const TensorView *zeroPoint, bool perTensor, int64_t n,
               int64_t k, std::vector<float> &w) {
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t row = 0; row < n; ++row) {
    const int64_t p = perTensor ? 0 : row;
    const float zero = zeroPoint ? zeroPoint->at(p) : 0.0f;
    for (int64_t col = 0; col < k; ++col)
      w[row * k + col] = (qdata.at(row * k + col) - zero) * scale.at(p);
  }
}
} // namespace

bool checkTorchaoInt8(const TensorView &qdata, const TensorView &scale,
                      const TensorView &zeroPoint, int64_t n, int64_t k,
                      bool &perTensor, std::string &error) {
  return checkMatrixShape("torchao int8", n, k, error) &&
         expectView(qdata, "_weight_qdata", DType::I8, {n, k}, error) &&
         checkRowOrTensorScale(scale, "_weight_scale", n, /*f32Only=*/false,
                               perTensor, error) &&
         expectView(zeroPoint, "_weight_zero_point", DType::I8, scale.shape,
                    error);
}

bool dequantizeTorchaoInt8(const TensorView &qdata, const TensorView &scale,
                           const TensorView &zeroPoint, int64_t n, int64_t k,
                           std::vector<float> &w, std::string &error) {
  bool perTensor = false;
  if (!checkTorchaoInt8(qdata, scale, zeroPoint, n, k, perTensor, error))
    return false;
  scaleRows(qdata, scale, &zeroPoint, perTensor, n, k, w);
  return true;
}

bool dequantizeTorchaoFloat8(const TensorView &qdata, const TensorView &scale,
                             int64_t n, int64_t k, std::vector<float> &w,
                             std::string &error) {
  bool perTensor = false;
  if (!checkMatrixShape("torchao float8", n, k, error))
    return false;
  if (qdata.dtype != DType::F8E4M3FN && qdata.dtype != DType::F8E5M2) {
    error = std::string("_weight_qdata must be f8E4M3FN or f8E5M2, got ") +
            dtypeName(qdata.dtype);
    return false;
  }
  if (!expectView(qdata, "_weight_qdata", qdata.dtype, {n, k}, error) ||
      !checkRowOrTensorScale(scale, "_weight_scale", n, /*f32Only=*/true,
                             perTensor, error))
    return false;
  scaleRows(qdata, scale, nullptr, perTensor, n, k, w);
  return true;
}

namespace {

// choose_qparams_affine (SYMMETRIC, int8) + quantize_affine over `count`
// values: returns the scale as stored, writes the codes.
float quantizeInt8Block(const float *x, int64_t count, DType dtype,
                        DType scaleDtype, int8_t *q) {
  float amax = 0.0f;
  for (int64_t i = 0; i < count; ++i)
    amax = std::max(amax, std::fabs(roundToDType(dtype, x[i])));
  // max_val_pos / ((127 - (-128)) / 2), clamped to eps = finfo(f32).eps,
  // both in the input's dtype; then converted to the scale dtype.
  float scale = roundToDType(dtype, amax / 127.5f);
  scale = roundToDType(dtype, std::max(scale, std::ldexp(1.0f, -23)));
  scale = roundToDType(scaleDtype, scale);
  const float inv = 1.0f / scale;
  for (int64_t i = 0; i < count; ++i) {
    const float v = std::nearbyint(roundToDType(dtype, x[i]) * inv);
    q[i] = static_cast<int8_t>(clampCode(v, -128.0f, 127.0f));
  }
  return scale;
}

} // namespace

bool quantizeTorchaoInt8(const float *w, int64_t n, int64_t k, bool perTensor,
                         DType dtype, DType scaleDtype, TorchaoInt8 &out,
                         std::string &error) {
  if (!checkMatrixShape("torchao int8", n, k, error))
    return false;
  if (!checkFinite(w, n * k, "torchao int8: weight", error))
    return false;
  if (!isFloatDType(dtype) || !isFloatDType(scaleDtype)) {
    error = "torchao int8: the weight and scale dtypes must be f16, bf16 or "
            "f32";
    return false;
  }
  out = TorchaoInt8();
  out.qdata.reset(DType::I8, {n, k});
  out.scale.reset(scaleDtype, {perTensor ? 1 : n, 1});
  // choose_qparams_affine's symmetric zero point, (127 + -128 + 1) / 2 = 0.
  out.zeroPoint.reset(DType::I8, out.scale.shape);
  std::vector<int8_t> q(static_cast<size_t>(n * k));
  if (perTensor) {
    out.scale.setFloat(
        0, quantizeInt8Block(w, n * k, dtype, scaleDtype, q.data()));
  } else {
    for (int64_t row = 0; row < n; ++row)
      out.scale.setFloat(row,
                         quantizeInt8Block(w + row * k, k, dtype, scaleDtype,
                                           q.data() + row * k));
  }
  for (int64_t i = 0; i < n * k; ++i)
    out.qdata.setBits(i, static_cast<uint32_t>(static_cast<int32_t>(q[i])));
  return true;
}

bool quantizeTorchaoInt8Activation(const float *x, int64_t m, int64_t k,
                                   DType dtype, std::vector<int8_t> &xq,
                                   std::vector<float> &scales,
                                   std::string &error) {
  if (!checkMatrixShape("torchao int8 activation", m, k, error))
    return false;
  if (!checkFinite(x, m * k, "torchao int8 activation: activation", error))
    return false;
  if (!isFloatDType(dtype)) {
    error = "torchao int8 activation: dtype must be f16, bf16 or f32";
    return false;
  }
  xq.assign(static_cast<size_t>(m * k), 0);
  scales.assign(static_cast<size_t>(m), 0.0f);
  for (int64_t row = 0; row < m; ++row)
    scales[row] = quantizeInt8Block(x + row * k, k, dtype, DType::F32,
                                    xq.data() + row * k);
  return true;
}

bool torchaoInt8DynamicLinear(const float *x, int64_t m,
                              const TensorView &qdata, const TensorView &scale,
                              const TensorView &zeroPoint, int64_t n, int64_t k,
                              const float *bias, DType dtype,
                              std::vector<float> &y, std::string &error) {
  bool perTensor = false;
  std::vector<int8_t> xq;
  std::vector<float> xs;
  if (!checkTorchaoInt8(qdata, scale, zeroPoint, n, k, perTensor, error) ||
      !quantizeTorchaoInt8Activation(x, m, k, dtype, xq, xs, error))
    return false;
  y.assign(static_cast<size_t>(m * n), 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const int64_t zero = zeroPoint.integer(perTensor ? 0 : j);
      int64_t acc = 0;
      for (int64_t l = 0; l < k; ++l)
        acc += static_cast<int64_t>(xq[i * k + l]) *
               (qdata.integer(j * k + l) - zero);
      // _int_scaled_matmul(...).to(output_dtype), then * w_scales.
      float v = roundToDType(dtype, static_cast<float>(acc) * xs[i]);
      v = v * scale.at(perTensor ? 0 : j);
      if (bias)
        v += bias[j];
      y[i * n + j] = v;
    }
  return true;
}

} // namespace hfq::kernels
