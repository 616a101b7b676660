//===- FbgemmFp8.h - FBGEMM FP8 reference -----------------------*- C++ -*-===//
//
// transformers' FBGEMM FP8 (quant_method "fbgemm_fp8", e.g.
// Llama-3.1-405B-FP8; specs/fbgemm_fp8.json).
//
// Weights (FbgemmFp8Linear): `weight` f8E4M3FN [N, K] and `weight_scale`
// f32 [N, 1], one dequant multiplier per output row:
//   W[n, k] = e4m3(weight[n, k]) * weight_scale[n]
// (quantize_fp8_per_row: weight_scale = amax(row) / 448).
//
// Forward: transformers quantizes the activations per row too
// (fbgemm-gpu's quantize_fp8_per_row with the bound activation_scale_ub) and
// runs f8f8bf16_rowwise; both are fbgemm-gpu CUDA kernels whose rounding
// transformers does not define. The reference dequantizes the weights
// exactly and multiplies f32 activations, so it is the weight side of the
// format exactly and the activation quantization not at all: a CUDA kernel
// matches it to the tolerance of one e4m3 rounding of x.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_FBGEMMFP8_H
#define HFQ_KERNELS_REF_FBGEMMFP8_H

#include "kernels/abi/Tensor.h"

#include <string>
#include <vector>

namespace hfq::kernels {

/// Dequantizes to W [N, K] row-major floats. `weightScale` may be f32, f16
/// or bf16, shaped [N, 1] (or [N]). Returns false and sets error on any
/// shape/dtype problem or a NaN code.
bool dequantizeFbgemmFp8(const TensorView &weight,
                         const TensorView &weightScale, int64_t n, int64_t k,
                         std::vector<float> &w, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_FBGEMMFP8_H
