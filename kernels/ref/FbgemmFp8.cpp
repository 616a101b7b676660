//===- FbgemmFp8.cpp - FBGEMM FP8 reference -------------------------------===//
//
// See FbgemmFp8.h for the format.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/FbgemmFp8.h"

#include "kernels/abi/StoredTensor.h"

namespace hfq::kernels {

bool dequantizeFbgemmFp8(const TensorView &weight,
                         const TensorView &weightScale, int64_t n, int64_t k,
                         std::vector<float> &w, std::string &error) {
  if (!checkMatrixShape("fbgemm_fp8", n, k, error))
    return false;
  if (!expectView(weight, "weight", DType::F8E4M3FN, {n, k}, error))
    return false;
  if (!expectFloatView(weightScale, "weight_scale",
                       weightScale.shape.size() == 1
                           ? std::vector<int64_t>{n}
                           : std::vector<int64_t>{n, 1},
                       error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t r = 0; r < n; ++r) {
    float s = weightScale.at(r);
    for (int64_t c = 0; c < k; ++c) {
      uint8_t code = static_cast<uint8_t>(weight.bits(r * k + c));
      if ((code & 0x7f) == 0x7f) {
        error = "fbgemm_fp8: weight has a NaN at [" + std::to_string(r) + ", " +
                std::to_string(c) + "]";
        return false;
      }
      w[r * k + c] = fp8e4m3ToFloat(code) * s;
    }
  }
  return true;
}

} // namespace hfq::kernels
