//===- FineGrainedFp8.cpp - FineGrainedFP8 reference ----------------------===//
//
// Written from transformers' integrations/finegrained_fp8.py: FP8Linear,
// fp8_act_quant_kernel, w8a8_block_fp8_matmul_kernel (the accumulation
// order), Fp8Quantize / Fp8Dequantize.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/FineGrainedFp8.h"

#include <algorithm>
#include <cmath>

namespace hfq::kernels {

namespace {

constexpr float kFp8Max = 448.0f;

// Validates weight / weight_scale_inv and returns how to find a scale:
// scale index of element (i, j) = (i / rowDiv) * cols + j / colDiv.
struct ScaleGrid {
  int64_t rowDiv = 1, colDiv = 1, cols = 1;
  bool perTensor = false;
  int64_t index(int64_t i, int64_t j) const {
    return perTensor ? 0 : (i / rowDiv) * cols + j / colDiv;
  }
};

bool checkWeight(const TensorView &weight, const TensorView &scaleInv,
                 int64_t n, int64_t k, int64_t blockN, int64_t blockK,
                 ScaleGrid &grid, std::string &error) {
  if (!checkMatrixShape("FineGrainedFP8", n, k, error))
    return false;
  if ((blockN == 0) != (blockK == 0) || blockN < 0 || blockK < 0) {
    error = "weight_block_size must be two positive integers (or 0, 0 for "
            "null), got [" +
            std::to_string(blockN) + ", " + std::to_string(blockK) + "]";
    return false;
  }
  if (!expectView(weight, "weight", DType::F8E4M3FN, {n, k}, error))
    return false;
  if (blockN == 0) {
    grid.perTensor = true;
    return expectView(scaleInv, "weight_scale_inv", DType::F32, {}, error);
  }
  grid.rowDiv = blockN;
  grid.colDiv = blockK;
  grid.cols = ceilDiv(k, blockK);
  return expectView(scaleInv, "weight_scale_inv", DType::F32,
                    {ceilDiv(n, blockN), grid.cols}, error);
}

} // namespace

bool dequantizeFp8Block(const TensorView &weight, const TensorView &scaleInv,
                        int64_t n, int64_t k, int64_t blockN, int64_t blockK,
                        std::vector<float> &w, std::string &error) {
  ScaleGrid grid;
  if (!checkWeight(weight, scaleInv, n, k, blockN, blockK, grid, error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j)
      w[i * k + j] = weight.at(i * k + j) * scaleInv.at(grid.index(i, j));
  return true;
}

bool quantizeFp8Block(const float *w, int64_t n, int64_t k, int64_t blockN,
                      int64_t blockK, Fp8Quantized &out, std::string &error) {
  if (!checkMatrixShape("FineGrainedFP8", n, k, error))
    return false;
  if (!checkFinite(w, n * k, "FineGrainedFP8: weight", error))
    return false;
  const bool perTensor = blockN == 0 && blockK == 0;
  if (!perTensor && (blockN < 1 || blockK < 1)) {
    error = "weight_block_size must be two positive integers (or 0, 0 for "
            "null), got [" +
            std::to_string(blockN) + ", " + std::to_string(blockK) + "]";
    return false;
  }
  const int64_t bn = perTensor ? n : blockN, bk = perTensor ? k : blockK;
  if (n % bn != 0 || k % bk != 0) {
    // Fp8Quantize's own precondition ("must be divisible by block sizes").
    error = "Matrix dimensions (" + std::to_string(n) + ", " +
            std::to_string(k) + ") must be divisible by block sizes (" +
            std::to_string(bn) + ", " + std::to_string(bk) + ")";
    return false;
  }
  out = Fp8Quantized();
  out.weight.reset(DType::F8E4M3FN, {n, k});
  out.scaleInv.reset(DType::F32, perTensor
                                     ? std::vector<int64_t>{}
                                     : std::vector<int64_t>{n / bn, k / bk});
  for (int64_t bi = 0; bi < n / bn; ++bi)
    for (int64_t bj = 0; bj < k / bk; ++bj) {
      float amax = 0.0f;
      for (int64_t i = bi * bn; i < (bi + 1) * bn; ++i)
        for (int64_t j = bj * bk; j < (bj + 1) * bk; ++j)
          amax = std::max(amax, std::fabs(w[i * k + j]));
      const float scale = amax > 0.0f ? kFp8Max / amax : 1.0f;
      for (int64_t i = bi * bn; i < (bi + 1) * bn; ++i)
        for (int64_t j = bj * bk; j < (bj + 1) * bk; ++j) {
          const float v = std::clamp(w[i * k + j] * scale, -kFp8Max, kFp8Max);
          out.weight.setBits(i * k + j, floatToFp8e4m3(v));
        }
      out.scaleInv.setFloat(bi * (k / bk) + bj, 1.0f / scale);
    }
  return true;
}

bool quantizeFp8ActivationGroups(const float *x, int64_t m, int64_t k,
                                 int64_t groupSize, std::vector<uint8_t> &x8,
                                 std::vector<float> &scales,
                                 std::string &error) {
  if (!checkMatrixShape("fp8 activation quantization", m, k, error))
    return false;
  if (!checkFinite(x, m * k, "fp8 activation quantization: activation", error))
    return false;
  if (groupSize < 1) {
    error = "fp8 activation group size must be positive, got " +
            std::to_string(groupSize);
    return false;
  }
  const int64_t groups = ceilDiv(k, groupSize);
  x8.assign(static_cast<size_t>(m * k), 0);
  scales.assign(static_cast<size_t>(m * groups), 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t lo = g * groupSize, hi = std::min(k, lo + groupSize);
      float amax = 0.0f;
      for (int64_t j = lo; j < hi; ++j)
        amax = std::max(amax, std::fabs(x[i * k + j]));
      const float s = amax / kFp8Max;
      scales[i * groups + g] = s;
      if (s == 0.0f)
        continue;
      for (int64_t j = lo; j < hi; ++j)
        x8[i * k + j] = floatToFp8e4m3(x[i * k + j] / s); // saturating RNE
    }
  return true;
}

bool fp8BlockScaledMatmul(const uint8_t *x8, const float *xScales,
                          int64_t xScaleCols, int64_t m,
                          const TensorView &weight, const TensorView &scaleInv,
                          int64_t n, int64_t k, int64_t blockN, int64_t blockK,
                          std::vector<float> &y, std::string &error) {
  ScaleGrid grid;
  if (!checkWeight(weight, scaleInv, n, k, blockN, blockK, grid, error) ||
      !checkMatrixShape("fp8 GEMM activations", m, k, error))
    return false;
  if (x8 == nullptr || xScales == nullptr) {
    error = "fp8 GEMM: activation has no data";
    return false;
  }
  // Per-tensor weights are tiled 128 x 128 by transformers' Triton wrapper.
  const int64_t chunk = grid.perTensor ? 128 : blockK;
  const int64_t chunks = ceilDiv(k, chunk);
  if (xScaleCols != 1 && xScaleCols != chunks) {
    error = "activation scales must have 1 or " + std::to_string(chunks) +
            " columns per token, got " + std::to_string(xScaleCols);
    return false;
  }
  y.assign(static_cast<size_t>(m * n), 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t lo = c * chunk, hi = std::min(k, lo + chunk);
        double dot = 0.0; // exact: see the header
        for (int64_t l = lo; l < hi; ++l)
          dot += static_cast<double>(fp8e4m3ToFloat(x8[i * k + l])) *
                 weight.at(j * k + l);
        const float sx = xScales[i * xScaleCols + (xScaleCols == 1 ? 0 : c)];
        const float sw = scaleInv.at(grid.index(j, lo));
        // accumulator += dot(a, b) * a_s * b_s, left to right in f32.
        float term = static_cast<float>(dot) * sx;
        term = term * sw;
        acc += term;
      }
      y[i * n + j] = acc;
    }
  return true;
}

bool fp8Linear(const float *x, int64_t m, const TensorView &weight,
               const TensorView &scaleInv, int64_t n, int64_t k, int64_t blockN,
               int64_t blockK, const TensorView *activationScale,
               const float *bias, std::vector<float> &y, std::string &error) {
  if (!checkMatrixShape("fp8 activations", m, k, error))
    return false;
  if (!checkFinite(x, m * k, "fp8 linear: activation", error))
    return false;
  std::vector<uint8_t> x8;
  std::vector<float> scales;
  int64_t scaleCols = 1;
  if (activationScale) {
    if (!expectView(*activationScale, "activation_scale", DType::F32, {},
                    error))
      return false;
    const float s = activationScale->at(0);
    if (!(s > 0.0f) || !std::isfinite(s)) {
      error = "activation_scale must be positive and finite, got " +
              std::to_string(s);
      return false;
    }
    x8.resize(static_cast<size_t>(m * k));
    for (int64_t i = 0; i < m * k; ++i)
      x8[i] = floatToFp8e4m3(std::clamp(x[i] / s, -kFp8Max, kFp8Max));
    scales.assign(static_cast<size_t>(m), s);
  } else {
    if (blockK < 1) {
      error = "dynamic fp8 activations need weight_block_size (the per-token "
              "group is its second entry); per-tensor weights need "
              "activation_scheme static";
      return false;
    }
    if (!quantizeFp8ActivationGroups(x, m, k, blockK, x8, scales, error))
      return false;
    scaleCols = ceilDiv(k, blockK);
  }
  if (!fp8BlockScaledMatmul(x8.data(), scales.data(), scaleCols, m, weight,
                            scaleInv, n, k, blockN, blockK, y, error))
    return false;
  if (bias)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        y[i * n + j] += bias[j];
  return true;
}

} // namespace hfq::kernels
