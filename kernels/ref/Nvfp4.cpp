//===- Nvfp4.cpp - NVFP4 reference ----------------------------------------===//
//
// See Nvfp4.h for the format.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Nvfp4.h"

#include "kernels/abi/StoredTensor.h"
#include "kernels/ref/Mxfp4.h"

#include <cmath>
#include <cstdio>

namespace hfq::kernels {

namespace {

constexpr int64_t kBlock = 16;

std::string hexByte(uint8_t v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x", v);
  return buf;
}

} // namespace

bool dequantizeNvfp4(const TensorView &weight, const TensorView &blockScales,
                     const TensorView &globalScale, int64_t n, int64_t k,
                     std::vector<float> &w, std::string &error) {
  if (!checkMatrixShape("nvfp4", n, k, error))
    return false;
  if (k % kBlock != 0) {
    error = "nvfp4: K (" + std::to_string(k) +
            ") must be a multiple of 16 (one e4m3 scale per 16 values)";
    return false;
  }
  const int64_t groups = k / kBlock;
  if (!expectView(weight, "weight", DType::U8, {n, k / 2}, error) ||
      !expectView(blockScales, "weight_scale", DType::F8E4M3FN, {n, groups},
                  error) ||
      !expectView(globalScale, "weight_scale_2", DType::F32, {}, error))
    return false;
  const float global = globalScale.at(0);
  if (!(global > 0.0f) || !std::isfinite(global)) {
    error = "nvfp4: weight_scale_2 must be positive and finite, got " +
            std::to_string(global);
    return false;
  }
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      const auto code = static_cast<uint8_t>(blockScales.bits(r * groups + g));
      if ((code & 0x7f) == 0x7f || (code & 0x80)) {
        error = "nvfp4: weight_scale[" + std::to_string(r) + ", " +
                std::to_string(g) + "] is " +
                ((code & 0x7f) == 0x7f ? "NaN" : "negative") + " (e4m3 code " +
                hexByte(code) + ")";
        return false;
      }
      const float scale = fp8e4m3ToFloat(code);
      for (int64_t j = 0; j < kBlock / 2; ++j) {
        const auto byte =
            static_cast<uint8_t>(weight.bits(r * (k / 2) + g * 8 + j));
        float *out = &w[r * k + g * kBlock + 2 * j];
        // e2m1 * e4m3 is exact; the one rounding is the global product.
        out[0] = (fp4e2m1ToFloat(byte & 0xf) * scale) * global;
        out[1] = (fp4e2m1ToFloat(byte >> 4) * scale) * global;
      }
    }
  return true;
}

} // namespace hfq::kernels
