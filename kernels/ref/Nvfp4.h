//===- Nvfp4.h - NVFP4 reference --------------------------------*- C++ -*-===//
//
// NVFP4 (quant_method "nvfp4"; specs/nvfp4.json): e2m1 values, one e4m3
// scale per 16 along K, one f32 global scale.
//
// What transformers 5.17 fixes (integrations/nvfp4.py): SF_VEC_SIZE = 16
// consecutive values of a row share one FP8 scale (NVFP4Linear's
// weight_sf_rowmajor is uint8 [out_features, in_features / 16]), one f32
// global scale per weight (weight_global_scale [1]), and only bias-free
// linears with K and N multiples of 16 are converted. It never reads a
// pre-quantized NVFP4 checkpoint (NVFP4HfQuantizer refuses one) and leaves
// the packing, nibble order and the meaning of the global scale to the hub
// kernel's pack()/gemm(), which it does not define. The tensors read here
// are therefore the spec's layout, the ModelOpt export's:
//   weight         ui8 [N, K/2]: two e2m1 codes per byte along K, the low
//                  nibble first (k = 2 j from weight[n, j] & 0xf, k + 1
//                  from >> 4), as MXFP4's blocks (Mxfp4.h);
//   weight_scale   f8E4M3FN [N, K/16]: one scale per 16 values;
//   weight_scale_2 f32 []: the global dequant multiplier;
//   input_scale    f32 []: the activations' global scale (checked, unused).
//   W[n, k] = (e2m1(code) * e4m3(weight_scale[n, k/16])) * weight_scale_2
// The first product is exact (two and four significant bits), so W is the
// correctly rounded f32 product of the three factors, whichever order a
// kernel multiplies the two small ones in. A NaN or negative block scale
// (e4m3 codes 0x7f, 0xff, or the sign bit set) and a weight_scale_2 that
// is not positive and finite are errors.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_NVFP4_H
#define HFQ_KERNELS_REF_NVFP4_H

#include "kernels/abi/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// Dequantizes to W [N, K] row-major floats (K a multiple of 16). Returns
/// false and sets error on any shape/dtype problem or bad scale.
bool dequantizeNvfp4(const TensorView &weight, const TensorView &blockScales,
                     const TensorView &globalScale, int64_t n, int64_t k,
                     std::vector<float> &w, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_NVFP4_H
