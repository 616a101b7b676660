//===- Awq.cpp - AWQ checkpoint reference ---------------------------------===//

#include "kernels/ref/Awq.h"

#include <algorithm>
#include <cmath>

namespace hfq::kernels {

const int kAwqGemmOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};

/// The nibble of a gemm word that holds column 8c + j: the inverse of
/// kAwqGemmOrder, [0, 4, 1, 5, 2, 6, 3, 7].
static int gemmNibbleOfColumn(int j) {
  static const int nibble[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  return nibble[j];
}

bool checkAwqParams(int64_t n, int64_t k, const AwqParams &p, AwqShape &s,
                    std::string &error) {
  if (!checkMatrixShape("AWQ", n, k, error))
    return false;
  if (p.bits != 4) {
    error = "AWQ checkpoints hold 4-bit weights, got bits = " +
            std::to_string(p.bits);
    return false;
  }
  if (p.groupSize != -1 && p.groupSize < 1) {
    error = "AWQ group_size must be positive or -1, got " +
            std::to_string(p.groupSize);
    return false;
  }
  s.g = p.groupSize == -1 ? k : p.groupSize;
  const char *version = p.version == AwqVersion::Gemm ? "gemm" : "gemv";
  if (k % s.g != 0) {
    error = "K (" + std::to_string(k) + ") must be a multiple of group_size (" +
            std::to_string(s.g) + ") for AWQ " + version;
    return false;
  }
  s.groups = k / s.g;
  if (p.version == AwqVersion::Gemm) {
    if (n % 8 != 0) {
      error = "N (" + std::to_string(n) +
              ") must be a multiple of 8 to pack AWQ gemm weights along N";
      return false;
    }
    return true;
  }
  // gemv: calculate_zeros_width pads the groups of a row to whole words,
  // then to a multiple of 2 (g = 64) or 4 (g = 32) words.
  const int64_t m = s.g >= 128 ? 1 : s.g == 64 ? 2 : s.g == 32 ? 4 : 0;
  if (m == 0) {
    error = "AWQ gemv checkpoints need a group size of 32, 64 or at least "
            "128, got " +
            std::to_string(s.g);
    return false;
  }
  if (k % 8 != 0) {
    error = "K (" + std::to_string(k) +
            ") must be a multiple of 8 to pack AWQ gemv weights along K";
    return false;
  }
  s.width = ceilDiv(ceilDiv(s.groups, 8), m) * m;
  return true;
}

bool checkAwqGemmTensors(const TensorView &qweight, const TensorView &qzeros,
                         const TensorView &scales, int64_t n, int64_t k,
                         const AwqShape &s, std::string &error) {
  return expectView(qweight, "qweight", DType::I32, {k, n / 8}, error) &&
         expectView(qzeros, "qzeros", DType::I32, {s.groups, n / 8}, error) &&
         expectView(scales, "scales", DType::F16, {s.groups, n}, error);
}

static uint32_t nibble(const TensorView &t, int64_t word, int index) {
  return (t.bits(word) >> (4 * index)) & 0xf;
}

bool dequantizeAwq(const TensorView &qweight, const TensorView &qzeros,
                   const TensorView &scales, int64_t n, int64_t k,
                   const AwqParams &p, std::vector<float> &w,
                   std::string &error) {
  AwqShape s;
  if (!checkAwqParams(n, k, p, s, error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  if (p.version == AwqVersion::Gemm) {
    if (!checkAwqGemmTensors(qweight, qzeros, scales, n, k, s, error))
      return false;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t gi = i / s.g;
      for (int64_t c = 0; c < n; ++c) {
        const int nib = gemmNibbleOfColumn(static_cast<int>(c % 8));
        const int32_t q =
            static_cast<int32_t>(nibble(qweight, i * (n / 8) + c / 8, nib));
        const int32_t z =
            static_cast<int32_t>(nibble(qzeros, gi * (n / 8) + c / 8, nib));
        w[static_cast<size_t>(c * k + i)] =
            static_cast<float>(q - z) * scales.at(gi * n + c);
      }
    }
    return true;
  }
  if (!expectView(qweight, "qweight", DType::I32, {n, k / 8}, error) ||
      !expectView(qzeros, "qzeros", DType::I32, {n, s.width}, error) ||
      !expectView(scales, "scales", DType::F16, {n, 8 * s.width}, error))
    return false;
  for (int64_t c = 0; c < n; ++c)
    for (int64_t i = 0; i < k; ++i) {
      const int64_t gi = i / s.g;
      const int32_t q = static_cast<int32_t>(
          nibble(qweight, c * (k / 8) + i / 8, static_cast<int>(i % 8)));
      const int32_t z = static_cast<int32_t>(
          nibble(qzeros, c * s.width + gi / 8, static_cast<int>(gi % 8)));
      w[static_cast<size_t>(c * k + i)] =
          static_cast<float>(q - z) * scales.at(c * 8 * s.width + gi);
    }
  return true;
}

bool quantizeAwqRtn(const float *w, int64_t n, int64_t k, const AwqParams &p,
                    AwqQuantized &out, std::string &error) {
  AwqShape s;
  if (!checkAwqParams(n, k, p, s, error))
    return false;
  if (w == nullptr) {
    error = "AWQ: the weight has no data";
    return false;
  }
  for (int64_t i = 0; i < n * k; ++i)
    if (!std::isfinite(w[i])) {
      error = "AWQ: weight element " + std::to_string(i) + " is not finite";
      return false;
    }
  const bool gemm = p.version == AwqVersion::Gemm;
  std::vector<uint32_t> qweight(static_cast<size_t>(n * k / 8), 0);
  std::vector<uint32_t> qzeros(
      static_cast<size_t>(gemm ? s.groups * n / 8 : n * s.width), 0);
  if (gemm)
    out.scales.reset(DType::F16, {s.groups, n});
  else
    out.scales.reset(DType::F16, {n, 8 * s.width}); // padding stays 0

  for (int64_t c = 0; c < n; ++c)
    for (int64_t gi = 0; gi < s.groups; ++gi) {
      const int64_t begin = gi * s.g, end = begin + s.g;
      float lo = w[c * k + begin], hi = lo;
      for (int64_t i = begin; i < end; ++i) {
        lo = std::min(lo, w[c * k + i]);
        hi = std::max(hi, w[c * k + i]);
      }
      const float scale = std::max(hi - lo, 1e-5f) / 15.0f;
      const float zf =
          std::min(15.0f, std::max(0.0f, -std::nearbyint(lo / scale)));
      const uint32_t z = static_cast<uint32_t>(zf);
      const float s16 = roundToDType(DType::F16, scale);
      if (gemm) {
        out.scales.setFloat(gi * n + c, scale);
        qzeros[static_cast<size_t>(gi * (n / 8) + c / 8)] |=
            z << (4 * gemmNibbleOfColumn(static_cast<int>(c % 8)));
      } else {
        out.scales.setFloat(c * 8 * s.width + gi, scale);
        qzeros[static_cast<size_t>(c * s.width + gi / 8)] |= z
                                                             << (4 * (gi % 8));
      }
      for (int64_t i = begin; i < end; ++i) {
        const float r = std::nearbyint(w[c * k + i] / s16);
        const uint32_t q =
            static_cast<uint32_t>(std::min(15.0f, std::max(0.0f, r + zf)));
        if (gemm)
          qweight[static_cast<size_t>(i * (n / 8) + c / 8)] |=
              q << (4 * gemmNibbleOfColumn(static_cast<int>(c % 8)));
        else
          qweight[static_cast<size_t>(c * (k / 8) + i / 8)] |= q
                                                               << (4 * (i % 8));
      }
    }

  if (gemm) {
    out.qweight.reset(DType::I32, {k, n / 8});
    out.qzeros.reset(DType::I32, {s.groups, n / 8});
  } else {
    out.qweight.reset(DType::I32, {n, k / 8});
    out.qzeros.reset(DType::I32, {n, s.width});
  }
  for (size_t i = 0; i < qweight.size(); ++i)
    out.qweight.setBits(static_cast<int64_t>(i), qweight[i]);
  for (size_t i = 0; i < qzeros.size(); ++i)
    out.qzeros.setBits(static_cast<int64_t>(i), qzeros[i]);
  return true;
}

} // namespace hfq::kernels
