//===- Eetq.cpp - EETQ int8 weight-only checkpoint reference --------------===//
//
// The preprocessing is written as one closed-form byte map (eetqStoredOffset)
// rather than FasterTransformer's four passes over buffers; the header
// derives the map from the passes, and the unit tests check it against a
// literal step-by-step transcription of them.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Eetq.h"

#include <algorithm>
#include <cmath>

namespace hfq::kernels {

const int kEetqRowPermutation[16] = {0, 1, 8,  9,  2, 3, 10, 11,
                                     4, 5, 12, 13, 6, 7, 14, 15};

int64_t eetqStoredOffset(int64_t k, int64_t n, int64_t kDim) {
  // Inverse of kEetqRowPermutation: the permuted row that input row k % 16
  // is written to.
  static const int inverse[16] = {0, 1, 4, 5, 8,  9,  12, 13,
                                  2, 3, 6, 7, 10, 11, 14, 15};
  const int64_t r = 16 * (k / 16) + inverse[k % 16];
  // Column pair (n / 2) owns 2K bytes of alternating 64-row tiles.
  const int64_t o = (n / 2) * 2 * kDim + (r / 64) * 128 + (n % 2) * 64 + r % 64;
  // Bytes 1 and 2 of every 32-bit word trade places.
  static const int swap12[4] = {0, 2, 1, 3};
  return (o & ~int64_t(3)) | swap12[o & 3];
}

static bool checkEetqShape(int64_t k, int64_t n, std::string &error) {
  if (!checkMatrixShape("EETQ", n, k, error))
    return false;
  if (k % 64 != 0) {
    error = "K (" + std::to_string(k) +
            ") must be a multiple of 64 for EETQ's sm80 weight layout "
            "(16-row permutation, 64-row tiles)";
    return false;
  }
  if (n % 64 != 0) {
    error = "N (" + std::to_string(n) +
            ") must be a multiple of 64 for EETQ's sm80 weight layout "
            "(FasterTransformer's column interleave)";
    return false;
  }
  return true;
}

bool preprocessEetqWeight(const int8_t *q, int64_t k, int64_t n,
                          std::vector<int8_t> &out, std::string &error) {
  if (!checkEetqShape(k, n, error))
    return false;
  if (q == nullptr) {
    error = "EETQ: the int8 weight has no data";
    return false;
  }
  out.assign(static_cast<size_t>(k * n), 0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t c = 0; c < n; ++c) {
      // + 128 with int8 wrap-around: the stored byte is q + 128 unsigned.
      const uint8_t biased = static_cast<uint8_t>(q[i * n + c] + 128);
      out[static_cast<size_t>(eetqStoredOffset(i, c, k))] =
          static_cast<int8_t>(biased);
    }
  return true;
}

bool unpreprocessEetqWeight(const TensorView &weight, int64_t k, int64_t n,
                            std::vector<int8_t> &q, std::string &error) {
  if (!checkEetqShape(k, n, error) ||
      !expectView(weight, "weight", DType::I8, {k, n}, error))
    return false;
  const auto *bytes = static_cast<const uint8_t *>(weight.data);
  q.assign(static_cast<size_t>(k * n), 0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t c = 0; c < n; ++c) {
      const int v = int(bytes[eetqStoredOffset(i, c, k)]) - 128;
      q[static_cast<size_t>(i * n + c)] = static_cast<int8_t>(v);
    }
  return true;
}

bool dequantizeEetq(const TensorView &weight, const TensorView &weightScales,
                    int64_t n, int64_t k, std::vector<float> &w,
                    std::string &error) {
  std::vector<int8_t> q;
  if (!unpreprocessEetqWeight(weight, k, n, q, error) ||
      !expectView(weightScales, "weight_scales", DType::F16, {n}, error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t c = 0; c < n; ++c) {
    const float s = weightScales.at(c);
    for (int64_t i = 0; i < k; ++i)
      w[static_cast<size_t>(c * k + i)] =
          static_cast<float>(q[static_cast<size_t>(i * n + c)]) * s;
  }
  return true;
}

bool quantizeEetq(const float *w, int64_t n, int64_t k, StoredTensor &weight,
                  StoredTensor &weightScales, std::string &error) {
  if (!checkEetqShape(k, n, error))
    return false;
  if (w == nullptr) {
    error = "EETQ: the weight has no data";
    return false;
  }
  // symmetric_quantize on Wᵀ [K, N]: column n of Wᵀ is row n of W.
  std::vector<int8_t> q(static_cast<size_t>(k * n));
  weightScales.reset(DType::F16, {n});
  for (int64_t c = 0; c < n; ++c) {
    float colMax = 0.0f;
    for (int64_t i = 0; i < k; ++i) {
      const float v = std::fabs(roundToDType(DType::F16, w[c * k + i]));
      colMax = std::max(colMax, v); // std::max keeps colMax over a NaN
    }
    colMax *= 1.0f / 128.0f; // quant_range_scale = 1 / 2^(bits - 1)
    weightScales.setFloat(c, colMax);
    for (int64_t i = 0; i < k; ++i) {
      const float scaled =
          std::round(roundToDType(DType::F16, w[c * k + i]) / colMax);
      // FasterTransformer clips with std::max(-128.f, std::min(127.f, x)),
      // whose argument order sends NaN (0 / 0 in an all-zero column) to 127.
      const float upper = std::min(127.0f, scaled);
      const float clipped = std::max(-128.0f, upper);
      q[static_cast<size_t>(i * n + c)] = static_cast<int8_t>(clipped);
    }
  }
  std::vector<int8_t> stored;
  if (!preprocessEetqWeight(q.data(), k, n, stored, error))
    return false;
  weight.reset(DType::I8, {k, n});
  for (int64_t i = 0; i < k * n; ++i)
    weight.setBits(i, static_cast<uint8_t>(stored[static_cast<size_t>(i)]));
  return true;
}

} // namespace hfq::kernels
