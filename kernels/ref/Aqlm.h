//===- Aqlm.h - AQLM (additive quantization) reference ----------*- C++ -*-===//
//
// Exact CPU reference of aqlm's QuantizedLinear tensors (quant_method
// "aqlm"; schemes 1x16, 2x8, 8x8, ...):
//
//   codes     i8 (nbits <= 8) or i16 (nbits <= 16)
//             [N / out_group, K / in_group, num_codebooks]
//   codebooks [num_codebooks, 2^nbits, out_group, in_group]
//   scales    [N / out_group, 1, 1, 1]
//
// codebooks and scales carry the model dtype (f16 on the Hub; bf16 and f32
// are accepted too). Codes are stored signed: aqlm's pack_int_data stores a
// code >= 2^(nbits-1) minus 2^nbits, and unpack_int_data reads it back mod
// 2^nbits. So with nbits = 16 the int16 -1 is code 65535, and for nbits < 8
// (or between 8 and 16) a stored value outside [-2^(nbits-1), 2^(nbits-1))
// cannot come from the packer and is rejected.
//
//   W[o*og + r, i*ig + j] = scales[o] * sum_c codebooks[c, code(o, i, c), r, j]
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_AQLM_H
#define HFQ_KERNELS_REF_AQLM_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

struct AqlmParams {
  int64_t inGroupSize = 8;
  int64_t outGroupSize = 1;
  int64_t numCodebooks = 1;
  int nbitsPerCodebook = 16; ///< 1..16
};

/// The signed value aqlm stores for codebook index `code` (< 2^nbits).
int32_t aqlmStoredCode(uint32_t code, int nbits);

/// The codebook index a stored (signed) code denotes: stored mod 2^nbits.
uint32_t aqlmCodeIndex(int32_t stored, int nbits);

/// Dequantizes to W[N, K] row-major floats. The codebook sum is taken in
/// double and multiplied by the scale, then rounded once to float (aqlm's
/// embedding_bag and `* scales` run in the model dtype and round after each
/// step). Returns false and sets error on any shape / dtype / parameter
/// problem or a stored code outside the signed nbits range.
bool dequantizeAqlm(const TensorView &codes, const TensorView &codebooks,
                    const TensorView &scales, int64_t n, int64_t k,
                    const AqlmParams &p, std::vector<float> &w,
                    std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_AQLM_H
