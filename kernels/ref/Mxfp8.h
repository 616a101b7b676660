//===- Mxfp8.h - MXFP8 reference --------------------------------*- C++ -*-===//
//
// transformers' MXFP8 (quant_method "mxfp8", served by FineGrainedFP8's
// classes; specs/mxfp8.json).
//
// One linear of output N, input K: `weight` f8E4M3FN [N, K] and
// `weight_scale_inv` ui8 [N/bn, K/bk] (weight_block_size [bn, bk], [1, 32]
// in MXFP8 checkpoints) or [] (weight_block_size null, one scale), each byte
// an e8m0 exponent. As Fp8Dequantize._dequantize_one (integrations/
// finegrained_fp8.py), which reads uint8 scales as exponents:
//   W[i, j] = float(weight[i, j]) * 2^(weight_scale_inv[i/bn, j/bk] - 127)
// in f32. Every e4m3 value has at most four significant bits no finer than
// 2^-9, and 2^(e - 127) (e = 0 .. 254) is exact in f32 (2^-127 as a
// subnormal), so the product is exact -- or inf where it overflows f32
// (e4m3 values of 2^(255 - e) and above; inf in transformers too). Without a
// GPU (or below sm_89) transformers dequantizes this way and runs a plain
// linear on unquantized activations, after casting W to the model's dtype:
// exact for f32 and for bf16 (same exponent range, more mantissa) except
// below bf16's normal range (|W| < 2^-126); an f16 model rounds what lies
// outside f16's range. A scale byte of 255 (e8m0's NaN) and the e4m3 NaN
// codes (0x7f, 0xff) are errors here.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_MXFP8_H
#define HFQ_KERNELS_REF_MXFP8_H

#include "kernels/abi/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// Dequantizes to W [N, K] row-major floats. `blockN`/`blockK` are
/// weight_block_size (N and K multiples of them); pass 0, 0 for a single
/// scale []. Returns false and sets error on any shape/dtype/block problem, a
/// scale byte of 255 or a NaN weight code.
bool dequantizeMxfp8(const TensorView &weight, const TensorView &scales,
                     int64_t n, int64_t k, int64_t blockN, int64_t blockK,
                     std::vector<float> &w, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_MXFP8_H
