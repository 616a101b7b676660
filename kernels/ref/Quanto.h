//===- Quanto.h - optimum-quanto reference (de)quantizers -------*- C++ -*-===//
//
// optimum-quanto weight formats as quanto serializes a frozen QLinear
// (specs/quanto.json; quant-formats-and-kernels.md §2.8). transformers
// quantizes these on the fly at load, so both directions are here.
//
//  * qint8 / qfloat8 (WeightQBytesTensor): `weight._data` i8 or f8 [N, K],
//    `weight._scale` [N, 1] in the weight's float dtype; w = _data * _scale.
//  * qint4 / qint2 (WeightQBitsTensor): W [N, K] is grouped by a plain
//    row-major reshape to [R, g] (R = N*K/g, groups along K); `_scale` and
//    `_shift` are [R, 1]; with the default float shift w = _scale*q - _shift.
//    `weight._data._data` is uint8 [ceil(R / (8/b)), g]: the R rows are cut
//    into 8/b planes of R' = ceil(R / (8/b)) consecutive rows and packed row
//    r holds rows r, r+R', r+2R', ... at bits 0, b, 2b, ... (first plane in
//    the LOW bits — the opposite of HQQ). The last plane may be partial; its
//    missing rows are zero bits.
//
// Dequantizers compute in f32. With the usual 16-bit scales every product
// is exact (an 8-bit integer or fp8 code times an f16/bf16 value) and only
// `scale*q - shift` may round, once. torch does the same arithmetic in the
// 16-bit dtype, rounding after each op; that rounding is the caller's.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_QUANTO_H
#define HFQ_KERNELS_REF_QUANTO_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <string>
#include <vector>

namespace hfq::kernels {

enum class QuantoWeights { Int8, Float8, Int4, Int2 };

struct QuantoArgs; // kernels/generated/MethodArgs.h

/// The layout args (specs/quanto.json), checked (QuantoEntry.cpp).
struct QuantoParams {
  QuantoWeights weights = QuantoWeights::Int8;
  int bits = 8;
  int64_t groupSize = 0; ///< int4 / int2 only
};

/// `args` as QuantoParams: a weights code with its bits (int8 (0, 8),
/// float8 (1, 8), int4 (2, 4), int2 (3, 2)) and, below 8 bits, a positive
/// group_size; or false with `error`.
bool quantoParams(const QuantoArgs &args, QuantoParams &p, std::string &error);

/// quanto's group size for qint4 / qint2 (QModuleMixin.__init__): start at
/// 128 and lower by 32 while it does not divide K (down to 32); when K <= 128
/// or nothing divides K, quanto uses no group (one group per row, g = K).
int64_t quantoGroupSize(int64_t k);

/// Checks the table of a quanto layout: weight._data (or
/// weight._data._data), weight._scale, [weight._shift,] input_scale,
/// output_scale, the last two float scalars (QuantoEntry.cpp).
bool checkQuantoTable(const QuantoParams &p,
                      const std::vector<TensorView> &packed,
                      std::string &error);

/// The grouped rows of a qint4 / qint2 weight: R = N * K / g rows of g
/// codes, in planes of R' = ceil(R / (8 / bits)) packed rows; the shift an
/// integer (ui8 / i8) or a float.
struct QuantoGroups {
  int64_t rows = 0, planeRows = 0;
  bool intShift = false;
};

/// Checks bits, the group size and the tensors dequantizeQuantoBits reads.
bool checkQuantoBits(const TensorView &data, const TensorView &scale,
                     const TensorView &shift, int bits, int64_t n, int64_t k,
                     int64_t groupSize, QuantoGroups &g, std::string &error);

/// qint8 / qfloat8: `data` i8, f8E4M3FN or f8E5M2 [N, K]; `scale` f16/bf16/f32
/// [N, 1]. W[n, k] = data[n, k] * scale[n] into `w` (row-major [N, K]).
bool dequantizeQuantoBytes(const TensorView &data, const TensorView &scale,
                           int64_t n, int64_t k, std::vector<float> &w,
                           std::string &error);

/// qint4 / qint2 (`bits` 4 or 2) with group `groupSize` (must divide K; use
/// quantoGroupSize(k) for what quanto picks). `data` ui8
/// [ceil(R / (8/bits)), groupSize]; `scale` float [R, 1]; `shift` float
/// [R, 1] (w = scale*q - shift), or ui8/i8 [R, 1] for quanto's integer
/// zero-point variant (w = scale*(q - shift)).
bool dequantizeQuantoBits(const TensorView &data, const TensorView &scale,
                          const TensorView &shift, int bits, int64_t n,
                          int64_t k, int64_t groupSize, std::vector<float> &w,
                          std::string &error);

struct QuantoQuantized {
  StoredTensor data;     // weight._data (8-bit) or weight._data._data (packed)
  StoredTensor scale;    // weight._scale
  StoredTensor shift;    // weight._shift (int4 / int2 only; empty otherwise)
  int64_t groupSize = 0; // int4 / int2 only
};

/// Quantizes W [N, K] as transformers' QuantoHfQuantizer does at load
/// (AbsmaxOptimizer for 8-bit, MaxOptimizer with float shift for 4/2-bit).
/// `dtype` is the model's float dtype (f16, bf16 or f32): the weight is taken
/// as stored in it, the scale/shift are stored in it, and — as torch does —
/// every intermediate (absmax/qmax, w/scale, w+shift, ...) is rounded to it.
/// A group whose scale is 0 (constant weights) quantizes to q = 0, where
/// torch would divide 0/0.
bool quantizeQuanto(const float *w, int64_t n, int64_t k, QuantoWeights weights,
                    DType dtype, QuantoQuantized &out, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_QUANTO_H
