//===- Mxfp8.cpp - MXFP8 reference ----------------------------------------===//
//
// See Mxfp8.h for the format.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Mxfp8.h"

#include "kernels/abi/StoredTensor.h"

#include <cmath>

namespace hfq::kernels {

namespace {

/// The block of one scale: weight_block_size, or the whole matrix for 0, 0.
bool scaleBlock(int64_t n, int64_t k, int64_t &blockN, int64_t &blockK,
                std::string &error) {
  if (blockN == 0 && blockK == 0) {
    blockN = n;
    blockK = k;
    return true;
  }
  if (blockN < 1 || blockK < 1) {
    error = "mxfp8: weight_block_size must be two positive integers (or 0, 0 "
            "for null), got [" +
            std::to_string(blockN) + ", " + std::to_string(blockK) + "]";
    return false;
  }
  if (n % blockN != 0 || k % blockK != 0) {
    error = "mxfp8: [N, K] ([" + std::to_string(n) + ", " + std::to_string(k) +
            "]) must be multiples of weight_block_size ([" +
            std::to_string(blockN) + ", " + std::to_string(blockK) +
            "]): one e8m0 scale per block";
    return false;
  }
  return true;
}

} // namespace

bool dequantizeMxfp8(const TensorView &weight, const TensorView &scales,
                     int64_t n, int64_t k, int64_t blockN, int64_t blockK,
                     std::vector<float> &w, std::string &error) {
  if (!checkMatrixShape("mxfp8", n, k, error))
    return false;
  const bool single = blockN == 0 && blockK == 0;
  if (!scaleBlock(n, k, blockN, blockK, error))
    return false;
  const int64_t scaleCols = k / blockK;
  if (!expectView(weight, "weight", DType::F8E4M3FN, {n, k}, error) ||
      !expectView(scales, "weight_scale_inv", DType::U8,
                  single ? std::vector<int64_t>{}
                         : std::vector<int64_t>{n / blockN, scaleCols},
                  error))
    return false;
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) {
      const int64_t s = (i / blockN) * scaleCols + j / blockK;
      const auto e = static_cast<uint8_t>(scales.bits(s));
      if (e == 255) {
        error = "mxfp8: weight_scale_inv" +
                (single ? std::string()
                        : "[" + std::to_string(s / scaleCols) + ", " +
                              std::to_string(s % scaleCols) + "]") +
                " is 255 (e8m0 NaN)";
        return false;
      }
      const auto code = static_cast<uint8_t>(weight.bits(i * k + j));
      if ((code & 0x7f) == 0x7f) {
        error = "mxfp8: weight[" + std::to_string(i) + ", " +
                std::to_string(j) + "] is NaN (e4m3 code 0x" +
                (code == 0xff ? "ff" : "7f") + ")";
        return false;
      }
      // Exact (or inf on overflow), as transformers' f32 product: see the
      // header.
      w[i * k + j] =
          std::ldexp(fp8e4m3ToFloat(code), static_cast<int>(e) - 127);
    }
  return true;
}

} // namespace hfq::kernels
