//===- Bitsandbytes.cpp - bitsandbytes 4-bit and LLM.int8() reference -----===//
//
// Every float operation below is written as its own statement where bnb's
// kernels round in between: the C++ compiler may fuse `a * b + c` inside one
// expression into an FMA on targets that have one, which would change the
// last bit; across statements it may not.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Bitsandbytes.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace hfq::kernels {

//===----------------------------------------------------------------------===//
// Code tables
//===----------------------------------------------------------------------===//

const std::array<float, 16> &bnb4CodeTable(Bnb4Type type) {
  // bnb's nf4_dequantization_lut: quantiles of N(0, 1) normalised to
  // [-1, 1] (create_normal_map(offset=0.9677083)), sorted, code 7 = 0.
  static const std::array<float, 16> nf4 = {-1.0f,
                                            -0.6961928009986877f,
                                            -0.5250730514526367f,
                                            -0.39491748809814453f,
                                            -0.28444138169288635f,
                                            -0.18477343022823334f,
                                            -0.09105003625154495f,
                                            0.0f,
                                            0.07958029955625534f,
                                            0.16093020141124725f,
                                            0.24611230194568634f,
                                            0.33791524171829224f,
                                            0.44070982933044434f,
                                            0.5626170039176941f,
                                            0.7229568362236023f,
                                            1.0f};
  // bnb's fp4_dequantization_lut (magnitudes 0, 0.0625, 8, 12, 4, 6, 2, 3 of
  // bit patterns 000..111, over 12), then the same negated for codes 8..15:
  // the kernel multiplies by a sign of -1.0f, so code 8 is -0.0f.
  static const std::array<float, 16> fp4 = {
      0.0f,         0.005208333333f, 0.66666667f,  1.0f,  0.33333333f,
      0.5f,         0.16666667f,     0.25f,        -0.0f, -0.005208333333f,
      -0.66666667f, -1.0f,           -0.33333333f, -0.5f, -0.16666667f,
      -0.25f};
  return type == Bnb4Type::NF4 ? nf4 : fp4;
}

uint8_t bnb4QuantizeValue(Bnb4Type type, float x) {
  if (type == Bnb4Type::NF4) {
    // dQuantizeNF4's decision tree. The table is sorted, so the tree's
    // result is the number of midpoints that x strictly exceeds; NaN exceeds
    // none and lands on code 0, as in the kernel.
    static const float midpoints[15] = {
        -0.8480964004993439f,   -0.6106329262256622f,  -0.4599952697753906f,
        -0.33967943489551544f,  -0.23460740596055984f, -0.13791173323988914f,
        -0.045525018125772476f, 0.03979014977812767f,  0.1202552504837513f,
        0.2035212516784668f,    0.2920137718319893f,   0.3893125355243683f,
        0.5016634166240692f,    0.6427869200706482f,   0.8614784181118011f};
    uint8_t code = 0;
    for (float m : midpoints)
      code += x > m ? 1 : 0;
    return code;
  }
  // dQuantizeFP4: the sign is taken with `x < 0` (so -0.0 and NaN are
  // positive), the magnitude is bucketed against the kernel's pivots in value
  // order and mapped back to the (unsorted) bit pattern of that magnitude.
  uint8_t sign = x < 0 ? 0x8 : 0x0;
  float a = std::fabs(x);
  static const float pivots[7] = {0.00260417f, 0.0859375f, 0.20833333f,
                                  0.29166667f, 0.4166667f, 0.583333f,
                                  0.8333333f};
  // Bit patterns of the magnitudes 0, 1/192, 1/6, 1/4, 1/3, 1/2, 2/3, 1.
  static const uint8_t patternByRank[8] = {0b000, 0b001, 0b110, 0b111,
                                           0b100, 0b101, 0b010, 0b011};
  int rank = 0;
  for (float p : pivots)
    rank += a > p ? 1 : 0;
  return sign | patternByRank[rank];
}

std::array<float, 256> bnbDynamicMap(bool fusedLinspace) {
  // create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for
  // exponent i = 0..6, the 2^i midpoints of torch.linspace(0.1, 1, 2^i + 1)
  // scaled by 10^(i-6), with both signs: 2 * 127 values, plus 0 and 1, which
  // fills 256 entries without zero padding. Sorted. Every step is a float32
  // tensor operation (the Python scale 10**(i-6) is cast to float32 first).
  std::vector<float> data;
  data.reserve(256);
  static const float powersOfTen[7] = {1e-6f, 1e-5f, 1e-4f, 1e-3f,
                                       1e-2f, 1e-1f, 1.0f};
  for (int i = 0; i < 7; ++i) {
    int64_t steps = (int64_t(1) << i) + 1;
    // torch's linspace kernel in float32: step = (end - start) / (steps - 1);
    // the first half counts up from start, the second half down from end.
    const float start = 0.1f, end = 1.0f;
    float range = end - start;
    float step = range / static_cast<float>(steps - 1);
    std::vector<float> boundaries(static_cast<size_t>(steps));
    int64_t halfway = steps / 2;
    for (int64_t idx = 0; idx < steps; ++idx) {
      float v;
      if (idx < halfway) {
        float n = static_cast<float>(idx);
        if (fusedLinspace) {
          v = std::fma(step, n, start);
        } else {
          float prod = step * n;
          v = start + prod;
        }
      } else {
        float n = static_cast<float>(steps - idx - 1);
        if (fusedLinspace) {
          v = std::fma(-step, n, end);
        } else {
          float prod = step * n;
          v = end - prod;
        }
      }
      boundaries[static_cast<size_t>(idx)] = v;
    }
    for (int64_t j = 0; j + 1 < steps; ++j) {
      float sum = boundaries[j] + boundaries[j + 1];
      float mean = sum / 2.0f;
      float scaled = powersOfTen[i] * mean;
      data.push_back(scaled);
      data.push_back(-scaled);
    }
  }
  data.push_back(0.0f);
  data.push_back(1.0f);
  std::sort(data.begin(), data.end());
  std::array<float, 256> map{};
  std::copy(data.begin(), data.end(), map.begin());
  return map;
}

uint8_t bnbQuantizeDynamic(const std::array<float, 256> &code, float x) {
  // dQuantize<0>: a binary search from the middle entry with steps
  // 64, 32, ..., 1 that remembers the last entries seen below and above x,
  // then rounds to whichever side's midpoint x passes.
  int pivot = 127, upperPivot = 255, lowerPivot = 0;
  float lower = -1.0f, upper = 1.0f;
  float val = code[pivot];
  for (int i = 64; i > 0; i >>= 1) {
    if (x > val) {
      lowerPivot = pivot;
      lower = val;
      pivot += i;
    } else {
      upperPivot = pivot;
      upper = val;
      pivot -= i;
    }
    val = code[pivot];
  }
  if (upperPivot == 255)
    upper = code[upperPivot];
  if (lowerPivot == 0)
    lower = code[lowerPivot];
  if (x > val) {
    float sum = upper + val;
    float midpoint = sum * 0.5f;
    return static_cast<uint8_t>(x > midpoint ? upperPivot : pivot);
  }
  float sum = lower + val;
  float midpoint = sum * 0.5f;
  return static_cast<uint8_t>(x < midpoint ? lowerPivot : pivot);
}

//===----------------------------------------------------------------------===//
// 4-bit dequantization
//===----------------------------------------------------------------------===//

static bool checkBlocksize(const char *what, int64_t blocksize,
                           std::string &error) {
  for (int64_t b = 32; b <= 4096; b *= 2)
    if (blocksize == b)
      return true;
  error = std::string(what) + " must be one of 32, 64, ..., 4096, got " +
          std::to_string(blocksize);
  return false;
}

/// Bytes per element of a Params4bit storage dtype, 0 if not one.
static int64_t storageBytes(DType dtype) {
  switch (dtype) {
  case DType::U8:
  case DType::I8:
    return 1;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::F32:
    return 4;
  default:
    return 0;
  }
}

bool checkBnb4Layout(const TensorView &weight, const TensorView &absmax,
                     const TensorView &nestedAbsmax,
                     const TensorView &nestedQuantMap, int64_t n, int64_t k,
                     const Bnb4Params &p, std::string &error) {
  if (!checkMatrixShape("bnb 4-bit", n, k, error) ||
      !checkBlocksize("bnb 4-bit blocksize", p.blocksize, error))
    return false;
  if (p.doubleQuant) {
    if (p.nestedBlocksize < 1) {
      error = "bnb 4-bit nested_blocksize must be positive, got " +
              std::to_string(p.nestedBlocksize);
      return false;
    }
    if (!std::isfinite(p.nestedOffset)) {
      error = "bnb 4-bit nested_offset must be finite";
      return false;
    }
  }
  int64_t s = storageBytes(weight.dtype);
  if (s == 0) {
    error = std::string("weight must be stored as ui8, i8, f16, bf16 or f32 "
                        "(bnb_4bit_quant_storage), got ") +
            dtypeName(weight.dtype);
    return false;
  }
  const int64_t nk = n * k;
  const int64_t codeBytes = (nk + 1) / 2;
  if (!expectView(weight, "weight", weight.dtype, {(nk + 1) / (2 * s), 1},
                  error))
    return false;
  if (codeBytes % s != 0) {
    // bnb views the packed bytes as the storage dtype, which needs whole
    // elements; a shorter tensor would have lost codes.
    error = "weight: " + std::to_string(codeBytes) +
            " bytes of 4-bit codes do not fill whole " +
            dtypeName(weight.dtype) + " storage elements";
    return false;
  }
  const int64_t blocks = ceilDiv(nk, p.blocksize);
  if (!expectView(absmax, "weight.absmax",
                  p.doubleQuant ? DType::U8 : DType::F32, {blocks}, error))
    return false;
  if (p.doubleQuant) {
    const int64_t nested = ceilDiv(blocks, p.nestedBlocksize);
    if (!expectView(nestedAbsmax, "weight.nested_absmax", DType::F32, {nested},
                    error) ||
        !expectView(nestedQuantMap, "weight.nested_quant_map", DType::F32,
                    {256}, error))
      return false;
  }
  return true;
}

bool dequantizeBnb4(const TensorView &weight, const TensorView &absmax,
                    const TensorView &nestedAbsmax,
                    const TensorView &nestedQuantMap, int64_t n, int64_t k,
                    const Bnb4Params &p, std::vector<float> &w,
                    std::string &error) {
  if (!checkBnb4Layout(weight, absmax, nestedAbsmax, nestedQuantMap, n, k, p,
                       error))
    return false;
  const int64_t nk = n * k;
  const int64_t blocks = ceilDiv(nk, p.blocksize);

  std::vector<float> scale(static_cast<size_t>(blocks));
  if (p.doubleQuant) {
    // dequantize_blockwise(absmax codes, state2) then `absmax += offset`, each
    // a float32 operation.
    for (int64_t b = 0; b < blocks; ++b) {
      float code = nestedQuantMap.at(absmax.bits(b));
      float prod = code * nestedAbsmax.at(b / p.nestedBlocksize);
      scale[static_cast<size_t>(b)] = prod + p.nestedOffset;
    }
  } else {
    for (int64_t b = 0; b < blocks; ++b)
      scale[static_cast<size_t>(b)] = absmax.at(b);
  }

  const auto &table = bnb4CodeTable(p.type);
  const auto *bytes = static_cast<const uint8_t *>(weight.data);
  w.assign(static_cast<size_t>(nk), 0.0f);
  for (int64_t i = 0; i < nk; ++i) {
    // Element 2j is the high nibble of byte j, element 2j + 1 the low one.
    uint8_t byte = bytes[i / 2];
    uint8_t code = (i % 2 == 0) ? byte >> 4 : byte & 0x0f;
    w[static_cast<size_t>(i)] =
        table[code] * scale[static_cast<size_t>(i / p.blocksize)];
  }
  return true;
}

bool checkBnb4QuantMap(const TensorView &quantMap, Bnb4Type type,
                       std::string &error) {
  if (!expectView(quantMap, "weight.quant_map", DType::F32, {16}, error))
    return false;
  const auto &table = bnb4CodeTable(type);
  for (int64_t i = 0; i < 16; ++i)
    if (quantMap.at(i) != table[static_cast<size_t>(i)]) {
      error = "weight.quant_map[" + std::to_string(i) + "] is " +
              std::to_string(quantMap.at(i)) + ", not the " +
              (type == Bnb4Type::NF4 ? "nf4" : "fp4") + " table's " +
              std::to_string(table[static_cast<size_t>(i)]);
      return false;
    }
  return true;
}

//===----------------------------------------------------------------------===//
// 4-bit quantization
//===----------------------------------------------------------------------===//

static void setF32(StoredTensor &t, int64_t i, float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  t.setBits(i, b);
}

float bnbFloatMean(const float *a, int64_t count) {
  if (a == nullptr || count <= 0)
    return NAN; // torch's mean of nothing
  // torch's mean: a float sum, then times the float factor 1 / count
  // (MeanOps). The sum is a pairwise tree, like the GPU reduction's
  // combining steps; its exact order differs, so the last bit can too.
  std::vector<float> level(a, a + count);
  while (level.size() > 1) {
    std::vector<float> next;
    next.reserve((level.size() + 1) / 2);
    for (size_t i = 0; i + 1 < level.size(); i += 2)
      next.push_back(level[i] + level[i + 1]);
    if (level.size() % 2)
      next.push_back(level.back());
    level.swap(next);
  }
  const float factor = 1.0f / static_cast<float>(count);
  return level[0] * factor;
}

bool bnbQuantizeBlockwise8(const float *a, int64_t count, int64_t blocksize,
                           const std::array<float, 256> &code,
                           std::vector<uint8_t> &codes,
                           std::vector<float> &absmax, std::string &error) {
  if (blocksize < 1 || count < 0 || (a == nullptr && count > 0)) {
    error = "bnb blockwise 8-bit: need blocksize >= 1 and " +
            std::to_string(count) + " values, got blocksize " +
            std::to_string(blocksize) + (a ? "" : " and no data");
    return false;
  }
  codes.assign(static_cast<size_t>(count), 0);
  absmax.assign(static_cast<size_t>(ceilDiv(count, blocksize)), 0.0f);
  for (int64_t j = 0; j * blocksize < count; ++j) {
    const int64_t begin = j * blocksize;
    const int64_t end = std::min(count, begin + blocksize);
    float amax = 0.0f;
    for (int64_t i = begin; i < end; ++i)
      amax = std::fmax(amax, std::fabs(a[i]));
    absmax[static_cast<size_t>(j)] = amax;
    const float inv = 1.0f / amax; // the kernel's reciprocal, then multiply
    for (int64_t i = begin; i < end; ++i) {
      const float x = a[i] * inv;
      codes[static_cast<size_t>(i)] = bnbQuantizeDynamic(code, x);
    }
  }
  return true;
}

bool quantizeBnb4(const float *w, int64_t n, int64_t k, const Bnb4Params &p,
                  Bnb4Quantized &out, std::string &error) {
  if (!checkMatrixShape("bnb 4-bit", n, k, error) ||
      !checkBlocksize("bnb 4-bit blocksize", p.blocksize, error))
    return false;
  if (p.doubleQuant && p.nestedBlocksize < 1) {
    error = "bnb 4-bit nested_blocksize must be positive, got " +
            std::to_string(p.nestedBlocksize);
    return false;
  }
  if (w == nullptr) {
    error = "bnb 4-bit: the weight has no data";
    return false;
  }
  const int64_t nk = n * k;
  const int64_t blocks = ceilDiv(nk, p.blocksize);
  std::vector<float> absmax(static_cast<size_t>(blocks));
  out.weight.reset(DType::U8, {(nk + 1) / 2, 1});
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * p.blocksize;
    const int64_t end = std::min(nk, begin + p.blocksize);
    float amax = 0.0f;
    for (int64_t i = begin; i < end; ++i)
      amax = std::fmax(amax, std::fabs(w[i])); // fmaxf skips NaN, as bnb's
    absmax[static_cast<size_t>(b)] = amax;
    // The kernel multiplies by the reciprocal rather than dividing.
    const float inv = 1.0f / amax;
    // The kernel loads a missing last element of an odd-sized tensor as 0.0
    // and quantizes it like the others (NF4 gives code 7 there).
    for (int64_t i = begin; i < end; i += 2) {
      float x0 = w[i] * inv;
      float x1 = (i + 1 < end ? w[i + 1] : 0.0f) * inv;
      uint8_t byte = static_cast<uint8_t>(bnb4QuantizeValue(p.type, x0) << 4 |
                                          bnb4QuantizeValue(p.type, x1));
      out.weight.setBits(i / 2, byte);
    }
  }
  out.quantMap.reset(DType::F32, {16});
  for (int64_t i = 0; i < 16; ++i)
    setF32(out.quantMap, i, bnb4CodeTable(p.type)[static_cast<size_t>(i)]);

  if (!p.doubleQuant) {
    out.absmax.reset(DType::F32, {blocks});
    for (int64_t b = 0; b < blocks; ++b)
      setF32(out.absmax, b, absmax[static_cast<size_t>(b)]);
    out.nestedAbsmax = StoredTensor();
    out.nestedQuantMap = StoredTensor();
    out.nestedOffset = 0.0f;
    return true;
  }

  // Double quantization: offset = absmax.mean(), then quantize_blockwise of
  // absmax - offset (blocks of 256) into the dynamic map.
  const float offset = bnbFloatMean(absmax.data(), blocks);
  const auto map = bnbDynamicMap(true);
  std::vector<float> centred(static_cast<size_t>(blocks));
  for (int64_t b = 0; b < blocks; ++b)
    centred[static_cast<size_t>(b)] = absmax[static_cast<size_t>(b)] - offset;
  std::vector<uint8_t> codes;
  std::vector<float> nestedAbsmax;
  if (!bnbQuantizeBlockwise8(centred.data(), blocks, p.nestedBlocksize, map,
                             codes, nestedAbsmax, error))
    return false;
  out.absmax.reset(DType::U8, {blocks});
  for (int64_t b = 0; b < blocks; ++b)
    out.absmax.setBits(b, codes[static_cast<size_t>(b)]);
  out.nestedAbsmax.reset(DType::F32,
                         {static_cast<int64_t>(nestedAbsmax.size())});
  for (size_t j = 0; j < nestedAbsmax.size(); ++j)
    setF32(out.nestedAbsmax, static_cast<int64_t>(j), nestedAbsmax[j]);
  out.nestedQuantMap.reset(DType::F32, {256});
  for (int64_t i = 0; i < 256; ++i)
    setF32(out.nestedQuantMap, i, map[static_cast<size_t>(i)]);
  out.nestedOffset = offset;
  return true;
}

//===----------------------------------------------------------------------===//
// LLM.int8()
//===----------------------------------------------------------------------===//

/// __float2int_rn into int8: round half to even; NaN (0 * inf for an
/// all-zero row) gives 0 as on the GPU; saturated so that no input is UB.
static int8_t roundToInt8(float v) {
  if (std::isnan(v))
    return 0;
  float r = std::nearbyint(std::fmin(127.0f, std::fmax(-128.0f, v)));
  return static_cast<int8_t>(r);
}

bool dequantizeBnbInt8(const TensorView &cb, const TensorView &scb, int64_t n,
                       int64_t k, std::vector<float> &w, std::string &error) {
  if (!checkMatrixShape("bnb int8", n, k, error) ||
      !expectView(cb, "weight", DType::I8, {n, k}, error) ||
      !expectView(scb, "SCB", DType::F32, {n}, error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t r = 0; r < n; ++r) {
    const double rowScale = scb.at(r);
    for (int64_t c = 0; c < k; ++c)
      w[static_cast<size_t>(r * k + c)] = static_cast<float>(
          static_cast<double>(cb.at(r * k + c)) * rowScale / 127.0);
  }
  return true;
}

bool quantizeBnbInt8(const float *w, int64_t n, int64_t k, StoredTensor &cb,
                     StoredTensor &scb, std::string &error) {
  if (!checkMatrixShape("bnb int8", n, k, error))
    return false;
  if (w == nullptr) {
    error = "bnb int8: the weight has no data";
    return false;
  }
  cb.reset(DType::I8, {n, k});
  scb.reset(DType::F32, {n});
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    float amax = 0.0f;
    for (int64_t c = 0; c < k; ++c) {
      // Int8Params quantizes W.to(float16).
      row[static_cast<size_t>(c)] = roundToDType(DType::F16, w[r * k + c]);
      amax = std::fmax(amax, std::fabs(row[static_cast<size_t>(c)]));
    }
    setF32(scb, r, amax);
    const float scale = 127.0f / amax;
    for (int64_t c = 0; c < k; ++c) {
      float v = row[static_cast<size_t>(c)] * scale;
      cb.setBits(r * k + c, static_cast<uint8_t>(roundToInt8(v)));
    }
  }
  return true;
}

bool quantizeBnbInt8Activations(const float *x, int64_t m, int64_t k,
                                float threshold, std::vector<int8_t> &ca,
                                std::vector<float> &sca,
                                std::vector<int64_t> &outlierCols,
                                std::string &error) {
  if (!checkMatrixShape("bnb int8 activations", m, k, error))
    return false;
  if (x == nullptr) {
    error = "bnb int8: the activations have no data";
    return false;
  }
  if (!(threshold >= 0.0f) || !std::isfinite(threshold)) {
    error = "bnb int8 threshold must be finite and non-negative, got " +
            std::to_string(threshold);
    return false;
  }
  // Both the outlier test (A.abs() >= threshold on an fp16 tensor) and the
  // kernel's `absval < T(threshold)` compare in fp16.
  const float t = roundToDType(DType::F16, threshold);
  const bool sparse = threshold > 0.0f;
  std::vector<float> x16(static_cast<size_t>(m * k));
  for (int64_t i = 0; i < m * k; ++i)
    x16[static_cast<size_t>(i)] = roundToDType(DType::F16, x[i]);
  auto isOutlier = [&](int64_t i) {
    return sparse && std::fabs(x16[static_cast<size_t>(i)]) >= t;
  };
  std::vector<bool> outlierCol(static_cast<size_t>(k), false);
  for (int64_t i = 0; i < m * k; ++i)
    if (isOutlier(i))
      outlierCol[static_cast<size_t>(i % k)] = true;
  outlierCols.clear();
  for (int64_t c = 0; c < k; ++c)
    if (outlierCol[static_cast<size_t>(c)])
      outlierCols.push_back(c);

  ca.assign(static_cast<size_t>(m * k), 0);
  sca.assign(static_cast<size_t>(m), 0.0f);
  for (int64_t r = 0; r < m; ++r) {
    // The row absmax skips the outlier elements themselves, not their whole
    // columns: a small value in an outlier column still counts.
    float amax = 0.0f;
    for (int64_t c = 0; c < k; ++c)
      if (!isOutlier(r * k + c))
        amax = std::fmax(amax, std::fabs(x16[static_cast<size_t>(r * k + c)]));
    sca[static_cast<size_t>(r)] = amax;
    const float scale = 127.0f / amax;
    for (int64_t c = 0; c < k; ++c) {
      if (outlierCol[static_cast<size_t>(c)])
        continue; // zeroed across all rows
      float v = x16[static_cast<size_t>(r * k + c)] * scale;
      ca[static_cast<size_t>(r * k + c)] = roundToInt8(v);
    }
  }
  return true;
}

bool bnbInt8Linear(const float *x, int64_t m, const TensorView &cb,
                   const TensorView &scb, int64_t n, int64_t k, float threshold,
                   const float *bias, std::vector<float> &y,
                   std::string &error) {
  if (!checkMatrixShape("bnb int8", n, k, error) ||
      !expectView(cb, "weight", DType::I8, {n, k}, error) ||
      !expectView(scb, "SCB", DType::F32, {n}, error))
    return false;
  std::vector<int8_t> ca;
  std::vector<float> sca;
  std::vector<int64_t> outliers;
  if (!quantizeBnbInt8Activations(x, m, k, threshold, ca, sca, outliers, error))
    return false;
  const auto *cbData = static_cast<const int8_t *>(cb.data);
  y.assign(static_cast<size_t>(m * n), 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      // int8 x int8 -> int32 GEMM (exact; int64 so no K overflows it).
      int64_t acc = 0;
      for (int64_t c = 0; c < k; ++c)
        acc += int64_t(ca[static_cast<size_t>(i * k + c)]) * cbData[j * k + c];
      const double rowScale = scb.at(j);
      double out = static_cast<double>(acc) * sca[static_cast<size_t>(i)] *
                   rowScale / (127.0 * 127.0);
      // Outlier columns in 16-bit against the dequantized weight columns.
      for (int64_t c : outliers)
        out += static_cast<double>(x[i * k + c]) *
               (static_cast<double>(cbData[j * k + c]) * rowScale / 127.0);
      if (bias)
        out += bias[j];
      y[static_cast<size_t>(i * n + j)] = static_cast<float>(out);
    }
  return true;
}

} // namespace hfq::kernels
