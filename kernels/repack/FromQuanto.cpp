//===- FromQuanto.cpp - optimum-quanto checkpoint tensors to QuantWeight --===//
//
// The layouts of kernels/ref/Quanto.cpp with their checks (quantoParams,
// checkQuantoTable, checkQuantoBits): qint8, w = _data * _scale per output
// row (Symmetric), and qint4, grouped rows r = n * (K / g) + group of g
// codes in two planes of R' rows, the first in the low nibble, with a float
// shift (w = s*q - shift = q*s + (-shift): Offset) or an integer one
// (w = s * (q - shift): Integer). float8 and int2 have no kernel layout.
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/Converters.h"

#include "kernels/ref/Quanto.h"

namespace hfq::kernels::repack {

namespace {

bool fromQint8(const std::vector<TensorView> &packed, int64_t n, int64_t k,
               QuantWeight &out, std::string &error) {
  if (!expectView(packed[0], "weight._data", DType::I8, {n, k}, error) ||
      !expectFloatView(packed[1], "weight._scale", {n, 1}, error))
    return false;
  allocate(out, 8, n, k, k, ZeroKind::Symmetric);
  for (int64_t row = 0; row < n; ++row)
    out.scale[static_cast<size_t>(row)] = packed[1].at(row);
  for (int64_t i = 0; i < n * k; ++i)
    out.q[static_cast<size_t>(i)] = int8Code(packed[0], i);
  return true;
}

bool fromQint4(const QuantoParams &p, const std::vector<TensorView> &packed,
               int64_t n, int64_t k, QuantWeight &out, std::string &error) {
  const TensorView &data = packed[0], &scale = packed[1], &shift = packed[2];
  const int64_t g = p.groupSize;
  QuantoGroups groups;
  if (!checkQuantoBits(data, scale, shift, 4, n, k, g, groups, error))
    return false;
  allocate(out, 4, n, k, g,
           groups.intShift ? ZeroKind::Integer : ZeroKind::Offset);
  const int64_t perRow = k / g;
  for (int64_t r = 0; r < groups.rows; ++r) {
    const size_t at = static_cast<size_t>((r % perRow) * n + r / perRow);
    out.scale[at] = scale.at(r);
    out.zero[at] = groups.intShift ? shift.at(r) : -shift.at(r);
    const int64_t packedRow = r % groups.planeRows;
    const int shiftBits = static_cast<int>(4 * (r / groups.planeRows));
    for (int64_t c = 0; c < g; ++c)
      out.q[static_cast<size_t>(r * g + c)] = static_cast<uint8_t>(
          (data.bits(packedRow * g + c) >> shiftBits) & 0xfu);
  }
  return true;
}

} // namespace

bool fromQuanto(const QuantoArgs &args, const std::vector<TensorView> &packed,
                int64_t n, int64_t k, QuantWeight &out, std::string &error) {
  QuantoParams p;
  if (!quantoParams(args, p, error))
    return false;
  if (p.weights == QuantoWeights::Float8) {
    error = "quanto float8 weights have no integer weight-only kernel layout";
    return false;
  }
  if (p.weights == QuantoWeights::Int2) {
    error = genericOnly("quanto int2");
    return false;
  }
  if (!checkQuantoTable(p, packed, error))
    return false;
  return p.bits == 8 ? fromQint8(packed, n, k, out, error)
                     : fromQint4(p, packed, n, k, out, error);
}

} // namespace hfq::kernels::repack
