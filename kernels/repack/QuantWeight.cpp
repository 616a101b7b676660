//===- QuantWeight.cpp - Integer weights in one canonical form ------------===//
//
// The formulas of QuantWeight.h, evaluated in float exactly as written there:
// (q - zero) * scale for Integer / Symmetric, q * scale + zero for Offset
// (product then sum, two statements, so that no compiler contracts them into
// an fma on one target and not on another).
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/QuantWeight.h"

#include <cmath>

namespace hfq::kernels {

float QuantWeight::weight(int64_t nn, int64_t kk) const {
  const int64_t at = groupOf(kk) * n + nn;
  const float code = static_cast<float>(q[static_cast<size_t>(nn * k + kk)]);
  const float s = scale[static_cast<size_t>(at)];
  switch (zeroKind) {
  case ZeroKind::Symmetric:
    return (code - static_cast<float>(1 << (bits - 1))) * s;
  case ZeroKind::Integer:
    return (code - zero[static_cast<size_t>(at)]) * s;
  case ZeroKind::Offset: {
    const float product = code * s;
    return product + zero[static_cast<size_t>(at)];
  }
  }
  return 0.0f;
}

static const char *zeroKindName(ZeroKind kind) {
  switch (kind) {
  case ZeroKind::Symmetric:
    return "Symmetric";
  case ZeroKind::Integer:
    return "Integer";
  case ZeroKind::Offset:
    return "Offset";
  }
  return "?";
}

/// "[g][n]" of the flat index `i` of a [groups, n] parameter.
static std::string paramAt(size_t i, int64_t n) {
  const int64_t at = static_cast<int64_t>(i);
  return "[" + std::to_string(at / n) + "][" + std::to_string(at % n) + "]";
}

bool QuantWeight::verify(std::string &error) const {
  if (bits < 2 || bits > 8) {
    error = "QuantWeight: bits must be in [2, 8], got " + std::to_string(bits);
    return false;
  }
  constexpr int64_t kLimit = int64_t(1) << 31;
  if (n < 1 || k < 1 || n >= kLimit || k >= kLimit) {
    error = "QuantWeight: n and k must be in [1, 2^31), got n=" +
            std::to_string(n) + ", k=" + std::to_string(k);
    return false;
  }
  if (groupSize < 1 || k % groupSize != 0) {
    error = "QuantWeight: groupSize (" + std::to_string(groupSize) +
            ") must be positive and divide k (" + std::to_string(k) + ")";
    return false;
  }
  if (zeroKind != ZeroKind::Symmetric && zeroKind != ZeroKind::Integer &&
      zeroKind != ZeroKind::Offset) {
    error = "QuantWeight: unknown zeroKind";
    return false;
  }
  const int64_t groupCount = groups();
  const size_t params = static_cast<size_t>(groupCount * n);
  if (q.size() != static_cast<size_t>(n * k)) {
    error = "QuantWeight: q has " + std::to_string(q.size()) +
            " codes, expected n*k = " + std::to_string(n * k);
    return false;
  }
  if (scale.size() != params) {
    error = "QuantWeight: scale has " + std::to_string(scale.size()) +
            " values, expected groups*n = " + std::to_string(params);
    return false;
  }
  const size_t zeros = zeroKind == ZeroKind::Symmetric ? 0 : params;
  if (zero.size() != zeros) {
    error = "QuantWeight: zero has " + std::to_string(zero.size()) +
            " values, expected " + std::to_string(zeros) +
            " for ZeroKind::" + zeroKindName(zeroKind);
    return false;
  }
  if (!gIdx.empty()) {
    if (gIdx.size() != static_cast<size_t>(k)) {
      error = "QuantWeight: gIdx has " + std::to_string(gIdx.size()) +
              " entries, expected k = " + std::to_string(k) + " (or none)";
      return false;
    }
    std::vector<int64_t> members(static_cast<size_t>(groupCount), 0);
    for (int64_t i = 0; i < k; ++i) {
      const int32_t g = gIdx[static_cast<size_t>(i)];
      if (g < 0 || g >= groupCount) {
        error = "QuantWeight: gIdx[" + std::to_string(i) +
                "] = " + std::to_string(g) + " is outside [0, " +
                std::to_string(groupCount) + ")";
        return false;
      }
      ++members[static_cast<size_t>(g)];
    }
    for (int64_t g = 0; g < groupCount; ++g)
      if (members[static_cast<size_t>(g)] != groupSize) {
        error = "QuantWeight: act-order group " + std::to_string(g) + " has " +
                std::to_string(members[static_cast<size_t>(g)]) +
                " input channels in gIdx, expected groupSize = " +
                std::to_string(groupSize) +
                " (sorting K by group must give contiguous groups of "
                "groupSize)";
        return false;
      }
  }
  const unsigned maxCode = (1u << bits) - 1;
  for (size_t i = 0; i < q.size(); ++i)
    if (static_cast<unsigned>(q[i]) > maxCode) {
      error = "QuantWeight: code " + std::to_string(q[i]) + " at [" +
              std::to_string(static_cast<int64_t>(i) / k) + ", " +
              std::to_string(static_cast<int64_t>(i) % k) +
              "] is outside [0, " + std::to_string(maxCode + 1) + ")";
      return false;
    }
  for (size_t i = 0; i < params; ++i)
    if (!std::isfinite(scale[i])) {
      error = "QuantWeight: scale" + paramAt(i, n) + " is not finite";
      return false;
    }
  for (size_t i = 0; i < zeros; ++i) {
    const float z = zero[i];
    if (!std::isfinite(z)) {
      error = "QuantWeight: zero" + paramAt(i, n) + " is not finite";
      return false;
    }
    if (zeroKind == ZeroKind::Integer &&
        (z != std::floor(z) || z < 0.0f || z > static_cast<float>(maxCode))) {
      error = "QuantWeight: Integer zero" + paramAt(i, n) + " = " +
              std::to_string(z) + " is not an integer code in [0, " +
              std::to_string(maxCode + 1) + ")";
      return false;
    }
  }
  return true;
}

std::vector<float> QuantWeight::dequantize() const {
  std::vector<float> w(static_cast<size_t>(n * k));
  for (int64_t nn = 0; nn < n; ++nn)
    for (int64_t kk = 0; kk < k; ++kk)
      w[static_cast<size_t>(nn * k + kk)] = weight(nn, kk);
  return w;
}

} // namespace hfq::kernels
