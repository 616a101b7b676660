//===- CompressedTensors.cpp - compressed-tensors reference ---------------===//
//
// Written from compressed-tensors' pack_to_int32 / unpack_from_int32,
// PackedQuantizationCompressor.compression_param_info (shapes), dequantize /
// _process_quantization (group and block indexing) and calculate_qparams.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/CompressedTensors.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace hfq::kernels {

bool checkCtBits(int64_t bits, std::string &error) {
  if (bits < 1 || bits > 8) {
    error = "compressed-tensors stores 1 to 8 bits per value, got num_bits=" +
            std::to_string(bits);
    return false;
  }
  return true;
}

namespace {

const char *strategyName(CtStrategy s) {
  switch (s) {
  case CtStrategy::Tensor:
    return "tensor";
  case CtStrategy::Channel:
    return "channel";
  case CtStrategy::Group:
    return "group";
  case CtStrategy::Block:
    return "block";
  }
  return "?";
}

bool makeGrid(const CtWeightScheme &scheme, int64_t n, int64_t k,
              bool allowBlock, CtParamGrid &grid, std::string &error) {
  switch (scheme.strategy) {
  case CtStrategy::Tensor:
    grid.rowDiv = n;
    grid.colDiv = k;
    grid.shape = {1};
    return true;
  case CtStrategy::Channel:
    grid.rows = n;
    grid.colDiv = k;
    grid.shape = {n, 1};
    return true;
  case CtStrategy::Group:
    if (scheme.groupSize < 1) {
      error = "compressed-tensors group_size must be positive, got " +
              std::to_string(scheme.groupSize);
      return false;
    }
    grid.rows = n;
    grid.cols = ceilDiv(k, scheme.groupSize);
    grid.colDiv = scheme.groupSize;
    grid.shape = {grid.rows, grid.cols};
    return true;
  case CtStrategy::Block:
    if (!allowBlock) {
      error = "compressed-tensors integer weights have no block strategy";
      return false;
    }
    if (scheme.blockN < 1 || scheme.blockK < 1) {
      error = "compressed-tensors block_structure must be positive, got [" +
              std::to_string(scheme.blockN) + ", " +
              std::to_string(scheme.blockK) + "]";
      return false;
    }
    grid.rows = ceilDiv(n, scheme.blockN);
    grid.cols = ceilDiv(k, scheme.blockK);
    grid.rowDiv = scheme.blockN;
    grid.colDiv = scheme.blockK;
    grid.shape = {grid.rows, grid.cols};
    return true;
  }
  error = "compressed-tensors: unknown strategy";
  return false;
}

bool readGIdx(const CtWeightScheme &scheme, const TensorView *gIdx, int64_t k,
              CtParamGrid &grid, std::string &error) {
  if (gIdx == nullptr)
    return true;
  if (scheme.strategy != CtStrategy::Group) {
    error = std::string("weight_g_idx is only used with the group strategy, "
                        "got ") +
            strategyName(scheme.strategy);
    return false;
  }
  if (!expectView(*gIdx, "weight_g_idx", DType::I32, {k}, error))
    return false;
  std::vector<int32_t> values(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) {
    values[i] = static_cast<int32_t>(gIdx->bits(i));
    // compressed-tensors treats any -1 as "g_idx not initialised": column
    // order for the whole tensor.
    if (values[i] == -1)
      return true;
  }
  for (int64_t i = 0; i < k; ++i)
    if (values[i] < 0 || values[i] >= grid.cols) {
      error = "weight_g_idx[" + std::to_string(i) +
              "] = " + std::to_string(values[i]) +
              " is not a group index in [0, " + std::to_string(grid.cols) + ")";
      return false;
    }
  grid.gIdx = std::move(values);
  return true;
}

void affineDequant(const CtIntWeight &q, const TensorView &scale, int64_t n,
                   int64_t k, std::vector<float> &w) {
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      const int64_t p = q.grid.index(row, col);
      int32_t v = q.values[row * k + col] - (q.zeros.empty() ? 0 : q.zeros[p]);
      w[row * k + col] = static_cast<float>(v) * scale.at(p);
    }
}

/// An i8 tensor of `shape` whose values lie in the signed `bits` range.
bool readCtInt8(const TensorView &view, const char *name,
                const std::vector<int64_t> &shape, int bits,
                std::vector<int32_t> &values, std::string &error) {
  if (!expectView(view, name, DType::I8, shape, error))
    return false;
  values.resize(static_cast<size_t>(view.numel()));
  for (int64_t i = 0; i < view.numel(); ++i) {
    values[i] = static_cast<int32_t>(view.at(i));
    if (!checkIntRange(values[i], bits, name, i, error))
      return false;
  }
  return true;
}

} // namespace

bool checkIntRange(int32_t v, int bits, const char *name, int64_t at,
                   std::string &error) {
  const int32_t lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
  if (v < lo || v > hi) {
    error = std::string(name) + " value " + std::to_string(v) + " at " +
            std::to_string(at) + " is outside the signed " +
            std::to_string(bits) + "-bit range [" + std::to_string(lo) + ", " +
            std::to_string(hi) + "]";
    return false;
  }
  return true;
}

bool packCtInt32(const int32_t *values, int64_t rows, int64_t cols, int bits,
                 int packedDim, StoredTensor &out, std::string &error) {
  if (!checkCtBits(bits, error) ||
      !checkMatrixShape("pack_to_int32", rows, cols, error))
    return false;
  if (packedDim != 0 && packedDim != 1) {
    error = "pack_to_int32 packs along dim 0 or 1, got " +
            std::to_string(packedDim);
    return false;
  }
  const int64_t pf = 32 / bits;
  const uint32_t offset = 1u << (bits - 1);
  out.reset(DType::I32, packedDim == 1
                            ? std::vector<int64_t>{rows, ceilDiv(cols, pf)}
                            : std::vector<int64_t>{ceilDiv(rows, pf), cols});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int32_t v = values[r * cols + c];
      if (!checkIntRange(v, bits, "pack_to_int32", r * cols + c, error))
        return false;
      const int64_t along = packedDim == 1 ? c : r;
      const int64_t word =
          packedDim == 1 ? r * out.shape[1] + c / pf : (r / pf) * cols + c;
      uint32_t field = static_cast<uint32_t>(v) + offset;
      out.setBits(word, out.bitsAt(word) |
                            (field << (bits * static_cast<int>(along % pf))));
    }
  return true;
}

bool unpackCtInt32(const TensorView &packed, const char *name, int bits,
                   int64_t rows, int64_t cols, int packedDim,
                   std::vector<int32_t> &values, std::string &error) {
  if (!checkCtBits(bits, error) ||
      !checkMatrixShape("unpack_from_int32", rows, cols, error))
    return false;
  if (packedDim != 0 && packedDim != 1) {
    error = "unpack_from_int32 unpacks along dim 0 or 1, got " +
            std::to_string(packedDim);
    return false;
  }
  const int64_t pf = 32 / bits;
  const std::vector<int64_t> shape =
      packedDim == 1 ? std::vector<int64_t>{rows, ceilDiv(cols, pf)}
                     : std::vector<int64_t>{ceilDiv(rows, pf), cols};
  if (!expectView(packed, name, DType::I32, shape, error))
    return false;
  const uint32_t mask = (1u << bits) - 1;
  const int32_t offset = 1 << (bits - 1);
  values.assign(static_cast<size_t>(rows * cols), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t along = packedDim == 1 ? c : r;
      const int64_t word =
          packedDim == 1 ? r * shape[1] + c / pf : (r / pf) * cols + c;
      const uint32_t field =
          (packed.bits(word) >> (bits * static_cast<int>(along % pf))) & mask;
      values[r * cols + c] = static_cast<int32_t>(field) - offset;
    }
  return true;
}

bool readCtIntWeight(const CtWeightScheme &scheme, bool packed,
                     const TensorView &weight, const TensorView &weightScale,
                     const CtOptionalTensors &optional, int64_t n, int64_t k,
                     CtIntWeight &out, std::string &error) {
  CtParamGrid &grid = out.grid;
  if (!checkMatrixShape(packed ? "pack-quantized" : "int-quantized", n, k,
                        error) ||
      !checkCtBits(scheme.bits, error) ||
      !makeGrid(scheme, n, k, /*allowBlock=*/false, grid, error) ||
      !readGIdx(scheme, optional.gIdx, k, grid, error))
    return false;
  if (packed && optional.shape) {
    const TensorView &shape = *optional.shape;
    if (!expectView(shape, "weight_shape", DType::I64, {2}, error))
      return false;
    const int64_t sn = shape.integer(0);
    const int64_t sk = shape.integer(1);
    if (sn != n || sk != k) {
      error = "weight_shape is [" + std::to_string(sn) + ", " +
              std::to_string(sk) + "], expected [" + std::to_string(n) + ", " +
              std::to_string(k) + "]";
      return false;
    }
  }
  if (packed ? !unpackCtInt32(weight, "weight_packed", scheme.bits, n, k, 1,
                              out.values, error)
             : !readCtInt8(weight, "weight", {n, k}, scheme.bits, out.values,
                           error))
    return false;
  if (!expectFloatView(weightScale, "weight_scale", grid.shape, error))
    return false;
  if (!optional.zeroPoint)
    return true;
  // A per-tensor zero point is not packed (the compressor packs only group /
  // channel ones): like an int-quantized one it is an i8 parameter with the
  // scale's shape.
  if (!packed || scheme.strategy == CtStrategy::Tensor)
    return readCtInt8(*optional.zeroPoint, "weight_zero_point", grid.shape,
                      scheme.bits, out.zeros, error);
  return unpackCtInt32(*optional.zeroPoint, "weight_zero_point", scheme.bits,
                       grid.rows, grid.cols, 0, out.zeros, error);
}

bool dequantizeCtPacked(const CtWeightScheme &scheme,
                        const TensorView &weightPacked,
                        const TensorView &weightScale,
                        const TensorView *weightZeroPoint,
                        const TensorView *weightGIdx,
                        const TensorView *weightShape, int64_t n, int64_t k,
                        std::vector<float> &w, std::string &error) {
  CtIntWeight q;
  if (!readCtIntWeight(scheme, /*packed=*/true, weightPacked, weightScale,
                       {weightZeroPoint, weightGIdx, weightShape}, n, k, q,
                       error))
    return false;
  affineDequant(q, weightScale, n, k, w);
  return true;
}

bool dequantizeCtInt(const CtWeightScheme &scheme, const TensorView &weight,
                     const TensorView &weightScale,
                     const TensorView *weightZeroPoint,
                     const TensorView *weightGIdx, int64_t n, int64_t k,
                     std::vector<float> &w, std::string &error) {
  CtIntWeight q;
  if (!readCtIntWeight(scheme, /*packed=*/false, weight, weightScale,
                       {weightZeroPoint, weightGIdx, nullptr}, n, k, q, error))
    return false;
  affineDequant(q, weightScale, n, k, w);
  return true;
}

bool dequantizeCtFloat(const CtWeightScheme &scheme, const TensorView &weight,
                       const TensorView &weightScale, int64_t n, int64_t k,
                       std::vector<float> &w, std::string &error) {
  CtParamGrid grid;
  if (!checkMatrixShape("float-quantized", n, k, error))
    return false;
  if (scheme.bits != 8) {
    error = "float-quantized weights are 8-bit e4m3, got num_bits=" +
            std::to_string(scheme.bits);
    return false;
  }
  if (!makeGrid(scheme, n, k, /*allowBlock=*/true, grid, error) ||
      !expectView(weight, "weight", DType::F8E4M3FN, {n, k}, error) ||
      !expectFloatView(weightScale, "weight_scale", grid.shape, error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col)
      w[row * k + col] =
          weight.at(row * k + col) * weightScale.at(grid.index(row, col));
  return true;
}

bool quantizeInt8PerToken(const float *x, int64_t m, int64_t k,
                          std::vector<int8_t> &xq, std::vector<float> &scales,
                          std::string &error, Int8TokenScale rule) {
  if (!checkMatrixShape("int8 per-token quantization", m, k, error))
    return false;
  if (!checkFinite(x, m * k, "int8 per-token quantization: activation", error))
    return false;
  xq.assign(static_cast<size_t>(m * k), 0);
  scales.assign(static_cast<size_t>(m), 0.0f);
  for (int64_t row = 0; row < m; ++row) {
    float absmax = 0.0f;
    for (int64_t col = 0; col < k; ++col)
      absmax = std::max(absmax, std::fabs(x[row * k + col]));
    float s = rule == Int8TokenScale::Absmax127
                  ? absmax / 127.0f
                  : std::max(absmax / 127.5f, FLT_EPSILON);
    scales[row] = s;
    if (s == 0.0f)
      continue; // all-zero token: q = 0
    for (int64_t col = 0; col < k; ++col) {
      float v = std::nearbyint(x[row * k + col] / s);
      xq[row * k + col] = static_cast<int8_t>(clampCode(v, -128.0f, 127.0f));
    }
  }
  return true;
}

bool int8ScaledLinear(const int8_t *xq, const float *xScales, int64_t m,
                      const TensorView &weight, const TensorView &weightScale,
                      int64_t n, int64_t k, const float *bias,
                      std::vector<float> &y, std::string &error) {
  if (!checkMatrixShape("int8 GEMM", n, k, error) ||
      !checkMatrixShape("int8 GEMM activations", m, k, error) ||
      !expectView(weight, "weight", DType::I8, {n, k}, error))
    return false;
  if (xq == nullptr || xScales == nullptr) {
    error = "int8 GEMM: activation has no data";
    return false;
  }
  const bool perTensor = weightScale.shape == std::vector<int64_t>{1};
  if (!expectFloatView(weightScale, "weight_scale",
                       perTensor ? std::vector<int64_t>{1}
                                 : std::vector<int64_t>{n, 1},
                       error))
    return false;
  y.assign(static_cast<size_t>(m * n), 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t acc = 0;
      for (int64_t l = 0; l < k; ++l)
        acc += static_cast<int64_t>(xq[i * k + l]) *
               static_cast<int64_t>(weight.at(j * k + l));
      float v = static_cast<float>(acc) * xScales[i];
      v = v * weightScale.at(perTensor ? 0 : j);
      if (bias)
        v += bias[j];
      y[i * n + j] = v;
    }
  return true;
}

bool ctInt8DynamicLinear(const float *x, int64_t m, const TensorView &weight,
                         const TensorView &weightScale, int64_t n, int64_t k,
                         const float *bias, std::vector<float> &y,
                         std::string &error, Int8TokenScale rule) {
  std::vector<int8_t> xq;
  std::vector<float> scales;
  return quantizeInt8PerToken(x, m, k, xq, scales, error, rule) &&
         int8ScaledLinear(xq.data(), scales.data(), m, weight, weightScale, n,
                          k, bias, y, error);
}

} // namespace hfq::kernels
