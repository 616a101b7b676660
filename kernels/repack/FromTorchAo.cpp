//===- FromTorchAo.cpp - torchao checkpoint tensors to QuantWeight --------===//
//
// The weight-only layouts of kernels/ref/TorchAo.cpp, with its args checks
// (torchaoParams): Int4WeightOnly tile_packed_to_4d (tinygemm) and plain,
// w = (q - 8) * s + z = q * s + (z - 8s) (Offset), and Int8WeightOnly per
// row or per tensor, w = (v - zp) * s: Symmetric when every zero point is 0
// (what from_hp writes), Integer otherwise. The activation-quantized and
// float8 formats have no integer weight-only kernel layout.
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/Converters.h"

#include "kernels/ref/TorchAo.h"

namespace hfq::kernels::repack {

namespace {

/// Int4TilePackedTo4dTensor: codes [Np, Kp] with Np = ceil(N / 8) * 8 and
/// Kp = ceil(K / 1024) * 1024, scale_and_zero bf16 [Kp / g, Np, 2].
bool fromTinygemm(const TorchaoParams &a, const std::vector<TensorView> &packed,
                  int64_t n, int64_t k, QuantWeight &out, std::string &error) {
  const int64_t g = a.groupSize;
  if (g != 32 && g != 64 && g != 128 && g != 256) {
    error = "tinygemm int4 group_size must be 32, 64, 128 or 256, got " +
            std::to_string(g);
    return false;
  }
  const int64_t np = ceilDiv(n, 8) * 8, kp = ceilDiv(k, 1024) * 1024;
  std::vector<uint8_t> codes;
  if (!unpackTinygemmInt4(packed[0], np, kp, codes, error) ||
      !expectView(packed[1], "_weight_scale_and_zero", DType::BF16,
                  {kp / g, np, 2}, error))
    return false;
  if (!wholeGroups(k, g, error,
                   "the tinygemm layout pads the last group with zeros, the "
                   "W4A16 kernels' groups are whole"))
    return false;
  allocate(out, 4, n, k, g, ZeroKind::Offset);
  for (int64_t gi = 0; gi < out.groups(); ++gi)
    for (int64_t row = 0; row < n; ++row) {
      const int64_t at = (gi * np + row) * 2;
      const float s = packed[1].at(at), z = packed[1].at(at + 1);
      out.scale[static_cast<size_t>(gi * n + row)] = s;
      out.zero[static_cast<size_t>(gi * n + row)] = z - 8.0f * s;
    }
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col)
      out.q[static_cast<size_t>(row * k + col)] =
          codes[static_cast<size_t>(row * kp + col)];
  return true;
}

/// Int4Tensor: signed nibbles v, w = v * s + zp; q = v + 8 = nibble ^ 8.
bool fromInt4Plain(const TorchaoParams &a,
                   const std::vector<TensorView> &packed, int64_t n, int64_t k,
                   QuantWeight &out, std::string &error) {
  const int64_t g = a.groupSize;
  if (k % 2 != 0 || k % g != 0) {
    error = "torchao int4 needs K (" + std::to_string(k) +
            ") even and a multiple of group_size (" + std::to_string(g) + ")";
    return false;
  }
  const int64_t groups = k / g;
  const TensorView &qdata = packed[0], &scale = packed[1],
                   &zeroPoint = packed[2];
  if (!expectView(qdata, "_weight_qdata", DType::I8, {n, k / 2}, error) ||
      !expectFloatView(scale, "_weight_scale", {groups, n}, error) ||
      !expectFloatView(zeroPoint, "_weight_zero_point", {groups, n}, error))
    return false;
  allocate(out, 4, n, k, g, ZeroKind::Offset);
  for (int64_t i = 0; i < groups * n; ++i) {
    const float s = scale.at(i);
    out.scale[static_cast<size_t>(i)] = s;
    out.zero[static_cast<size_t>(i)] = zeroPoint.at(i) - 8.0f * s;
  }
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      const uint32_t byte = qdata.bits(row * (k / 2) + col / 2);
      const uint32_t nibble = col % 2 == 0 ? byte & 0xf : (byte >> 4) & 0xf;
      out.q[static_cast<size_t>(row * k + col)] =
          static_cast<uint8_t>(nibble ^ 8u);
    }
  return true;
}

/// Int8WeightOnlyConfig: w = (v - zp) * s per row, or per tensor (scale and
/// zero point [1, 1]); with q = v + 128 the zero code is zp + 128.
bool fromInt8(const std::vector<TensorView> &packed, int64_t n, int64_t k,
              QuantWeight &out, std::string &error) {
  const TensorView &scale = packed[1], &zeroPoint = packed[2];
  bool perTensor = false;
  if (!checkTorchaoInt8(packed[0], scale, zeroPoint, n, k, perTensor, error))
    return false;
  bool symmetric = true;
  for (int64_t i = 0; i < zeroPoint.numel(); ++i)
    symmetric = symmetric && zeroPoint.integer(i) == 0;
  allocate(out, 8, n, k, k,
           symmetric ? ZeroKind::Symmetric : ZeroKind::Integer);
  for (int64_t row = 0; row < n; ++row) {
    const int64_t p = perTensor ? 0 : row;
    out.scale[static_cast<size_t>(row)] = scale.at(p);
    if (!symmetric)
      out.zero[static_cast<size_t>(row)] =
          static_cast<float>(zeroPoint.integer(p) + 128);
  }
  for (int64_t i = 0; i < n * k; ++i)
    out.q[static_cast<size_t>(i)] = int8Code(packed[0], i);
  return true;
}

} // namespace

bool fromTorchao(const TorchaoArgs &args, const std::vector<TensorView> &packed,
                 int64_t n, int64_t k, QuantWeight &out, std::string &error) {
  TorchaoParams a;
  if (!torchaoParams(args, packed.size(), a, error))
    return false;
  switch (a.format) {
  case 1:
    return fromTinygemm(a, packed, n, k, out, error);
  case 2:
    return fromInt4Plain(a, packed, n, k, out, error);
  case 3:
    return fromInt8(packed, n, k, out, error);
  case 4:
    error = "Int8DynamicActivationInt8WeightConfig quantizes activations; it "
            "has no integer weight-only kernel layout";
    return false;
  default:
    error = "torchao float8 weights (format " + std::to_string(a.format) +
            ") have no integer weight-only kernel layout";
    return false;
  }
}

} // namespace hfq::kernels::repack
