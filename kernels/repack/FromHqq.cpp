//===- FromHqq.cpp - HQQ checkpoint tensors to QuantWeight ----------------===//
//
// The axis = 1 layouts of kernels/ref/Hqq.cpp with 4-bit codes (bits 4) or
// 8-, 6- and 5-bit ones (stored one per byte, as 8-bit ones: the 8-bit
// kernel serves them unchanged), read with the reference's checks
// (hqqParams, readHqq). hqq computes w = (q - zero) * s; the kernels
// compute q * s + zero' with zero' = -zero * s, equal up to float rounding
// (FromCheckpoint.cpp).
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/Converters.h"

#include "kernels/ref/Hqq.h"

namespace hfq::kernels::repack {

bool fromHqq(const HqqArgs &args, const std::vector<TensorView> &packed,
             int64_t n, int64_t k, QuantWeight &out, std::string &error) {
  HqqParams p;
  if (!hqqParams(args, p, error))
    return false;
  if (p.ternary) {
    error = genericOnly("HQQ nbits=1.58");
    return false;
  }
  if (!expectLayoutTensors<HqqArgs>(packed, error))
    return false;
  if (p.nbits < 4) {
    error = genericOnly("HQQ nbits=" + std::to_string(p.nbits));
    return false;
  }
  if (p.axis != 1) {
    error = "HQQ axis=0 groups along N (one scale per group of a column); "
            "the kernels' groups run along K (axis=1)";
    return false;
  }
  HqqGrouped grouped;
  const TensorView &scale = packed[1], &zero = packed[2];
  if (!readHqq(packed[0], scale, zero, p.nbits, n, k, p.groupSize, 1, grouped,
               error))
    return false;
  const int64_t g = p.groupSize == 0 ? k : p.groupSize;
  if (k % g != 0) {
    error = "HQQ group_size (" + std::to_string(g) + ") must divide K (" +
            std::to_string(k) +
            ") for the repacked layout: otherwise an axis=1 group straddles "
            "two output rows";
    return false;
  }

  allocate(out, p.nbits == 4 ? 4 : 8, n, k, g, ZeroKind::Offset);
  // Grouped element (r, c) is W's flat element r * g + c: the codes are
  // already W[n][k] row-major, and grouped row r is (n, group) with
  // r = n * (K / g) + group.
  out.q = std::move(grouped.codes);
  const int64_t perRow = k / g;
  for (int64_t row = 0; row < n; ++row)
    for (int64_t gi = 0; gi < perRow; ++gi) {
      const int64_t m = row * perRow + gi;
      const size_t at = static_cast<size_t>(gi * n + row);
      const float s = scale.at(m);
      out.scale[at] = s;
      out.zero[at] = -(zero.at(m) * s);
    }
  return true;
}

} // namespace hfq::kernels::repack
