//===- RefMxfp8Test.cpp - MXFP8 reference ---------------------------------===//
//
// Expected values are worked out by hand from the format (Mxfp8.h,
// integrations/finegrained_fp8.py's Fp8Dequantize._dequantize_one): e4m3
// codes (bias 7, three mantissa bits), the e8m0 exponent (127 = 2^0) of the
// block each element falls in, then the extremes and the error cases.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Mxfp8.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

namespace {

/// dequantizeMxfp8 over weight [n, k] (e4m3 codes) and ui8 scales of
/// `scaleShape`.
bool dequantize(const std::vector<uint8_t> &codes,
                const std::vector<uint8_t> &scales,
                std::vector<int64_t> scaleShape, int64_t n, int64_t k,
                int64_t blockN, int64_t blockK, std::vector<float> &w,
                std::string &error) {
  return dequantizeMxfp8(viewOf(codes, DType::F8E4M3FN, {n, k}),
                         viewOf(scales, DType::U8, std::move(scaleShape)), n, k,
                         blockN, blockK, w, error);
}

} // namespace

TEST(RefMxfp8, DequantizeByHand) {
  // N = 2, K = 64, weight_block_size [1, 32]: scales [2, 2].
  // Row 0, scales 127 (x1), 129 (x4): 0x38 = 1 and 0xbc = -1.5 at k = 0, 1;
  // 0x40 = 2 -> 8 at k = 32; 0x7e = 1.75 * 2^8 = 448 -> 1792 at k = 63.
  // Row 1, scales 126 (x0.5), 130 (x8): 0x3c = 1.5 -> 0.75 at k = 0;
  // 0x01 = 2^-9 (subnormal) -> 2^-10 at k = 31; 0xc0 = -2 -> -16 at k = 32;
  // 0x80 = -0 at k = 40.
  std::vector<uint8_t> codes(2 * 64, 0);
  codes[0] = 0x38;
  codes[1] = 0xbc;
  codes[32] = 0x40;
  codes[63] = 0x7e;
  codes[64] = 0x3c;
  codes[64 + 31] = 0x01;
  codes[64 + 32] = 0xc0;
  codes[64 + 40] = 0x80;
  std::vector<uint8_t> scales = {127, 129, 126, 130};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantize(codes, scales, {2, 2}, 2, 64, 1, 32, w, error))
      << error;
  std::vector<float> expected(128, 0.0f);
  expected[0] = 1;
  expected[1] = -1.5f;
  expected[32] = 8;
  expected[63] = 1792;
  expected[64] = 0.75f;
  expected[64 + 31] = std::ldexp(1.0f, -10);
  expected[64 + 32] = -16;
  expected[64 + 40] = -0.0f;
  EXPECT_EQ(w, expected);
  EXPECT_TRUE(std::signbit(w[64 + 40]));
}

TEST(RefMxfp8, BlockRowsShareAScale) {
  // N = 4, K = 32, weight_block_size [2, 32]: rows 0-1 read scale 128 (x2),
  // rows 2-3 scale 125 (x0.25); 0x44 = 3 everywhere.
  std::vector<uint8_t> codes(4 * 32, 0x44);
  std::vector<uint8_t> scales = {128, 125};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantize(codes, scales, {2, 1}, 4, 32, 2, 32, w, error))
      << error;
  EXPECT_EQ(w[0], 6.0f);
  EXPECT_EQ(w[32 + 31], 6.0f);
  EXPECT_EQ(w[64], 0.75f);
  EXPECT_EQ(w[127], 0.75f);
}

TEST(RefMxfp8, OneScaleForTheTensor) {
  // weight_block_size null (0, 0): scale [] = 125 (x0.25); 0x48 = 4 -> 1.
  std::vector<uint8_t> codes(2 * 8, 0x48);
  std::vector<uint8_t> scales = {125};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantize(codes, scales, {}, 2, 8, 0, 0, w, error)) << error;
  EXPECT_EQ(w, std::vector<float>(16, 1.0f));
}

TEST(RefMxfp8, ScaleExtremes) {
  // Scale 0 is 2^-127: the smallest subnormal e4m3 (0x01 = 2^-9) gives
  // 2^-136 and 1 (0x38) gives 2^-127, float subnormals, exactly. Scale 254
  // is 2^127: 1 * 2^127 is finite, -448 (0xfe) * 2^127 overflows f32 to
  // -inf (as transformers' f32 product).
  std::vector<uint8_t> codes = {0x01, 0x38, 0x38, 0xfe};
  std::vector<uint8_t> scales = {0, 254};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantize(codes, scales, {2, 1}, 2, 2, 1, 2, w, error)) << error;
  EXPECT_EQ(w[0], std::ldexp(1.0f, -136));
  EXPECT_EQ(w[1], std::ldexp(1.0f, -127));
  EXPECT_EQ(w[2], std::ldexp(1.0f, 127));
  EXPECT_TRUE(std::isinf(w[3]) && w[3] < 0);
}

TEST(RefMxfp8, Errors) {
  std::vector<uint8_t> codes(32, 0x38), scales = {255};
  std::vector<float> w;
  std::string error;
  EXPECT_FALSE(dequantize(codes, scales, {1, 1}, 1, 32, 1, 32, w, error));
  EXPECT_NE(error.find("weight_scale_inv[0, 0] is 255 (e8m0 NaN)"),
            std::string::npos)
      << error;
  scales = {127};
  codes[5] = 0xff;
  EXPECT_FALSE(dequantize(codes, scales, {1, 1}, 1, 32, 1, 32, w, error));
  EXPECT_NE(error.find("weight[0, 5] is NaN"), std::string::npos) << error;
  codes[5] = 0x38;
  // K = 48 is not a multiple of the 32-wide block.
  std::vector<uint8_t> wide(48, 0x38);
  EXPECT_FALSE(dequantize(wide, {127, 127}, {1, 2}, 1, 48, 1, 32, w, error));
  EXPECT_NE(error.find("must be multiples of weight_block_size ([1, 32])"),
            std::string::npos)
      << error;
  EXPECT_FALSE(dequantize(codes, scales, {1, 1}, 1, 32, -1, 32, w, error));
  EXPECT_FALSE(dequantize(codes, scales, {1, 1}, 1, 32, 0, 32, w, error));
  // A scale grid of the wrong shape, and scales that are not bytes.
  EXPECT_FALSE(dequantize(codes, scales, {1}, 1, 32, 1, 32, w, error));
  std::vector<float> floatScales = {1.0f};
  EXPECT_FALSE(dequantizeMxfp8(viewOf(codes, DType::F8E4M3FN, {1, 32}),
                               viewOf(floatScales, DType::F32, {1, 1}), 1, 32,
                               1, 32, w, error));
  EXPECT_NE(error.find("weight_scale_inv"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeMxfp8(viewOf(codes, DType::U8, {1, 32}),
                               viewOf(scales, DType::U8, {1, 1}), 1, 32, 1, 32,
                               w, error));
}
