//===- FromCheckpoint.cpp - Checkpoint tensors to QuantWeight -------------===//
//
// One converter per method, each a transcription of the reference
// dequantizer in kernels/ref (same argument decoding, same checks in the
// same order, same bit extraction) that stores codes, scales and zeros
// instead of multiplying them out. Where the reference's checks are private
// to it they are repeated here with its messages.
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

#include "kernels/abi/Abi.h"
#include "kernels/ref/Awq.h"
#include "kernels/ref/Bitsandbytes.h"
#include "kernels/ref/CompressedTensors.h"
#include "kernels/ref/Eetq.h"
#include "kernels/ref/Gptq.h"
#include "kernels/ref/Hqq.h"
#include "kernels/abi/StoredTensor.h"
#include "kernels/ref/TorchAo.h"

#include <cmath>
#include <numeric>

namespace hfq::kernels {

namespace {

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

constexpr int64_t kArgLimit = int64_t(1) << 30;

/// args[i] as an integer in [lo, hi]; NaN, fractions and values outside the
/// range are errors naming the argument (never an undefined cast).
bool intArg(const std::vector<double> &args, size_t i, const char *name,
            int64_t lo, int64_t hi, int64_t &value, std::string &error) {
  const double v = args[i];
  if (!(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)) ||
      v != std::floor(v)) {
    error = std::string(name) + " must be an integer in [" +
            std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
            std::to_string(v);
    return false;
  }
  value = static_cast<int64_t>(v);
  return true;
}

/// args[i] as a bool: the spec passes a bool as 0 or 1.
bool flagArg(const std::vector<double> &args, size_t i, const char *name,
             bool &value, std::string &error) {
  if (args[i] != 0.0 && args[i] != 1.0) {
    error =
        std::string(name) + " must be 0 or 1, got " + std::to_string(args[i]);
    return false;
  }
  value = args[i] == 1.0;
  return true;
}

bool expectTensorCount(const std::vector<TensorView> &packed, size_t count,
                       const char *names, std::string &error) {
  if (packed.size() == count)
    return true;
  error = "expected " + std::to_string(count) + " packed tensors (" + names +
          "), got " + std::to_string(packed.size());
  return false;
}

/// Sizes `w` for [n, k] codes and groups of `groupSize` (q zero-filled).
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

/// Act-order indices: kept only when they differ from k / groupSize.
void setGIdx(QuantWeight &w, std::vector<int32_t> gIdx) {
  for (int64_t i = 0; i < w.k; ++i)
    if (gIdx[static_cast<size_t>(i)] != i / w.groupSize) {
      w.gIdx = std::move(gIdx);
      return;
    }
}

/// K must hold whole groups: the reference kernels accept a short last
/// group, the repacked layout does not.
bool wholeGroups(int64_t k, int64_t g, std::string &error) {
  if (k % g == 0)
    return true;
  error = "K (" + std::to_string(k) + ") must be a multiple of group_size (" +
          std::to_string(g) +
          ") for the repacked layout (the reference kernel accepts a short "
          "last group, the W4A16 / W8A16 kernels do not)";
  return false;
}

/// The unsupported-width message shared by the methods whose other widths
/// only the reference (generic) kernel runs.
std::string genericOnly(const std::string &what) {
  return what + " is served by the generic kernel (the method's reference "
                "kernel) only: the repacked W4A16 / W8A16 kernels take 4- or "
                "8-bit integer codes";
}

//===----------------------------------------------------------------------===//
// gptq (kernels/ref/Gptq.cpp)
//===----------------------------------------------------------------------===//

bool fromGptq(const std::vector<double> &args,
              const std::vector<TensorView> &packed, int64_t n, int64_t k,
              QuantWeight &out, std::string &error) {
  int64_t bits = 0, groupSize = 0;
  bool minusOne = true;
  if (!expectArgs(args, {"bits", "group_size", "zero_stored_minus_one"},
                  error) ||
      !intArg(args, 0, "bits", 1, 32, bits, error) ||
      !intArg(args, 1, "group_size", -1, kArgLimit, groupSize, error) ||
      !flagArg(args, 2, "zero_stored_minus_one", minusOne, error))
    return false;
  // 2/3-bit codes are read here like 4/8-bit ones; packForKernel widens
  // them to the 8-bit layout (the spec's hfq_gptq_generic).
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
    error = "GPTQ bits must be 2, 3, 4 or 8, got " + std::to_string(bits);
    return false;
  }
  if (groupSize != -1 && groupSize < 1) {
    error = "GPTQ group_size must be positive or -1, got " +
            std::to_string(groupSize);
    return false;
  }
  if (!expectTensorCount(packed, 4, "qweight, qzeros, scales, g_idx", error))
    return false;
  const int b = static_cast<int>(bits);
  const int64_t g = groupSize == -1 ? k : groupSize;
  const int64_t groups = ceilDiv(k, g);
  // K * bits and N * bits fill whole int32 words (3-bit fields straddle
  // words: 32 of them fill three).
  const int64_t pack = 32 / std::gcd<int64_t>(32, b);
  if (k % pack != 0) {
    error = "K (" + std::to_string(k) + ") must be a multiple of " +
            std::to_string(pack) + " to pack " + std::to_string(b) +
            "-bit GPTQ weights into int32 words";
    return false;
  }
  if (n % pack != 0) {
    error = "N (" + std::to_string(n) + ") must be a multiple of " +
            std::to_string(pack) + " to pack " + std::to_string(b) +
            "-bit GPTQ zero points into int32 words";
    return false;
  }
  const TensorView &qweight = packed[0], &qzeros = packed[1],
                   &scales = packed[2], &gIdxView = packed[3];
  if (!expectView(qweight, "qweight", DType::I32, {k * b / 32, n}, error) ||
      !expectView(qzeros, "qzeros", DType::I32, {groups, n * b / 32}, error) ||
      !expectView(scales, "scales", DType::F16, {groups, n}, error))
    return false;
  // As the reference: a g_idx with neither data nor shape means k / g.
  const bool hasGIdx = !(gIdxView.data == nullptr && gIdxView.shape.empty());
  std::vector<int32_t> gIdx(static_cast<size_t>(k));
  if (hasGIdx) {
    if (!expectView(gIdxView, "g_idx", DType::I32, {k}, error))
      return false;
    for (int64_t i = 0; i < k; ++i) {
      const int32_t gi = static_cast<int32_t>(gIdxView.bits(i));
      if (gi < 0 || gi >= groups) {
        error = "g_idx[" + std::to_string(i) + "] = " + std::to_string(gi) +
                " is outside [0, " + std::to_string(groups) + ")";
        return false;
      }
      gIdx[static_cast<size_t>(i)] = gi;
    }
  }
  if (!wholeGroups(k, g, error))
    return false;

  allocate(out, b, n, k, g, ZeroKind::Integer);
  const int64_t zeroWords = n * b / 32;
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t c = 0; c < n; ++c) {
      const size_t at = static_cast<size_t>(gi * n + c);
      out.zero[at] =
          static_cast<float>(gptqUnpackField(qzeros, gi * zeroWords, 1, b, c) +
                             (minusOne ? 1u : 0u));
      out.scale[at] = scales.at(gi * n + c);
    }
  // Column c of qweight is one bit stream along K (word stride N).
  for (int64_t c = 0; c < n; ++c)
    for (int64_t i = 0; i < k; ++i)
      out.q[static_cast<size_t>(c * k + i)] =
          static_cast<uint8_t>(gptqUnpackField(qweight, c, n, b, i));
  if (hasGIdx)
    setGIdx(out, std::move(gIdx));
  return true;
}

//===----------------------------------------------------------------------===//
// awq (kernels/ref/Awq.cpp), version 0 = gemm
//===----------------------------------------------------------------------===//

bool fromAwq(const std::vector<double> &args,
             const std::vector<TensorView> &packed, int64_t n, int64_t k,
             QuantWeight &out, std::string &error) {
  int64_t bits = 0, groupSize = 0, version = 0;
  if (!expectArgs(args, {"bits", "group_size", "version"}, error) ||
      !intArg(args, 0, "bits", 1, 32, bits, error) ||
      !intArg(args, 1, "group_size", -1, kArgLimit, groupSize, error) ||
      !intArg(args, 2, "version", 0, 2, version, error))
    return false;
  if (version == 1) {
    error = "AWQ gemv checkpoints (version 1) have no repacking converter "
            "(supported: gemm, version 0); the reference kernel serves them";
    return false;
  }
  if (version == 2) {
    error = "AWQ gemv_fast / llm-awq checkpoints (version 2) have no "
            "repacking converter (supported: gemm, version 0)";
    return false;
  }
  if (!expectTensorCount(packed, 3, "qweight, qzeros, scales", error))
    return false;
  if (bits != 4) {
    error = "AWQ checkpoints hold 4-bit weights, got bits = " +
            std::to_string(bits);
    return false;
  }
  if (groupSize != -1 && groupSize < 1) {
    error = "AWQ group_size must be positive or -1, got " +
            std::to_string(groupSize);
    return false;
  }
  const int64_t g = groupSize == -1 ? k : groupSize;
  if (k % g != 0) {
    error = "K (" + std::to_string(k) + ") must be a multiple of group_size (" +
            std::to_string(g) + ") for AWQ gemm";
    return false;
  }
  if (n % 8 != 0) {
    error = "N (" + std::to_string(n) +
            ") must be a multiple of 8 to pack AWQ gemm weights along N";
    return false;
  }
  const int64_t groups = k / g, words = n / 8;
  const TensorView &qweight = packed[0], &qzeros = packed[1],
                   &scales = packed[2];
  if (!expectView(qweight, "qweight", DType::I32, {k, words}, error) ||
      !expectView(qzeros, "qzeros", DType::I32, {groups, words}, error) ||
      !expectView(scales, "scales", DType::F16, {groups, n}, error))
    return false;
  // Nibble i of a word holds column 8c + kAwqGemmOrder[i]; invert that.
  int nibbleOf[8];
  for (int i = 0; i < 8; ++i)
    nibbleOf[kAwqGemmOrder[i]] = i;
  auto nibble = [](const TensorView &t, int64_t word, int index) {
    return (t.bits(word) >> (4 * index)) & 0xfu;
  };

  allocate(out, 4, n, k, g, ZeroKind::Integer);
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t c = 0; c < n; ++c) {
      const size_t at = static_cast<size_t>(gi * n + c);
      out.zero[at] = static_cast<float>(
          nibble(qzeros, gi * words + c / 8, nibbleOf[c % 8]));
      out.scale[at] = scales.at(gi * n + c);
    }
  for (int64_t i = 0; i < k; ++i)
    for (int64_t c = 0; c < n; ++c)
      out.q[static_cast<size_t>(c * k + i)] = static_cast<uint8_t>(
          nibble(qweight, i * words + c / 8, nibbleOf[c % 8]));
  return true;
}

//===----------------------------------------------------------------------===//
// compressed-tensors (kernels/ref/CompressedTensors{,Entry}.cpp)
//===----------------------------------------------------------------------===//

bool fromCompressedTensors(const std::vector<double> &args,
                           const std::vector<TensorView> &packed, int64_t n,
                           int64_t k, QuantWeight &out, std::string &error) {
  if (!expectArgs(args,
                  {"block_n", "block_k", "format", "num_bits", "strategy",
                   "group_size", "asymmetric", "g_idx", "input_mode"},
                  error))
    return false;
  int64_t blockN = 0, blockK = 0, format = 0, bits64 = 0, strategy = 0,
          groupSize = 0, inputMode = 0;
  bool asym = false, hasGIdx = false;
  if (!intArg(args, 0, "block_n", 0, kArgLimit, blockN, error) ||
      !intArg(args, 1, "block_k", 0, kArgLimit, blockK, error) ||
      !intArg(args, 2, "format", 0, 4, format, error) ||
      !intArg(args, 3, "num_bits", 0, kArgLimit, bits64, error) ||
      !intArg(args, 4, "strategy", 0, 3, strategy, error) ||
      !intArg(args, 5, "group_size", 0, kArgLimit, groupSize, error) ||
      !flagArg(args, 6, "asymmetric", asym, error) ||
      !flagArg(args, 7, "g_idx", hasGIdx, error) ||
      !intArg(args, 8, "input_mode", 0, 3, inputMode, error))
    return false;
  if (strategy == 2 && groupSize == 0) {
    error = "group strategy needs a positive group_size";
    return false;
  }
  const size_t expected = 2 + (asym ? 1 : 0) + (hasGIdx ? 1 : 0) +
                          (format == 0 ? 1 : 0) + (inputMode == 2 ? 1 : 0);
  if (packed.size() != expected) {
    error = "expected " + std::to_string(expected) +
            " packed tensors for this scheme, got " +
            std::to_string(packed.size());
    return false;
  }
  if (format >= 3) {
    error = "float-quantized (fp8) weights (format " + std::to_string(format) +
            ") have no integer weight-only kernel layout";
    return false;
  }
  if (inputMode != 0) {
    error = "activation-quantized schemes (input_activations, input_mode " +
            std::to_string(inputMode) +
            ") have no integer weight-only kernel layout; only weight-only "
            "int schemes are repacked";
    return false;
  }
  if (strategy == 3) {
    error = "compressed-tensors integer weights have no block strategy";
    return false;
  }
  if (bits64 < 1 || bits64 > 8) {
    error = "compressed-tensors stores 1 to 8 bits per value, got num_bits=" +
            std::to_string(bits64);
    return false;
  }
  if (bits64 != 4 && bits64 != 8) {
    error =
        genericOnly("compressed-tensors num_bits=" + std::to_string(bits64));
    return false;
  }
  const int bits = static_cast<int>(bits64);
  const bool isPacked = format == 0;

  // The parameter grid (makeGrid): [rows, cols] scales, element (row, col)
  // using [row / rowDiv][col / colDiv] (or g_idx[col]).
  const bool perTensor = strategy == 0;
  const int64_t cols = strategy == 2 ? ceilDiv(k, groupSize) : 1;
  const int64_t g = strategy == 2 ? groupSize : k;
  const std::vector<int64_t> gridShape =
      perTensor ? std::vector<int64_t>{1} : std::vector<int64_t>{n, cols};

  const TensorView &weight = packed[0], &weightScale = packed[1];
  size_t next = 2;
  const TensorView *zp = asym ? &packed[next++] : nullptr;
  const TensorView *gIdxView = hasGIdx ? &packed[next++] : nullptr;
  const TensorView *shape = isPacked ? &packed[next++] : nullptr;

  // readGIdx: only with the group strategy; any -1 means column order.
  std::vector<int32_t> gIdx;
  if (gIdxView) {
    if (strategy != 2) {
      error = std::string("weight_g_idx is only used with the group "
                          "strategy, got ") +
              (strategy == 0 ? "tensor" : "channel");
      return false;
    }
    if (!expectView(*gIdxView, "weight_g_idx", DType::I32, {k}, error))
      return false;
    gIdx.resize(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) {
      gIdx[static_cast<size_t>(i)] = static_cast<int32_t>(gIdxView->bits(i));
      if (gIdx[static_cast<size_t>(i)] == -1) {
        gIdx.clear();
        break;
      }
    }
    for (size_t i = 0; i < gIdx.size(); ++i)
      if (gIdx[i] < 0 || gIdx[i] >= cols) {
        error = "weight_g_idx[" + std::to_string(i) +
                "] = " + std::to_string(gIdx[i]) +
                " is not a group index in [0, " + std::to_string(cols) + ")";
        return false;
      }
  }
  if (shape) {
    if (!expectView(*shape, "weight_shape", DType::I32, {2}, error))
      return false;
    const int64_t sn = static_cast<int32_t>(shape->bits(0));
    const int64_t sk = static_cast<int32_t>(shape->bits(1));
    if (sn != n || sk != k) {
      error = "weight_shape is [" + std::to_string(sn) + ", " +
              std::to_string(sk) + "], expected [" + std::to_string(n) + ", " +
              std::to_string(k) + "]";
      return false;
    }
  }

  // Signed values v; the code is v + 2^(bits-1).
  std::vector<int32_t> values;
  if (isPacked) {
    if (!unpackCtInt32(weight, "weight_packed", bits, n, k, 1, values, error))
      return false;
  } else {
    if (!expectView(weight, "weight", DType::I8, {n, k}, error))
      return false;
    values.resize(static_cast<size_t>(n * k));
    for (int64_t i = 0; i < n * k; ++i) {
      values[static_cast<size_t>(i)] = static_cast<int32_t>(weight.at(i));
      if (!checkIntRange(values[static_cast<size_t>(i)], bits, "weight", i,
                        error))
        return false;
    }
  }
  if (!expectFloatView(weightScale, "weight_scale", gridShape, error))
    return false;
  std::vector<int32_t> zeros;
  if (zp) {
    if (perTensor || !isPacked) {
      // Unpacked i8 with the scale's shape (a per-tensor zero point is
      // never packed).
      if (!expectView(*zp, "weight_zero_point", DType::I8, gridShape, error))
        return false;
      const int64_t count = perTensor ? 1 : n * cols;
      zeros.resize(static_cast<size_t>(count));
      for (int64_t i = 0; i < count; ++i) {
        zeros[static_cast<size_t>(i)] = static_cast<int32_t>(zp->at(i));
        if (!checkIntRange(zeros[static_cast<size_t>(i)], bits,
                          "weight_zero_point", i, error))
          return false;
      }
    } else if (!unpackCtInt32(*zp, "weight_zero_point", bits, n, cols, 0, zeros,
                              error)) {
      return false;
    }
  }
  if (!wholeGroups(k, g, error))
    return false;

  const int32_t offset = 1 << (bits - 1);
  allocate(out, bits, n, k, g, zp ? ZeroKind::Integer : ZeroKind::Symmetric);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t gi = 0; gi < out.groups(); ++gi) {
      const int64_t p = perTensor ? 0 : row * cols + gi;
      const size_t at = static_cast<size_t>(gi * n + row);
      out.scale[at] = weightScale.at(p);
      if (zp)
        out.zero[at] =
            static_cast<float>(zeros[static_cast<size_t>(p)] + offset);
    }
  for (int64_t i = 0; i < n * k; ++i)
    out.q[static_cast<size_t>(i)] =
        static_cast<uint8_t>(values[static_cast<size_t>(i)] + offset);
  if (!gIdx.empty())
    setGIdx(out, std::move(gIdx));
  return true;
}

//===----------------------------------------------------------------------===//
// hqq (kernels/ref/Hqq{,Entry}.cpp)
//===----------------------------------------------------------------------===//

bool fromHqq(const std::vector<double> &args,
             const std::vector<TensorView> &packed, int64_t n, int64_t k,
             QuantWeight &out, std::string &error) {
  if (!expectArgs(args,
                  {"nbits", "group_size", "axis", "view_as_float", "round_zero",
                   "optimize"},
                  error))
    return false;
  const double nb = args[0];
  if (std::fabs(nb - 1.58) < 1e-9) {
    error = genericOnly("HQQ nbits=1.58");
    return false;
  }
  if (!(nb == 1 || nb == 2 || nb == 3 || nb == 4 || nb == 5 || nb == 6 ||
        nb == 8)) {
    error = "nbits must be one of 8, 6, 5, 4, 3, 2, 1.58, 1, got " +
            std::to_string(nb);
    return false;
  }
  const int nbits = static_cast<int>(nb);
  int64_t groupSize = 0, axis = 0;
  bool viewAsFloat = false, roundZero = false, optimize = false;
  if (!intArg(args, 1, "group_size", 0, kArgLimit, groupSize, error) ||
      !intArg(args, 2, "axis", 0, 1, axis, error) ||
      !flagArg(args, 3, "view_as_float", viewAsFloat, error) ||
      !flagArg(args, 4, "round_zero", roundZero, error) ||
      !flagArg(args, 5, "optimize", optimize, error))
    return false;
  if (!expectTensorCount(packed, 3, "W_q, scale, zero", error))
    return false;
  if (nbits < 4) {
    error = genericOnly("HQQ nbits=" + std::to_string(nbits));
    return false;
  }
  if (axis != 1) {
    error = "HQQ axis=0 groups along N (one scale per group of a column); "
            "the kernels' groups run along K (axis=1)";
    return false;
  }
  int64_t rows = 0, cols = 0;
  if (!hqqGroupedShape(n, k, groupSize, 1, rows, cols, error))
    return false;
  std::vector<uint8_t> codes;
  const std::vector<int64_t> metaShape = {rows, 1};
  const TensorView &scale = packed[1], &zero = packed[2];
  if (!unpackHqq(packed[0], nbits, rows, cols, codes, error) ||
      !expectFloatView(scale, "scale", metaShape, error) ||
      !expectFloatView(zero, "zero", metaShape, error))
    return false;
  const int64_t g = groupSize == 0 ? k : groupSize;
  if (k % g != 0) {
    error = "HQQ group_size (" + std::to_string(g) + ") must divide K (" +
            std::to_string(k) +
            ") for the repacked layout: otherwise an axis=1 group straddles "
            "two output rows";
    return false;
  }

  // 5- and 6-bit codes are stored one per byte, as 8-bit ones: the 8-bit
  // kernel serves them unchanged.
  allocate(out, nbits == 4 ? 4 : 8, n, k, g, ZeroKind::Offset);
  // Grouped element (r, c) is W's flat element r * g + c: the codes are
  // already W[n][k] row-major, and grouped row r is (n, group) with
  // r = n * (K / g) + group.
  out.q = std::move(codes);
  const int64_t perRow = k / g;
  for (int64_t row = 0; row < n; ++row)
    for (int64_t gi = 0; gi < perRow; ++gi) {
      const int64_t m = row * perRow + gi;
      const size_t at = static_cast<size_t>(gi * n + row);
      const float s = scale.at(m);
      out.scale[at] = s;
      // hqq: w = (q - zero) * s; here w = q * s + zero' with zero' =
      // -zero * s, equal up to float rounding (see the file comment).
      out.zero[at] = -(zero.at(m) * s);
    }
  return true;
}

//===----------------------------------------------------------------------===//
// torchao (kernels/ref/TorchAo{,Entry}.cpp)
//===----------------------------------------------------------------------===//

bool checkRowOrTensorScale(const TensorView &scale, const char *name, int64_t n,
                           bool &perTensor, std::string &error) {
  perTensor = scale.shape == std::vector<int64_t>{1, 1} && n != 1;
  const std::vector<int64_t> shape =
      perTensor ? std::vector<int64_t>{1, 1} : std::vector<int64_t>{n, 1};
  return expectFloatView(scale, name, shape, error);
}

bool fromTorchao(const std::vector<double> &args,
                 const std::vector<TensorView> &packed, int64_t n, int64_t k,
                 QuantWeight &out, std::string &error) {
  int64_t format = 0, groupSize = 0;
  bool perTensorArg = false;
  if (!expectArgs(args, {"format", "group_size", "per_tensor"}, error) ||
      !intArg(args, 0, "format", 1, 6, format, error) ||
      !intArg(args, 1, "group_size", 0, kArgLimit, groupSize, error) ||
      !flagArg(args, 2, "per_tensor", perTensorArg, error))
    return false;
  if (format <= 2 && groupSize == 0) {
    error = "int4 layouts need a positive group_size";
    return false;
  }
  const char *names = format == 1   ? "weight_qdata, weight_scale_and_zero"
                      : format == 2 ? "weight_qdata, weight_scale, "
                                      "weight_zero_point"
                                    : "weight_qdata, weight_scale";
  if (!expectTensorCount(packed, format == 2 ? 3 : 2, names, error))
    return false;
  if (format == 4) {
    error = "Int8DynamicActivationInt8WeightConfig quantizes activations; it "
            "has no integer weight-only kernel layout";
    return false;
  }
  if (format >= 5) {
    error = "torchao float8 weights (format " + std::to_string(format) +
            ") have no integer weight-only kernel layout";
    return false;
  }

  if (format == 1) {
    // Int4TilePackedTo4dTensor: w = (q - 8) * s + z = q * s + (z - 8s).
    if (groupSize != 32 && groupSize != 64 && groupSize != 128 &&
        groupSize != 256) {
      error = "tinygemm int4 group_size must be 32, 64, 128 or 256, got " +
              std::to_string(groupSize);
      return false;
    }
    const int64_t np = ceilDiv(n, 8) * 8, kp = ceilDiv(k, 1024) * 1024;
    std::vector<uint8_t> codes;
    if (!unpackTinygemmInt4(packed[0], np, kp, codes, error) ||
        !expectView(packed[1], "weight_scale_and_zero", DType::BF16,
                    {kp / groupSize, np, 2}, error))
      return false;
    if (k % groupSize != 0) {
      error = "K (" + std::to_string(k) +
              ") must be a multiple of "
              "group_size (" +
              std::to_string(groupSize) +
              ") for the repacked layout (the tinygemm layout pads the last "
              "group with zeros, the W4A16 kernels' groups are whole)";
      return false;
    }
    allocate(out, 4, n, k, groupSize, ZeroKind::Offset);
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

  if (format == 2) {
    // Int4Tensor: signed nibbles v, w = v * s + zp; q = v + 8 = nibble ^ 8,
    // w = q * s + (zp - 8s).
    if (k % 2 != 0 || k % groupSize != 0) {
      error = "torchao int4 needs K (" + std::to_string(k) +
              ") even and a multiple of group_size (" +
              std::to_string(groupSize) + ")";
      return false;
    }
    const int64_t groups = k / groupSize;
    const TensorView &qdata = packed[0], &scale = packed[1],
                     &zeroPoint = packed[2];
    if (!expectView(qdata, "weight_qdata", DType::I8, {n, k / 2}, error) ||
        !expectFloatView(scale, "weight_scale", {groups, n}, error) ||
        !expectFloatView(zeroPoint, "weight_zero_point", {groups, n}, error))
      return false;
    allocate(out, 4, n, k, groupSize, ZeroKind::Offset);
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

  // format 3, Int8WeightOnlyConfig: w = v * s per row (or per tensor).
  bool perTensor = false;
  if (!expectView(packed[0], "weight_qdata", DType::I8, {n, k}, error) ||
      !checkRowOrTensorScale(packed[1], "weight_scale", n, perTensor, error))
    return false;
  allocate(out, 8, n, k, k, ZeroKind::Symmetric);
  for (int64_t row = 0; row < n; ++row)
    out.scale[static_cast<size_t>(row)] = packed[1].at(perTensor ? 0 : row);
  for (int64_t i = 0; i < n * k; ++i)
    out.q[static_cast<size_t>(i)] =
        static_cast<uint8_t>(static_cast<int32_t>(packed[0].at(i)) + 128);
  return true;
}

//===----------------------------------------------------------------------===//
// quanto (kernels/ref/Quanto{,Entry}.cpp)
//===----------------------------------------------------------------------===//

bool fromQuanto(const std::vector<double> &args,
                const std::vector<TensorView> &packed, int64_t n, int64_t k,
                QuantWeight &out, std::string &error) {
  if (!expectArgs(args, {"weights", "bits", "group_size"}, error))
    return false;
  static const int kBits[4] = {8, 8, 4, 2};
  int64_t code = 0, bits = 0;
  if (!intArg(args, 0, "weights", 0, 3, code, error) ||
      !intArg(args, 1, "bits", 0, 64, bits, error))
    return false;
  if (kBits[code] != bits) {
    error = "quanto weights code " + std::to_string(code) + " with bits " +
            std::to_string(bits) +
            " is not one of int8 (0, 8), float8 (1, 8), int4 (2, 4), "
            "int2 (3, 2)";
    return false;
  }
  int64_t groupSize = 0;
  if (bits < 8 &&
      !intArg(args, 2, "group_size", 1, kArgLimit, groupSize, error))
    return false;
  if (code == 1) {
    error = "quanto float8 weights have no integer weight-only kernel layout";
    return false;
  }
  if (code == 3) {
    error = genericOnly("quanto int2");
    return false;
  }
  const size_t expected = bits == 8 ? 4 : 5;
  if (!expectTensorCount(packed, expected,
                         bits == 8 ? "weight._data, weight._scale, "
                                     "input_scale, output_scale"
                                   : "weight._data._data, weight._scale, "
                                     "weight._shift, input_scale, "
                                     "output_scale",
                         error) ||
      !expectFloatView(packed[expected - 2], "input_scale", {}, error) ||
      !expectFloatView(packed[expected - 1], "output_scale", {}, error))
    return false;

  if (bits == 8) {
    // qint8: w = _data * _scale per output row.
    if (!expectView(packed[0], "weight._data", DType::I8, {n, k}, error) ||
        !expectFloatView(packed[1], "weight._scale", {n, 1}, error))
      return false;
    allocate(out, 8, n, k, k, ZeroKind::Symmetric);
    for (int64_t row = 0; row < n; ++row)
      out.scale[static_cast<size_t>(row)] = packed[1].at(row);
    for (int64_t i = 0; i < n * k; ++i)
      out.q[static_cast<size_t>(i)] =
          static_cast<uint8_t>(static_cast<int32_t>(packed[0].at(i)) + 128);
    return true;
  }

  // qint4: grouped rows r = n * (K / g) + group of g codes; planes of R'
  // rows, the first in the low nibble.
  if (k % groupSize != 0) {
    error = "quanto group size " + std::to_string(groupSize) +
            " must divide K=" + std::to_string(k);
    return false;
  }
  const int64_t rows = n * k / groupSize;
  const int64_t planeRows = ceilDiv(rows, 2);
  const TensorView &data = packed[0], &scale = packed[1], &shift = packed[2];
  if (!expectView(data, "weight._data._data", DType::U8, {planeRows, groupSize},
                  error) ||
      !expectFloatView(scale, "weight._scale", {rows, 1}, error))
    return false;
  const bool intShift = shift.dtype == DType::U8 || shift.dtype == DType::I8;
  if (intShift
          ? !expectView(shift, "weight._shift", shift.dtype, {rows, 1}, error)
          : !expectFloatView(shift, "weight._shift", {rows, 1}, error))
    return false;
  // Float shift: w = s*q - shift = q*s + (-shift), the same operation.
  // Integer shift: w = s * (q - shift), an Integer zero.
  allocate(out, 4, n, k, groupSize,
           intShift ? ZeroKind::Integer : ZeroKind::Offset);
  const int64_t perRow = k / groupSize;
  for (int64_t r = 0; r < rows; ++r) {
    const size_t at = static_cast<size_t>((r % perRow) * n + r / perRow);
    out.scale[at] = scale.at(r);
    out.zero[at] = intShift ? shift.at(r) : -shift.at(r);
    const int64_t packedRow = r % planeRows;
    const int shiftBits = static_cast<int>(4 * (r / planeRows));
    for (int64_t c = 0; c < groupSize; ++c)
      out.q[static_cast<size_t>(r * groupSize + c)] = static_cast<uint8_t>(
          (data.bits(packedRow * groupSize + c) >> shiftBits) & 0xfu);
  }
  return true;
}

//===----------------------------------------------------------------------===//
// eetq (kernels/ref/Eetq.cpp)
//===----------------------------------------------------------------------===//

bool fromEetq(const std::vector<double> &args,
              const std::vector<TensorView> &packed, int64_t n, int64_t k,
              QuantWeight &out, std::string &error) {
  if (!expectArgs(args, {}, error) ||
      !expectTensorCount(packed, 2, "weight, weight_scales", error))
    return false;
  // The plain int8 Wᵀ [K, N] behind FasterTransformer's preprocessing.
  std::vector<int8_t> qt;
  if (!unpreprocessEetqWeight(packed[0], k, n, qt, error) ||
      !expectView(packed[1], "weight_scales", DType::F16, {n}, error))
    return false;
  allocate(out, 8, n, k, k, ZeroKind::Symmetric);
  for (int64_t c = 0; c < n; ++c) {
    out.scale[static_cast<size_t>(c)] = packed[1].at(c);
    for (int64_t i = 0; i < k; ++i)
      out.q[static_cast<size_t>(c * k + i)] = static_cast<uint8_t>(
          static_cast<int32_t>(qt[static_cast<size_t>(i * n + c)]) + 128);
  }
  return true;
}

//===----------------------------------------------------------------------===//
// bitsandbytes_8bit (kernels/ref/Bitsandbytes.cpp, LLM.int8())
//===----------------------------------------------------------------------===//

bool fromBnb8(const std::vector<double> &args,
              const std::vector<TensorView> &packed, int64_t n, int64_t k,
              QuantWeight &out, std::string &error) {
  float threshold;
  if (!bnb8Threshold(args, threshold, error))
    return false;
  // The threshold only concerns the activations (the outlier decomposition
  // of the forward); the weight is CB * SCB / 127 whatever it is.
  if (!expectTensorCount(packed, 2, "weight, SCB", error) ||
      !expectView(packed[0], "weight", DType::I8, {n, k}, error) ||
      !expectView(packed[1], "SCB", DType::F32, {n}, error))
    return false;
  allocate(out, 8, n, k, k, ZeroKind::Symmetric);
  for (int64_t row = 0; row < n; ++row)
    out.scale[static_cast<size_t>(row)] = packed[1].at(row) / 127.0f;
  for (int64_t i = 0; i < n * k; ++i)
    out.q[static_cast<size_t>(i)] =
        static_cast<uint8_t>(static_cast<int32_t>(packed[0].at(i)) + 128);
  return true;
}

using Converter = bool (*)(const std::vector<double> &,
                           const std::vector<TensorView> &, int64_t, int64_t,
                           QuantWeight &, std::string &);

struct MethodConverter {
  const char *key;
  Converter convert;
};

const MethodConverter kConverters[] = {
    {"gptq", fromGptq},
    {"awq", fromAwq},
    {"compressed-tensors", fromCompressedTensors},
    {"hqq", fromHqq},
    {"torchao", fromTorchao},
    {"quanto", fromQuanto},
    {"eetq", fromEetq},
    {"bitsandbytes_8bit", fromBnb8},
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
