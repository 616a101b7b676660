//===- FromCheckpoint.cpp - Checkpoint tensors to QuantWeight -------------===//
//
// The dispatch of quantWeightFromCheckpoint and what its converters share
// (Converters.h). One converter per method (From<Method>.cpp), each a
// transcription of the reference dequantizer in kernels/ref (its checks,
// called where the reference exports them, the same bit extraction) that
// stores codes, scales and zeros instead of multiplying them out. The args
// are decoded once, here, by the method's generated decoder.
//
// Exactness against the reference dequantizer (dequantize() == ref):
//  * Integer / Symmetric: (q - z) * s is what the GPTQ, AWQ,
//    compressed-tensors, torchao int8, quanto int8 and EETQ references
//    compute (an exact small integer times the scale, rounded once), so
//    dequantize() is bit-for-bit equal.
//  * bitsandbytes int8: the reference rounds CB * SCB / 127 once from
//    double; here the scale SCB / 127 is rounded to float first, so an
//    element may differ in the last bit (relative 2^-23).
//  * Offset: quanto int4 (s*q - shift) is bit-exact (q*s + (-shift) is the
//    same operation). torchao (tinygemm fma((q-8), s, z); plain (q-8)*s + z)
//    is bit-exact whenever zero' = z - 8s is exact in float, which it is for
//    bf16 scale / zero of similar magnitude. HQQ computes (q - zero) * s with
//    two roundings where q*s + (-zero*s) with 16-bit scale / zero has one
//    (q*s and zero*s are exact), so they agree to a couple of ulps of the
//    result.
//  * An Integer zero outside [0, 2^bits) (GPTQ v1's overflow zero 2^bits,
//    quanto's integer shift) becomes Offset with zero' = -z * s; with 16-bit
//    scales z*s and q*s are exact and the sum is rounded once, as
//    (q - z) * s is, so this too is bit-exact.
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/FromCheckpoint.h"

#include "kernels/repack/Converters.h"

namespace hfq::kernels {

namespace repack {

void allocate(QuantWeight &w, int bits, int64_t n, int64_t k, int64_t groupSize,
              ZeroKind kind) {
  w = QuantWeight();
  w.bits = bits;
  w.n = n;
  w.k = k;
  w.groupSize = groupSize;
  w.zeroKind = kind;
  w.q.assign(static_cast<size_t>(n * k), 0);
  w.scale.assign(static_cast<size_t>(w.groups() * n), 0.0f);
  if (kind != ZeroKind::Symmetric)
    w.zero.assign(static_cast<size_t>(w.groups() * n), 0.0f);
}

void setGIdx(QuantWeight &w, std::vector<int32_t> gIdx) {
  for (int64_t i = 0; i < w.k; ++i)
    if (gIdx[static_cast<size_t>(i)] != i / w.groupSize) {
      w.gIdx = std::move(gIdx);
      return;
    }
}

bool wholeGroups(int64_t k, int64_t g, std::string &error, const char *why) {
  if (k % g == 0)
    return true;
  error = "K (" + std::to_string(k) + ") must be a multiple of group_size (" +
          std::to_string(g) + ") for the repacked layout (" + why + ")";
  return false;
}

std::string genericOnly(const std::string &what) {
  return what + " is served by the generic kernel (the method's reference "
                "kernel) only: the repacked W4A16 / W8A16 kernels take 4- or "
                "8-bit integer codes";
}

} // namespace repack

namespace {

/// Integer zeros: all 2^(bits-1) -> Symmetric; any outside [0, 2^bits) ->
/// Offset with zero' = -z * s (exact for 16-bit scales; see the file
/// comment).
void normalizeZeros(QuantWeight &w) {
  if (w.zeroKind != ZeroKind::Integer)
    return;
  const float mid = static_cast<float>(1 << (w.bits - 1));
  const float maxCode = static_cast<float>((1 << w.bits) - 1);
  bool allMid = true, inRange = true;
  for (float z : w.zero) {
    allMid = allMid && z == mid;
    inRange = inRange && z >= 0.0f && z <= maxCode;
  }
  if (!inRange) {
    for (size_t i = 0; i < w.zero.size(); ++i)
      w.zero[i] = -(w.zero[i] * w.scale[i]);
    w.zeroKind = ZeroKind::Offset;
  } else if (allMid) {
    w.zero.clear();
    w.zeroKind = ZeroKind::Symmetric;
  }
}

using DecodingConverter = bool (*)(const std::vector<double> &,
                                   const std::vector<TensorView> &, int64_t,
                                   int64_t, QuantWeight &, std::string &);

/// The method's converter behind its generated args decoder.
template <typename Args, repack::Converter<Args> convert>
bool decodeAndConvert(const std::vector<double> &args,
                      const std::vector<TensorView> &packed, int64_t n,
                      int64_t k, QuantWeight &out, std::string &error) {
  Args decoded;
  return Args::decode(args, decoded, error) &&
         convert(decoded, packed, n, k, out, error);
}

struct MethodConverter {
  const char *key;
  DecodingConverter convert;
};

template <typename Args, repack::Converter<Args> convert>
constexpr MethodConverter converter() {
  return {Args::kMethod, decodeAndConvert<Args, convert>};
}

const MethodConverter kConverters[] = {
    converter<GptqArgs, repack::fromGptq>(),
    converter<AwqArgs, repack::fromAwq>(),
    converter<CompressedTensorsArgs, repack::fromCompressedTensors>(),
    converter<HqqArgs, repack::fromHqq>(),
    converter<TorchaoArgs, repack::fromTorchao>(),
    converter<QuantoArgs, repack::fromQuanto>(),
    converter<EetqArgs, repack::fromEetq>(),
    converter<Bitsandbytes8bitArgs, repack::fromBnb8>(),
};

} // namespace

bool quantWeightFromCheckpoint(const std::string &methodKey,
                               const std::vector<double> &args,
                               const std::vector<TensorView> &packed, int64_t n,
                               int64_t k, QuantWeight &out,
                               std::string &error) {
  for (const MethodConverter &m : kConverters) {
    if (methodKey != m.key)
      continue;
    std::string why;
    if (checkMatrixShape("the weight", n, k, why) &&
        m.convert(args, packed, n, k, out, why)) {
      normalizeZeros(out);
      if (out.verify(why))
        return true;
    }
    error = methodKey + ": " + why;
    out = QuantWeight();
    return false;
  }
  error = "no integer weight-only kernel layout for method '" + methodKey + "'";
  return false;
}

} // namespace hfq::kernels
