//===- Mxfp4.h - MXFP4 reference --------------------------------*- C++ -*-===//
//
// transformers' MXFP4 (quant_method "mxfp4", gpt-oss; specs/mxfp4.json).
//
// One linear of output N, input K (gpt-oss stacks these over experts):
// `blocks` ui8 [N, K/32, 16] holds two e2m1 codes per byte, the low nibble
// first (k = 32 g + 2 j from blocks[n, g, j] & 0xf, k + 1 from >> 4);
// `scales` ui8 [N, K/32] is one e8m0 exponent per 32 values. As
// integrations/mxfp4.py's _convert_moe_packed_tensors:
//   W[n, 32 g + i] = FP4_VALUES[code] * 2^(scales[n, g] - 127)
// with FP4_VALUES = {0, 0.5, 1, 1.5, 2, 3, 4, 6} and its negatives (sign
// bit 3; code 8 is -0). Every value is exact in bf16 (two significant bits,
// exponent within bf16's range), so transformers' bf16 dequantization and
// this f32 one agree bit for bit. A scale byte of 255 (e8m0's NaN, which
// torch turns into inf or NaN) is an error here.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_MXFP4_H
#define HFQ_KERNELS_REF_MXFP4_H

#include "kernels/abi/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// The value of an e2m1 code (low four bits of `code`).
float fp4e2m1ToFloat(uint8_t code);

/// Dequantizes to W [N, K] row-major floats. Returns false and sets error on
/// any shape/dtype problem, K not a multiple of 32, or a scale byte of 255.
bool dequantizeMxfp4(const TensorView &blocks, const TensorView &scales,
                     int64_t n, int64_t k, std::vector<float> &w,
                     std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_MXFP4_H
