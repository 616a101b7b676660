//===- FineGrainedFp8.h - FineGrainedFP8 reference --------------*- C++ -*-===//
//
// transformers' FineGrainedFP8 (quant_method "fp8", DeepSeek-V3 style;
// specs/fp8.json; quant-formats-and-kernels.md §2.10).
//
// Weights: `weight` f8E4M3FN [N, K]; `weight_scale_inv` f32
// [ceil(N/bn), ceil(K/bk)] (weight_block_size [bn, bk], default 128x128) or
// a scalar [] (weight_block_size null, per tensor). The stored value is the
// dequant MULTIPLIER: W[i, j] = W8[i, j] * weight_scale_inv[i/bn, j/bk].
// (Edge blocks of a dimension that is not a multiple of the block are
// partial, as FP8Linear allocates ceil-sized scales.)
//
// Forward (FP8Linear): activations are quantized per token per group of bk
// channels, s = max|x| / 448 (f32), x8 = e4m3(x / s); or, with
// activation_scheme "static", by one `activation_scale`:
// x8 = e4m3(clamp(x / s, ±448)). Then the block-scaled GEMM accumulates in
// f32 over K chunks of bk:
//   y[m, n] = sum_kb float(x8[m, kb] . W8[n, kb]) * s_x[m, kb] * s_w[n/bn, kb]
// (per-tensor weights use 128-wide chunks, as transformers' Triton wrapper
// does when the block is the whole matrix).
//
// Exactness: fp8 x fp8 products are exact and a chunk's dot product is
// summed exactly in double (every product is a multiple of 2^-18 of
// magnitude below 2^18, so a chunk of fewer than 2^17 products never needs
// more than 53 bits) and rounded once to f32. The GPU's tensor cores sum a
// chunk in f32 (Hopper's FP8 MMA with even fewer accumulator bits), so
// kernels match this reference to a tolerance, not bit for bit.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_FINEGRAINEDFP8_H
#define HFQ_KERNELS_REF_FINEGRAINEDFP8_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <string>
#include <vector>

namespace hfq::kernels {

/// Dequantizes to W [N, K] row-major floats. `blockN`/`blockK` are
/// weight_block_size; pass 0, 0 for the per-tensor variant (scalar scale).
/// Returns false and sets error on any shape/dtype/param problem.
bool dequantizeFp8Block(const TensorView &weight, const TensorView &scaleInv,
                        int64_t n, int64_t k, int64_t blockN, int64_t blockK,
                        std::vector<float> &w, std::string &error);

struct Fp8Quantized {
  StoredTensor weight;   // f8E4M3FN [N, K]
  StoredTensor scaleInv; // f32 [N/bn, K/bk], or [] per tensor
};

/// transformers' on-the-fly quantization (Fp8Quantize), in f32: per block
/// amax = max|w|; scale = 448 / amax (1 when amax is 0);
/// W8 = e4m3(clamp(w * scale, ±448)); weight_scale_inv = 1 / scale, i.e.
/// amax/448 up to the rounding of the reciprocal. Like transformers, N and K
/// must be multiples of the block (0, 0 = one block: per tensor).
bool quantizeFp8Block(const float *w, int64_t n, int64_t k, int64_t blockN,
                      int64_t blockK, Fp8Quantized &out, std::string &error);

/// Dynamic 1 x groupSize activation quantization (fp8_act_quant) of x [M, K]:
/// e4m3 codes [M, K] and f32 scales [M, ceil(K/groupSize)]. An all-zero
/// group gets s = 0 and codes 0 (the Triton kernel computes 0/0 = NaN there;
/// the reference deliberately does not reproduce that). A last group shorter
/// than groupSize is quantized on its own (transformers asserts K % 128 == 0).
bool quantizeFp8ActivationGroups(const float *x, int64_t m, int64_t k,
                                 int64_t groupSize, std::vector<uint8_t> &x8,
                                 std::vector<float> &scales,
                                 std::string &error);

/// The block-scaled GEMM above on pre-quantized operands: `x8` e4m3 codes
/// [M, K] with f32 scales `xScales` [M, xScaleCols] (xScaleCols 1 = one
/// scale per token, e.g. static), `weight` / `scaleInv` as for
/// dequantizeFp8Block. `chunkK` is the K chunk of the accumulation (bk).
bool fp8BlockScaledMatmul(const uint8_t *x8, const float *xScales,
                          int64_t xScaleCols, int64_t m,
                          const TensorView &weight, const TensorView &scaleInv,
                          int64_t n, int64_t k, int64_t blockN, int64_t blockK,
                          std::vector<float> &y, std::string &error);

/// FP8Linear.forward on float activations x [M, K] (+ bias [N] when not
/// null): dynamic activation quantization with group blockK, or static with
/// `activationScale` (f32 scalar []) when it is not null. transformers cannot
/// run dynamic activations with per-tensor weights (block 0, 0): that is an
/// error here too.
bool fp8Linear(const float *x, int64_t m, const TensorView &weight,
               const TensorView &scaleInv, int64_t n, int64_t k, int64_t blockN,
               int64_t blockK, const TensorView *activationScale,
               const float *bias, std::vector<float> &y, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_FINEGRAINEDFP8_H
