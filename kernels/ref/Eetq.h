//===- Eetq.h - EETQ int8 weight-only checkpoint reference ------*- C++ -*-===//
//
// Exact CPU reference of EETQ's EetqLinear tensors (transformers'
// EetqConfig("int8"), quantized at load):
//
//   weight        i8 [K, N]  per-output-channel int8 of Wᵀ, *preprocessed*
//   weight_scales f16 [N]    Wᵀ[k, n] = q[k, n] * weight_scales[n]
//
// The weight is not a plain matrix: EETQ runs FasterTransformer's
// preprocess_weights_for_mixed_gemm for the sm80 mixed int8 x fp16 GEMM
// (CUTLASS layout ColumnMajorTileInterleave<64, 2>) on the row-major int8
// Wᵀ [K rows, N columns]:
//
//  1. Row permutation (ldmatrix lands rows in MMA fragment order): inside
//     every group of 16 rows, output row r takes input row
//     kEetqRowPermutation[r] = 0 1 8 9 2 3 10 11 4 5 12 13 6 7 14 15.
//  2. Transpose to column major: each column's K bytes become contiguous.
//  3. Column interleave by 2 in tiles of 64 rows: columns 2c and 2c + 1
//     form one output "column" of 2K bytes made of alternating 64-byte
//     tiles, [col 2c rows 0-63][col 2c+1 rows 0-63][col 2c rows 64-127]...
//  4. Every byte + 128 (so int8 -> fp16 is a byte permute plus a magic-
//     number subtract), then inside each 4-byte word bytes 1 and 2 are
//     swapped: [e0 e1 e2 e3] -> [e0 e2 e1 e3] (the int4 register order).
//
// So element q[k, n] (k, n of the logical Wᵀ) is the byte at
//   o  = (n / 2) * 2K + (r / 64) * 128 + (n % 2) * 64 + r % 64,
//        r = the permuted row of k (16 * (k / 16) + inverse perm of k % 16)
//   stored[(o & ~3) | {0, 2, 1, 3}[o & 3]] = q + 128 (as a byte).
// FasterTransformer checks K % 16 (row groups), K % 32 and N % 32
// (transpose vectors) and N % 64 (its interleave tests the column count
// against the 64-row tile); for K not a multiple of 64 its interleave would
// write a partial tile into the next column pair, so no such layer has a
// usable layout. Both K % 64 == 0 and N % 64 == 0 are required here.
// (Layout read from EETQ's csrc/cutlass_kernels/cutlass_preprocessors.cc and
// cutlass_extensions/.../mixed_gemm_B_layout.h: for uint8 B on sm75+,
// ThreadblockK 64 and 128-byte cache lines give ColumnMajorTileInterleave
// <64, 2> with OpMultiplyAddDequantizeInterleavedBToA, i.e. the row
// permutation is on.)
//
// EETQ's quantizer (symmetric_quantize, int8) takes the absmax of each
// output channel and scales by absmax / 128 (not 127): q = round(w /
// (absmax / 128)) half away from zero, clipped to [-128, 127], so +absmax maps
// to 127 and -absmax to -128. The quantization divides by the float absmax/128
// while the stored scale is that value rounded to fp16.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_EETQ_H
#define HFQ_KERNELS_REF_EETQ_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// Step 1's map inside a group of 16 rows: output row r reads input row
/// kEetqRowPermutation[r].
extern const int kEetqRowPermutation[16];

/// Byte offset in the preprocessed [K, N] weight of logical element (k, n)
/// of Wᵀ. Needs K % 64 == 0 (unchecked here).
int64_t eetqStoredOffset(int64_t k, int64_t n, int64_t kDim);

/// FasterTransformer's sm80 preprocessing of the row-major int8 Wᵀ
/// q[K, N] (steps 1-4 above) into `out` (K * N bytes, viewed as i8 [K, N]).
bool preprocessEetqWeight(const int8_t *q, int64_t k, int64_t n,
                          std::vector<int8_t> &out, std::string &error);

/// The exact inverse: the plain row-major int8 Wᵀ q[K, N] of a stored
/// weight (i8 [K, N]).
bool unpreprocessEetqWeight(const TensorView &weight, int64_t k, int64_t n,
                            std::vector<int8_t> &q, std::string &error);

/// Dequantizes to W[N, K] row-major floats: W[n, k] = q[k, n] * scale[n]
/// (exact in float). `weight` is the stored i8 [K, N], `weightScales` f16
/// [N]. Returns false and sets error on any shape / dtype problem.
bool dequantizeEetq(const TensorView &weight, const TensorView &weightScales,
                    int64_t n, int64_t k, std::vector<float> &w,
                    std::string &error);

/// Quantizes the nn.Linear weight W[N, K] as transformers + EETQ do at load:
/// W is taken as fp16 (EETQ requires an fp16 model; values are rounded to
/// fp16 first), transposed, quantized per output channel with EETQ's
/// symmetric_quantize and preprocessed. Outputs weight i8 [K, N] and
/// weightScales f16 [N].
bool quantizeEetq(const float *w, int64_t n, int64_t k, StoredTensor &weight,
                  StoredTensor &weightScales, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_EETQ_H
