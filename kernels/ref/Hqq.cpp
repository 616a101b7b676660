//===- Hqq.cpp - HQQ reference (de)quantizers -----------------------------===//
//
// Written from hqq's BitPack (pack_*/unpack_*) and Quantizer.quantize /
// Quantizer.dequantize.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Hqq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace hfq::kernels {

namespace {

// One of hqq's bit packings: `planes` grouped-row planes per packed row,
// plane p at bit offset shiftOf(p), `bits` wide, in a `wordSize`-byte word.
struct Packing {
  int bits;
  int planes;
  int wordSize; // 1 (ui8) or 4 (i32)
  const char *name;

  int shiftOf(int plane) const {
    // Every hqq packing puts plane 0 in the highest used field.
    return (planes - 1 - plane) * bits;
  }
  /// Packed rows for `rows` grouped rows (3-bit pads to a multiple of 10;
  /// the others require exact division, checked by the caller).
  int64_t packedRows(int64_t rows) const { return ceilDiv(rows, planes); }
};

bool packingFor(int nbits, Packing &p, std::string &error) {
  switch (nbits) {
  case 8:
  case 6:
  case 5:
    p = {8, 1, 1, "8bit_u8"};
    return true;
  case 4:
    p = {4, 2, 1, "4bit_u8"};
    return true;
  case 3:
    p = {3, 10, 4, "3bit_32"};
    return true;
  case 2:
    p = {2, 4, 1, "2bit_u8"};
    return true;
  case 1:
    p = {1, 8, 1, "1bit_u8"};
    return true;
  default:
    error = "HQQ nbits=" + std::to_string(nbits) +
            " is not supported (1, 2, 3, 4, 5, 6 or 8)";
    return false;
  }
}

bool checkPlaneRows(const Packing &p, int64_t rows, std::string &error) {
  // hqq's pack_{4,2,1}bit_u8 slice the rows into equal planes (len // planes)
  // and fail on a remainder; pack_3bit_32 zero-pads instead.
  if (p.wordSize == 1 && p.planes > 1 && rows % p.planes != 0) {
    error = "the grouped row count (" + std::to_string(rows) +
            ") must be a multiple of " + std::to_string(p.planes) +
            " for HQQ " + p.name + " packing";
    return false;
  }
  return true;
}

} // namespace

bool hqqGroupedShape(int64_t n, int64_t k, int64_t groupSize, int axis,
                     int64_t &rows, int64_t &cols, std::string &error) {
  if (!checkMatrixShape("HQQ", n, k, error))
    return false;
  if (axis != 0 && axis != 1) {
    error = "HQQ axis must be 0 or 1, got " + std::to_string(axis);
    return false;
  }
  if (groupSize == 0) {
    rows = n;
    cols = k;
    return true;
  }
  if (groupSize < 0 || (n * k) % groupSize != 0) {
    error = "N*K (" + std::to_string(n * k) +
            ") must be a multiple of group_size (" + std::to_string(groupSize) +
            ") for HQQ grouping";
    return false;
  }
  rows = axis == 1 ? n * k / groupSize : groupSize;
  cols = axis == 1 ? groupSize : n * k / groupSize;
  return true;
}

bool unpackHqq(const TensorView &wq, int nbits, int64_t rows, int64_t cols,
               std::vector<uint8_t> &q, std::string &error) {
  Packing p;
  if (!packingFor(nbits, p, error) || !checkPlaneRows(p, rows, error))
    return false;
  const int64_t packedRows = p.packedRows(rows);
  const DType native = p.wordSize == 4 ? DType::I32 : DType::U8;
  if (wq.dtype == native) {
    if (!expectView(wq, "W_q", native, {packedRows, cols}, error))
      return false;
  } else if (isFloatDType(wq.dtype)) {
    // view_as_float: the packed bytes reinterpreted as a float dtype.
    const int64_t rowBytes = cols * p.wordSize;
    const int64_t size = static_cast<int64_t>(dtypeSize(wq.dtype));
    if (rowBytes % size != 0) {
      error = "W_q stored as " + std::string(dtypeName(wq.dtype)) +
              " (view_as_float) needs a packed row of " +
              std::to_string(rowBytes) + " bytes to be a multiple of " +
              std::to_string(size);
      return false;
    }
    if (!expectView(wq, "W_q", wq.dtype, {packedRows, rowBytes / size}, error))
      return false;
  } else {
    error = std::string("W_q must be ") + dtypeName(native) +
            " (or a float view of it), got " + dtypeName(wq.dtype);
    return false;
  }

  const auto *bytes = static_cast<const uint8_t *>(wq.data);
  const uint32_t mask = (1u << p.bits) - 1;
  const uint32_t maxCode = (1u << nbits) - 1;
  const int64_t step = packedRows;
  q.assign(static_cast<size_t>(rows * cols), 0);
  for (int64_t r = 0; r < rows; ++r) {
    const int plane = static_cast<int>(r / step);
    const int64_t pr = r % step;
    for (int64_t c = 0; c < cols; ++c) {
      uint32_t word = 0;
      std::memcpy(&word, bytes + (pr * cols + c) * p.wordSize, p.wordSize);
      const uint32_t code = (word >> p.shiftOf(plane)) & mask;
      if (code > maxCode) {
        // Only possible for 5/6-bit values stored in 8-bit bytes.
        error = "W_q value " + std::to_string(code) + " at [" +
                std::to_string(pr) + ", " + std::to_string(c) +
                "] exceeds the " + std::to_string(nbits) + "-bit range";
        return false;
      }
      q[r * cols + c] = static_cast<uint8_t>(code);
    }
  }
  return true;
}

bool readHqq(const TensorView &wq, const TensorView &scale,
             const TensorView &zero, int nbits, int64_t n, int64_t k,
             int64_t groupSize, int axis, HqqGrouped &out, std::string &error) {
  if (!hqqGroupedShape(n, k, groupSize, axis, out.rows, out.cols, error))
    return false;
  const std::vector<int64_t> metaShape =
      axis == 1 ? std::vector<int64_t>{out.rows, 1}
                : std::vector<int64_t>{1, out.cols};
  return unpackHqq(wq, nbits, out.rows, out.cols, out.codes, error) &&
         expectFloatView(scale, "scale", metaShape, error) &&
         expectFloatView(zero, "zero", metaShape, error);
}

bool dequantizeHqq(const TensorView &wq, const TensorView &scale,
                   const TensorView &zero, int nbits, int64_t n, int64_t k,
                   int64_t groupSize, int axis, std::vector<float> &w,
                   std::string &error) {
  HqqGrouped grouped;
  if (!readHqq(wq, scale, zero, nbits, n, k, groupSize, axis, grouped, error))
    return false;
  const int64_t rows = grouped.rows, cols = grouped.cols;
  const std::vector<uint8_t> &q = grouped.codes;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t m = axis == 1 ? r : c;
      const float diff = static_cast<float>(q[r * cols + c]) - zero.at(m);
      w[r * cols + c] = diff * scale.at(m);
    }
  return true;
}

// hqq's default optimizer (hqq/core/optimize.py
// `optimize_weights_proximal_legacy`, which Quantizer.optimize_weights is
// bound to through `optimize_weights_proximal`), on its CPU path: every
// tensor in float32, default opt_params lp_norm 0.7, beta 10, iters 20,
// early stopping on the mean |W - W_r| over the whole tensor. Only `zero`
// moves; `scale` (the quantize multiplier, not yet inverted) is unchanged.
// Each iteration, for all groups at once:
//   W_q = clamp(round(W*scale + zero), 0, max);  W_r = (W_q - zero) / scale
//   W_e = shrink_lp(W - W_r);  zero' = mean_group(W_q - (W - W_e) * scale)
//   err = mean(|W - W_r|);  zero = zero';  stop unless err < best (the
//   zero' of the failing iteration is kept, as hqq does).
// shrink_lp(x) = sign(x) * max(|x| - (1/beta) * |x|^(lp_norm-1), 0).
// beta stays 10 throughout: hqq >= 0.2.7 no longer multiplies it by kappa
// each iteration (0.2.1 .. 0.2.6 did). Sums are accumulated in double.
template <typename At>
static void optimizeHqqZeros(const float *w, int64_t groups, int64_t perGroup,
                             At at, float maxV, const std::vector<float> &scales,
                             std::vector<float> &zeros) {
  const float invBeta = 0.1f;     // 1.0 / beta, as an f32 scalar operand
  const float exponent = -0.3f;   // lp_norm - 1
  const int iters = 20;
  float best = std::numeric_limits<float>::infinity();
  std::vector<float> next(zeros.size());
  const double count = static_cast<double>(groups) * perGroup;
  for (int it = 0; it < iters; ++it) {
    double errSum = 0.0;
    for (int64_t gi = 0; gi < groups; ++gi) {
      const float scale = scales[gi], zero = zeros[gi];
      double termSum = 0.0;
      for (int64_t j = 0; j < perGroup; ++j) {
        const float wf = w[at(gi, j)];
        const float scaled = wf * scale;
        const float q = clampCode(std::nearbyint(scaled + zero), 0.0f, maxV);
        const float wr = (q - zero) / scale;
        const float d = wf - wr;
        float a = std::fabs(d);
        const float shrinkBy = invBeta * std::pow(a, exponent);
        a = std::max(a - shrinkBy, 0.0f);
        const float sign = d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f);
        const float we = a * sign;
        const float target = wf - we; // separate statements: no FMA
        const float targetScaled = target * scale;
        const float term = q - targetScaled;
        termSum += term;
        errSum += std::fabs(wf - wr);
      }
      next[gi] = static_cast<float>(termSum / static_cast<double>(perGroup));
    }
    const float err = static_cast<float>(errSum / count);
    zeros = next;
    if (err < best)
      best = err;
    else
      break;
  }
}

bool quantizeHqq(const float *w, int64_t n, int64_t k, int nbits,
                 int64_t groupSize, int axis, DType computeDtype,
                 HqqQuantized &out, std::string &error, bool roundZero,
                 bool optimize) {
  int64_t rows, cols;
  Packing p;
  if (!hqqGroupedShape(n, k, groupSize, axis, rows, cols, error) ||
      !packingFor(nbits, p, error) || !checkPlaneRows(p, rows, error))
    return false;
  if (!checkFinite(w, n * k, "HQQ: weight", error))
    return false;
  if (!isFloatDType(computeDtype)) {
    error = std::string("HQQ compute dtype must be f16, bf16 or f32, got ") +
            dtypeName(computeDtype);
    return false;
  }
  const int64_t groups = axis == 1 ? rows : cols;
  const int64_t perGroup = axis == 1 ? cols : rows;
  const float maxV = static_cast<float>((1 << nbits) - 1);
  const int64_t step = p.packedRows(rows);
  out = HqqQuantized();
  out.wq.reset(p.wordSize == 4 ? DType::I32 : DType::U8, {step, cols});
  const std::vector<int64_t> metaShape =
      axis == 1 ? std::vector<int64_t>{rows, 1} : std::vector<int64_t>{1, cols};
  out.scale.reset(computeDtype, metaShape);
  out.zero.reset(computeDtype, metaShape);

  // Flat index of the j-th member of group gi in the grouped matrix.
  auto at = [&](int64_t gi, int64_t j) {
    return axis == 1 ? gi * cols + j : j * cols + gi;
  };
  // Min-max start: `scale` is the quantize multiplier (inverted on storing).
  std::vector<float> scales(static_cast<size_t>(groups));
  std::vector<float> zeros(static_cast<size_t>(groups));
  for (int64_t gi = 0; gi < groups; ++gi) {
    float lo = w[at(gi, 0)], hi = w[at(gi, 0)];
    for (int64_t j = 1; j < perGroup; ++j) {
      lo = std::min(lo, w[at(gi, j)]);
      hi = std::max(hi, w[at(gi, j)]);
    }
    const float denom = hi - lo;
    float scale = maxV / denom;
    if (std::fabs(denom) <= 1e-4f) // also catches denom == 0 (scale = inf)
      scale = 1.0f;
    scale = std::min(scale, 2e4f);
    float zero = -lo * scale;
    if (roundZero)
      zero = std::nearbyint(zero);
    scales[gi] = scale;
    zeros[gi] = zero;
  }
  if (optimize)
    optimizeHqqZeros(w, groups, perGroup, at, maxV, scales, zeros);

  for (int64_t gi = 0; gi < groups; ++gi) {
    const float scale = scales[gi], zero = zeros[gi];
    for (int64_t j = 0; j < perGroup; ++j) {
      // Two separately rounded f32 ops, as torch evaluates W*scale + zero.
      const float scaled = w[at(gi, j)] * scale;
      const float shifted = scaled + zero;
      const float code = clampCode(std::nearbyint(shifted), 0.0f, maxV);
      const int64_t flat = at(gi, j);
      const int64_t r = flat / cols, c = flat % cols;
      const int64_t word = (r % step) * cols + c;
      uint32_t v = out.wq.bitsAt(word);
      v |= static_cast<uint32_t>(code) << p.shiftOf(static_cast<int>(r / step));
      out.wq.setBits(word, v);
    }
    out.scale.setFloat(gi, 1.0f / scale);
    out.zero.setFloat(gi, zero);
  }
  return true;
}

} // namespace hfq::kernels
