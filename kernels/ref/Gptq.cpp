//===- Gptq.cpp - GPTQ checkpoint reference -------------------------------===//

#include "kernels/ref/Gptq.h"

#include <algorithm>
#include <cmath>

namespace hfq::kernels {

uint32_t gptqUnpackField(const TensorView &words, int64_t first, int64_t stride,
                         int bits, int64_t i) {
  // One bit stream for every width: value i starts at bit b*i. For 3 bits
  // this is exactly AutoGPTQ's three-word scheme (values 0-9 in word 0,
  // value 10 split 2+1 bits across words 0/1, 11-20 at bits 1.., value 21
  // split 1+2 bits across words 1/2, 22-31 at bits 2..), since 32 values
  // fill 96 bits.
  const int64_t bit = int64_t(bits) * i;
  const int64_t word = bit / 32;
  const int shift = static_cast<int>(bit % 32);
  const uint32_t mask = (uint32_t(1) << bits) - 1;
  uint32_t v = words.bits(first + word * stride) >> shift;
  if (shift + bits > 32)
    v |= words.bits(first + (word + 1) * stride) << (32 - shift);
  return v & mask;
}

/// Ors `value` into field `i` of the bit stream (the inverse of
/// gptqUnpackField) in a zero-initialised StoredTensor of i32 words.
static void packField(std::vector<uint32_t> &words, int64_t first,
                      int64_t stride, int bits, int64_t i, uint32_t value) {
  const int64_t bit = int64_t(bits) * i;
  const int64_t word = bit / 32;
  const int shift = static_cast<int>(bit % 32);
  words[static_cast<size_t>(first + word * stride)] |= value << shift;
  if (shift + bits > 32)
    words[static_cast<size_t>(first + (word + 1) * stride)] |=
        value >> (32 - shift);
}

bool checkGptqParams(int64_t n, int64_t k, const GptqParams &p, int64_t &g,
                     int64_t &groups, std::string &error) {
  if (!checkMatrixShape("GPTQ", n, k, error))
    return false;
  if (p.bits != 2 && p.bits != 3 && p.bits != 4 && p.bits != 8) {
    error = "GPTQ bits must be 2, 3, 4 or 8, got " + std::to_string(p.bits);
    return false;
  }
  if (p.groupSize != -1 && p.groupSize < 1) {
    error = "GPTQ group_size must be positive or -1, got " +
            std::to_string(p.groupSize);
    return false;
  }
  g = p.groupSize == -1 ? k : p.groupSize;
  groups = ceilDiv(k, g);
  const int64_t pack = p.bits == 3 ? 32 : 32 / p.bits;
  if (k % pack != 0) {
    error = "K (" + std::to_string(k) + ") must be a multiple of " +
            std::to_string(pack) + " to pack " + std::to_string(p.bits) +
            "-bit GPTQ weights into int32 words";
    return false;
  }
  if (n % pack != 0) {
    error = "N (" + std::to_string(n) + ") must be a multiple of " +
            std::to_string(pack) + " to pack " + std::to_string(p.bits) +
            "-bit GPTQ zero points into int32 words";
    return false;
  }
  return true;
}

bool checkGptqTensors(const TensorView &qweight, const TensorView &qzeros,
                      const TensorView &scales, const TensorView &gIdx,
                      int64_t n, int64_t k, const GptqParams &p, int64_t groups,
                      std::string &error) {
  if (!expectView(qweight, "qweight", DType::I32, {k * p.bits / 32, n},
                  error) ||
      !expectView(qzeros, "qzeros", DType::I32, {groups, n * p.bits / 32},
                  error) ||
      !expectView(scales, "scales", DType::F16, {groups, n}, error))
    return false;
  if (!gptqHasGIdx(gIdx))
    return true;
  if (!expectView(gIdx, "g_idx", DType::I32, {k}, error))
    return false;
  for (int64_t i = 0; i < k; ++i) {
    int32_t gi = static_cast<int32_t>(gIdx.bits(i));
    if (gi < 0 || gi >= groups) {
      error = "g_idx[" + std::to_string(i) + "] = " + std::to_string(gi) +
              " is outside [0, " + std::to_string(groups) + ")";
      return false;
    }
  }
  return true;
}

bool dequantizeGptq(const TensorView &qweight, const TensorView &qzeros,
                    const TensorView &scales, const TensorView &gIdx, int64_t n,
                    int64_t k, const GptqParams &p, std::vector<float> &w,
                    std::string &error) {
  int64_t g = 0, groups = 0;
  if (!checkGptqParams(n, k, p, g, groups, error) ||
      !checkGptqTensors(qweight, qzeros, scales, gIdx, n, k, p, groups, error))
    return false;
  const bool hasGIdx = gptqHasGIdx(gIdx);

  // Zero points once per (group, column): z = field (+ 1 for v1, no wrap).
  std::vector<int32_t> zero(static_cast<size_t>(groups * n));
  const int64_t zeroWords = n * p.bits / 32;
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t c = 0; c < n; ++c)
      zero[static_cast<size_t>(gi * n + c)] =
          static_cast<int32_t>(
              gptqUnpackField(qzeros, gi * zeroWords, 1, p.bits, c)) +
          (p.zeroStoredMinusOne ? 1 : 0);

  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t gi = hasGIdx ? static_cast<int32_t>(gIdx.bits(i)) : i / g;
    for (int64_t c = 0; c < n; ++c) {
      // Column c of qweight is one bit stream along K (word stride N).
      const int32_t q =
          static_cast<int32_t>(gptqUnpackField(qweight, c, n, p.bits, i));
      const float s = scales.at(gi * n + c);
      w[static_cast<size_t>(c * k + i)] =
          s * static_cast<float>(q - zero[static_cast<size_t>(gi * n + c)]);
    }
  }
  return true;
}

bool quantizeGptqRtn(const float *w, int64_t n, int64_t k, const GptqParams &p,
                     bool sym, GptqQuantized &out, std::string &error) {
  int64_t g = 0, groups = 0;
  if (!checkGptqParams(n, k, p, g, groups, error))
    return false;
  if (w == nullptr) {
    error = "GPTQ: the weight has no data";
    return false;
  }
  for (int64_t i = 0; i < n * k; ++i)
    if (!std::isfinite(w[i])) {
      error = "GPTQ: weight element " + std::to_string(i) + " is not finite";
      return false;
    }
  const int32_t maxq = (1 << p.bits) - 1;
  const uint32_t mask = static_cast<uint32_t>(maxq);
  std::vector<uint32_t> qweight(static_cast<size_t>(k * p.bits / 32 * n), 0);
  std::vector<uint32_t> qzeros(static_cast<size_t>(groups * n * p.bits / 32),
                               0);
  out.scales.reset(DType::F16, {groups, n});
  out.gIdx.reset(DType::I32, {k});
  for (int64_t i = 0; i < k; ++i)
    out.gIdx.setBits(i, static_cast<uint32_t>(i / g));

  const int64_t zeroWords = n * p.bits / 32;
  for (int64_t gi = 0; gi < groups; ++gi) {
    const int64_t begin = gi * g, end = std::min(k, begin + g);
    for (int64_t c = 0; c < n; ++c) {
      // GPTQ's Quantizer.find_params (perchannel, per group).
      float xmin = 0.0f, xmax = 0.0f;
      for (int64_t i = begin; i < end; ++i) {
        xmin = std::min(xmin, w[c * k + i]);
        xmax = std::max(xmax, w[c * k + i]);
      }
      if (sym) {
        xmax = std::max(std::fabs(xmin), xmax);
        if (xmin < 0)
          xmin = -xmax;
      }
      if (xmin == 0.0f && xmax == 0.0f) {
        xmin = -1.0f;
        xmax = 1.0f;
      }
      const float scale = (xmax - xmin) / static_cast<float>(maxq);
      const int32_t z =
          sym ? (maxq + 1) / 2
              : static_cast<int32_t>(std::nearbyint(-xmin / scale));
      out.scales.setFloat(gi * n + c, scale);
      const float s16 = roundToDType(DType::F16, scale);
      const uint32_t stored =
          static_cast<uint32_t>(p.zeroStoredMinusOne ? z - 1 : z) & mask;
      packField(qzeros, gi * zeroWords, 1, p.bits, c, stored);
      for (int64_t i = begin; i < end; ++i) {
        float r = std::nearbyint(w[c * k + i] / s16);
        float q = std::min(static_cast<float>(maxq),
                           std::max(0.0f, r + static_cast<float>(z)));
        packField(qweight, c, n, p.bits, i, static_cast<uint32_t>(q));
      }
    }
  }
  out.qweight.reset(DType::I32, {k * p.bits / 32, n});
  for (size_t i = 0; i < qweight.size(); ++i)
    out.qweight.setBits(static_cast<int64_t>(i), qweight[i]);
  out.qzeros.reset(DType::I32, {groups, n * p.bits / 32});
  for (size_t i = 0; i < qzeros.size(); ++i)
    out.qzeros.setBits(static_cast<int64_t>(i), qzeros[i]);
  return true;
}

} // namespace hfq::kernels
