//===- Hqq.h - HQQ reference (de)quantizers ---------------------*- C++ -*-===//
//
// HQQ (half-quadratic quantization) as hqq's Quantizer stores a linear
// (specs/hqq.json; quant-formats-and-kernels.md §2.6).
//
// Grouping: W [N, K] is reshaped row-major to the grouped matrix [R, C]:
//   axis = 1 (groups along K, what fast backends need): [N*K/g, g],
//            scale / zero [R, 1];
//   axis = 0:                                           [g, N*K/g],
//            scale / zero [1, C];
//   no group (g = 0 here, None in hqq): [N, K] itself, one scale per row
//            (axis 1) or per column (axis 0).
// Element (r, c) of the grouped matrix is W's flat element r*C + c.
//
// Packing of W_q along dim 0 of the grouped matrix, in planes (plane p holds
// grouped rows [p*step, (p+1)*step)):
//   8bit_u8 (nbits 8, 6, 5): ui8 [R, C], unpacked;
//   4bit_u8: ui8 [R/2, C], plane 0 in the HIGH nibble, plane 1 in the low;
//   2bit_u8: ui8 [R/4, C], planes 0..3 at bits 6, 4, 2, 0;
//   3bit_32: i32 [ceil(R/10), C], planes 0..9 at bits 27, 24, ..., 0; R is
//            zero-padded to a multiple of 10 (step = ceil(R/10));
//   1bit_u8: ui8 [R/8, C], planes 0..7 at bits 7..0.
// With view_as_float the same bytes are stored reinterpreted as a float
// dtype ([rows, C*size/float-size]); the dequantizer accepts that too.
//
// Dequantization: W = ((W_q - zero) * scale).reshape(N, K), where the
// stored `scale` is the dequant multiplier (hqq inverts it when storing) and
// `zero` is a float in the quantized domain. Computed in f32 here; hqq does
// it in the compute dtype.
//
// 1.58-bit checkpoints use the 2bit_u8 packing with values 0..2: dequantize
// them with nbits = 2.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_HQQ_H
#define HFQ_KERNELS_REF_HQQ_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <string>
#include <vector>

namespace hfq::kernels {

struct HqqArgs; // kernels/generated/MethodArgs.h

/// The layout args (specs/hqq.json), checked (HqqEntry.cpp).
struct HqqParams {
  /// 8, 6, 5, 4, 3, 2 or 1: the code width (1.58-bit codes are 2-bit ones).
  int nbits = 4;
  bool ternary = false;  ///< nbits 1.58
  int64_t groupSize = 0; ///< 0: None
  int axis = 1;
  bool viewAsFloat = false, roundZero = false, optimize = false;
};

/// `args` as HqqParams: nbits one of 8, 6, 5, 4, 3, 2, 1.58, 1, a
/// non-negative group_size and an axis of 0 or 1, or false with `error`.
bool hqqParams(const HqqArgs &args, HqqParams &p, std::string &error);

/// Grouped-matrix shape [rows, cols] for W [N, K] (groupSize 0 = no group).
bool hqqGroupedShape(int64_t n, int64_t k, int64_t groupSize, int axis,
                     int64_t &rows, int64_t &cols, std::string &error);

/// Unpacks W_q to the grouped matrix's codes q[rows * cols] (row-major).
/// `nbits` in {1, 2, 3, 4, 5, 6, 8}.
bool unpackHqq(const TensorView &wq, int nbits, int64_t rows, int64_t cols,
               std::vector<uint8_t> &q, std::string &error);

/// A weight's codes as hqq groups them: q[rows * cols] row-major.
struct HqqGrouped {
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> codes;
};

/// Unpacks W_q and checks `scale` / `zero` (f16, bf16 or f32; [rows, 1] for
/// axis 1, [1, cols] for axis 0): what dequantizeHqq reads.
bool readHqq(const TensorView &wq, const TensorView &scale,
             const TensorView &zero, int nbits, int64_t n, int64_t k,
             int64_t groupSize, int axis, HqqGrouped &out, std::string &error);

/// Dequantizes to W [N, K] row-major. `scale` / `zero` f16, bf16 or f32.
bool dequantizeHqq(const TensorView &wq, const TensorView &scale,
                   const TensorView &zero, int nbits, int64_t n, int64_t k,
                   int64_t groupSize, int axis, std::vector<float> &w,
                   std::string &error);

struct HqqQuantized {
  StoredTensor wq;    // W_q, packed (ui8, or i32 for 3-bit)
  StoredTensor scale; // dequant multiplier, in the compute dtype
  StoredTensor zero;  // float zero, in the compute dtype
};

/// hqq's Quantizer.quantize with optimize=False: plain min-max affine with
/// a float zero, in f32 exactly as hqq computes it (scale =
/// (2^b-1)/(max-min), 1 where |max-min| <= 1e-4, clamped to 2e4;
/// zero = -min*scale, rounded to an integer only with `roundZero` (hqq's
/// round_zero, which BaseQuantizeConfig turns on for 4-bit);
/// W_q = clamp(round(W*scale + zero), 0, 2^b-1)); then scale is inverted and
/// scale / zero are stored in `computeDtype`.
/// With `optimize` (hqq's default, optimize=True) the zeros are first refined
/// by hqq's half-quadratic proximal solver (optimize_weights_proximal_legacy,
/// float32 CPU path; see Hqq.cpp) before the codes are computed.
bool quantizeHqq(const float *w, int64_t n, int64_t k, int nbits,
                 int64_t groupSize, int axis, DType computeDtype,
                 HqqQuantized &out, std::string &error, bool roundZero = false,
                 bool optimize = false);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_HQQ_H
