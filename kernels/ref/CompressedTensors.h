//===- CompressedTensors.h - compressed-tensors reference -------*- C++ -*-===//
//
// compressed-tensors (llm-compressor / vLLM) checkpoint formats
// (specs/compressed-tensors.json; quant-formats-and-kernels.md §2.9). These
// checkpoints are always pre-quantized (requires_calibration), so there are
// dequantizers only, plus the bit packer (pack_to_int32) for building test
// tensors and the dynamic per-token int8 activation quantization of W8A8.
//
// pack-quantized (1..8 bits): `weight_packed` i32 [N, ceil(K/pf)] with
// pf = 32 / bits (integer division: 8 values per word at 4 bits, 10 at 3
// bits, 4 at 7 or 8 bits); along K, LSB first: element j of word w is column
// w*pf + j at bits j*bits. Each field holds the signed value plus 2^(bits-1);
// padding fields are 0. `weight_zero_point` (asymmetric group / channel) is
// packed the same way along N (dim 0): i32 [ceil(N/pf), G].
// int-quantized / naive-quantized: the signed integers unpacked in an i8
// [N, K]; zero points i8 with the scale's shape.
// float-quantized: `weight` f8E4M3FN [N, K] times a scale per tensor [1],
// channel [N, 1], group [N, ceil(K/g)] or block [ceil(N/bn), ceil(K/bk)].
//
// Dequantization: w = (q - zp) * scale (float: w = q * scale), with the
// scale / zero point of the element's tensor, row, (row, group) or block.
// Groups are column k / g (ceil(K/g) of them, the last may be short), or
// g_idx[k] with activation ordering (as a direct map; compressed-tensors
// sorts columns by g_idx and cuts g-wide groups, which is the same map when
// every group has g members, as GPTQ-style act-order produces).
// compressed-tensors computes in the scale's dtype; here in f32, where the
// product of a (q - zp) of at most 9 bits and a 16-bit scale is exact.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_COMPRESSEDTENSORS_H
#define HFQ_KERNELS_REF_COMPRESSEDTENSORS_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <string>
#include <vector>

namespace hfq::kernels {

enum class CtStrategy { Tensor, Channel, Group, Block };

/// The `weights` quantization args of a compressed-tensors scheme.
struct CtWeightScheme {
  int bits = 4;
  CtStrategy strategy = CtStrategy::Group;
  int64_t groupSize = 128; // strategy == Group
  int64_t blockN = 128;    // strategy == Block (block_structure[0])
  int64_t blockK = 128;    // strategy == Block (block_structure[1])
};

struct CompressedTensorsArgs; // kernels/generated/MethodArgs.h

/// A compressed-tensors layout, from its args (CompressedTensorsEntry.cpp).
struct CtLayout {
  /// 0 pack-quantized, 1 int-quantized, 2 naive-quantized int,
  /// 3 float-quantized, 4 naive-quantized float.
  int format = 0;
  CtWeightScheme scheme;
  bool asymmetric = false;
  bool gIdx = false;
  /// 0 none, 1 dynamic int, 2 static, 3 dynamic float.
  int inputMode = 0;

  bool isPacked() const { return format == 0; }
  bool isFloat() const { return format >= 3; }
  /// The layout's tensors: the weight (weight_packed or weight),
  /// weight_scale, then weight_zero_point when asymmetric, weight_g_idx
  /// with gIdx, weight_shape when packed, input_scale for static
  /// activations.
  size_t tensorCount() const;
};

/// `args` as a CtLayout, checking that the sizes are non-negative, that the
/// group strategy has a positive group size and that the table has `tensors`
/// rows, the layout's count.
bool ctLayout(const CompressedTensorsArgs &args, size_t tensors,
              CtLayout &layout, std::string &error);

/// The optional tensors of `packed` (laid out as CtLayout says), null when
/// the layout has none.
struct CtOptionalTensors {
  const TensorView *zeroPoint = nullptr;
  const TensorView *gIdx = nullptr;
  const TensorView *shape = nullptr;
};
CtOptionalTensors ctOptionalTensors(const CtLayout &layout,
                                    const std::vector<TensorView> &packed);

/// compressed-tensors stores 1 to 8 bits per value.
bool checkCtBits(int64_t bits, std::string &error);

/// Checks that `v` (element `at` of tensor `name`) lies in the signed
/// `bits`-bit range [-2^(bits-1), 2^(bits-1) - 1]; the message names both.
bool checkIntRange(int32_t v, int bits, const char *name, int64_t at,
                   std::string &error);

/// pack_to_int32: `values` (signed, in [-2^(bits-1), 2^(bits-1)-1],
/// row-major [rows, cols]) packed along dim 1 (packedDim 1, weight_packed)
/// or dim 0 (packedDim 0, weight_zero_point) into i32.
bool packCtInt32(const int32_t *values, int64_t rows, int64_t cols, int bits,
                 int packedDim, StoredTensor &out, std::string &error);

/// unpack_from_int32: the inverse, to signed values [rows * cols].
bool unpackCtInt32(const TensorView &packed, const char *name, int bits,
                   int64_t rows, int64_t cols, int packedDim,
                   std::vector<int32_t> &values, std::string &error);

/// Where each weight element finds its scale (and zero point): a grid of
/// `rows` x `cols` parameters, element (n, k) using [n / rowDiv][group(k)],
/// group(k) = gIdx ? gIdx[k] : k / colDiv.
struct CtParamGrid {
  int64_t rows = 1, cols = 1;
  int64_t rowDiv = 1, colDiv = 1;
  std::vector<int64_t> shape; // the scale tensor's shape
  std::vector<int32_t> gIdx;  // empty: column order

  int64_t index(int64_t n, int64_t k) const {
    const int64_t col = gIdx.empty() ? k / colDiv : gIdx[k];
    return (n / rowDiv) * cols + col;
  }
};

/// An int weight read out of its tensors, checked: signed values [N * K],
/// the parameter grid and the signed zero points (per grid cell; empty when
/// symmetric).
struct CtIntWeight {
  std::vector<int32_t> values;
  CtParamGrid grid;
  std::vector<int32_t> zeros;
};

/// Reads a pack-quantized (`packed`) or int-quantized / naive-quantized int
/// weight (strategy tensor, channel or group), checking every tensor as the
/// dequantizers below do; `optional` holds the tensors a layout may lack.
bool readCtIntWeight(const CtWeightScheme &scheme, bool packed,
                     const TensorView &weight, const TensorView &weightScale,
                     const CtOptionalTensors &optional, int64_t n, int64_t k,
                     CtIntWeight &out, std::string &error);

/// pack-quantized (int; strategy tensor, channel or group). Optional
/// tensors are nullptr when absent: `weightZeroPoint` (asymmetric),
/// `weightGIdx` (i32 [K], group strategy with actorder; as in
/// compressed-tensors a g_idx containing -1 means column order),
/// `weightShape` (i64 [2], checked against N, K when given).
bool dequantizeCtPacked(const CtWeightScheme &scheme,
                        const TensorView &weightPacked,
                        const TensorView &weightScale,
                        const TensorView *weightZeroPoint,
                        const TensorView *weightGIdx,
                        const TensorView *weightShape, int64_t n, int64_t k,
                        std::vector<float> &w, std::string &error);

/// int-quantized and naive-quantized int (strategy tensor, channel or
/// group): `weight` i8 [N, K] whose values must lie in the signed
/// `scheme.bits` range; zero points i8 with the scale's shape.
bool dequantizeCtInt(const CtWeightScheme &scheme, const TensorView &weight,
                     const TensorView &weightScale,
                     const TensorView *weightZeroPoint,
                     const TensorView *weightGIdx, int64_t n, int64_t k,
                     std::vector<float> &w, std::string &error);

/// float-quantized and naive-quantized float (8-bit e4m3; any strategy).
bool dequantizeCtFloat(const CtWeightScheme &scheme, const TensorView &weight,
                       const TensorView &weightScale, int64_t n, int64_t k,
                       std::vector<float> &w, std::string &error);

/// How the per-token scale of a dynamic int8 activation is chosen.
enum class Int8TokenScale {
  /// s = max|x| / 127, the W8A8 kernels' rule (vLLM scaled_int8_quant) and
  /// hfq's; an all-zero token gets s = 0 and q = 0.
  Absmax127,
  /// compressed-tensors' own QDQ (calculate_qparams, symmetric):
  /// s = max(max|x| / 127.5, f32 eps).
  HalfRange,
};

/// Symmetric dynamic per-token int8 quantization of x [M, K]:
/// q = clamp(round(x / s), -128, 127) (round half to even).
bool quantizeInt8PerToken(const float *x, int64_t m, int64_t k,
                          std::vector<int8_t> &xq, std::vector<float> &scales,
                          std::string &error,
                          Int8TokenScale rule = Int8TokenScale::Absmax127);

/// The W8A8 int8 GEMM every backend computes:
/// y[m, n] = (sum_k xq[m, k] * wq[n, k]) * xScale[m] * wScale[n] (+ bias[n]),
/// the integer sum exact (int64), the epilogue in f32 in that order.
/// `weight` i8 [N, K]; `weightScale` float [N, 1] (channel) or [1] (tensor).
bool int8ScaledLinear(const int8_t *xq, const float *xScales, int64_t m,
                      const TensorView &weight, const TensorView &weightScale,
                      int64_t n, int64_t k, const float *bias,
                      std::vector<float> &y, std::string &error);

/// int-quantized W8A8 with dynamic per-token activations: quantizes x with
/// `rule`, then int8ScaledLinear.
bool ctInt8DynamicLinear(const float *x, int64_t m, const TensorView &weight,
                         const TensorView &weightScale, int64_t n, int64_t k,
                         const float *bias, std::vector<float> &y,
                         std::string &error,
                         Int8TokenScale rule = Int8TokenScale::Absmax127);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_COMPRESSEDTENSORS_H
