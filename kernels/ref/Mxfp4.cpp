//===- Mxfp4.cpp - MXFP4 reference ----------------------------------------===//
//
// See Mxfp4.h for the format.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Mxfp4.h"

#include "kernels/abi/StoredTensor.h"

#include <cmath>

namespace hfq::kernels {

float fp4e2m1ToFloat(uint8_t code) {
  static const float kValues[8] = {0.0f, 0.5f, 1.0f, 1.5f,
                                   2.0f, 3.0f, 4.0f, 6.0f};
  float v = kValues[code & 0x7];
  return (code & 0x8) ? -v : v;
}

bool dequantizeMxfp4(const TensorView &blocks, const TensorView &scales,
                     int64_t n, int64_t k, std::vector<float> &w,
                     std::string &error) {
  if (!checkMatrixShape("mxfp4", n, k, error))
    return false;
  if (k % 32 != 0) {
    error = "mxfp4: K (" + std::to_string(k) +
            ") must be a multiple of 32 (one scale per 32 values)";
    return false;
  }
  int64_t groups = k / 32;
  if (!expectView(blocks, "blocks", DType::U8, {n, groups, 16}, error) ||
      !expectView(scales, "scales", DType::U8, {n, groups}, error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      uint8_t e = static_cast<uint8_t>(scales.bits(r * groups + g));
      if (e == 255) {
        error = "mxfp4: scales[" + std::to_string(r) + ", " +
                std::to_string(g) + "] is 255 (e8m0 NaN)";
        return false;
      }
      int exponent = static_cast<int>(e) - 127;
      for (int64_t j = 0; j < 16; ++j) {
        uint8_t byte =
            static_cast<uint8_t>(blocks.bits((r * groups + g) * 16 + j));
        float *out = &w[r * k + g * 32 + 2 * j];
        out[0] = std::ldexp(fp4e2m1ToFloat(byte & 0xf), exponent);
        out[1] = std::ldexp(fp4e2m1ToFloat(byte >> 4), exponent);
      }
    }
  return true;
}

} // namespace hfq::kernels
