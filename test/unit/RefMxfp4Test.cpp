//===- RefMxfp4Test.cpp - MXFP4 reference ---------------------------------===//
//
// Expected values are worked out by hand from the format (Mxfp4.h,
// integrations/mxfp4.py's _convert_moe_packed_tensors): the e2m1 table with
// its sign bit, the low-nibble-first order within a byte, the e8m0 exponent
// (127 = 2^0), then the error cases.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Mxfp4.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

namespace {

/// dequantizeMxfp4 over blocks [n, k/32, 16] and scales [n, k/32] as ui8.
bool dequantize(const std::vector<uint8_t> &blocks,
                const std::vector<uint8_t> &scales, int64_t n, int64_t k,
                std::vector<float> &w, std::string &error) {
  return dequantizeMxfp4(viewOf(blocks, DType::U8, {n, k / 32, 16}),
                         viewOf(scales, DType::U8, {n, k / 32}), n, k, w,
                         error);
}

} // namespace

TEST(RefMxfp4, CodeValues) {
  // transformers' FP4_VALUES, in code order.
  const float expected[16] = {0,  0.5f,  1,  1.5f,  2,  3,  4,  6,
                              -0, -0.5f, -1, -1.5f, -2, -3, -4, -6};
  for (uint8_t c = 0; c < 16; ++c)
    EXPECT_EQ(fp4e2m1ToFloat(c), expected[c]) << int(c);
  EXPECT_TRUE(std::signbit(fp4e2m1ToFloat(8)));
}

TEST(RefMxfp4, DequantizeByHand) {
  // N = 2, K = 32: one group per row.
  // Row 0, scale 127 (x1): 0x21 -> 0.5, 1; 0xf7 -> 6, -6; 0x8a -> -1, -0.
  // Row 1, scale 129 (x4): 0x53 -> 1.5 * 4, 3 * 4; last byte 0x4c -> -2 * 4,
  // 2 * 4 at k = 30, 31.
  std::vector<uint8_t> blocks(2 * 16, 0);
  blocks[0] = 0x21;
  blocks[1] = 0xf7;
  blocks[2] = 0x8a;
  blocks[16] = 0x53;
  blocks[31] = 0x4c;
  std::vector<uint8_t> scales = {127, 129};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantize(blocks, scales, 2, 32, w, error)) << error;
  std::vector<float> expected(64, 0.0f);
  expected[0] = 0.5f;
  expected[1] = 1;
  expected[2] = 6;
  expected[3] = -6;
  expected[4] = -1;
  expected[5] = -0.0f;
  expected[32] = 6;
  expected[33] = 12;
  expected[62] = -8;
  expected[63] = 8;
  EXPECT_EQ(w, expected);
  EXPECT_TRUE(std::signbit(w[5]));
}

TEST(RefMxfp4, ScaleExtremes) {
  // Scale 0 is 2^-127 (0.5 * 2^-127 = 2^-128, a float subnormal); 254 is
  // 2^127 (6 * 2^127 is finite).
  std::vector<uint8_t> blocks(2 * 16, 0);
  blocks[0] = 0x01;  // 0.5, 0
  blocks[16] = 0x07; // 6, 0
  std::vector<uint8_t> scales = {0, 254};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantize(blocks, scales, 2, 32, w, error)) << error;
  EXPECT_EQ(w[0], std::ldexp(1.0f, -128));
  EXPECT_EQ(w[32], std::ldexp(6.0f, 127));
}

TEST(RefMxfp4, TwoGroupsIndexScalesPerGroup) {
  // N = 1, K = 64: byte 16 starts group 1, read with scales[0, 1].
  std::vector<uint8_t> blocks(32, 0);
  blocks[0] = 0x02;                         // 1 at k = 0
  blocks[16] = 0x20;                        // 1 at k = 33
  std::vector<uint8_t> scales = {126, 130}; // x0.5, x8
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantize(blocks, scales, 1, 64, w, error)) << error;
  EXPECT_EQ(w[0], 0.5f);
  EXPECT_EQ(w[32], 0.0f);
  EXPECT_EQ(w[33], 8.0f);
}

TEST(RefMxfp4, Errors) {
  std::vector<uint8_t> blocks(16, 0), scales = {255};
  std::vector<float> w;
  std::string error;
  EXPECT_FALSE(dequantize(blocks, scales, 1, 32, w, error));
  EXPECT_NE(error.find("255 (e8m0 NaN)"), std::string::npos) << error;
  scales = {127};
  EXPECT_FALSE(dequantizeMxfp4(viewOf(blocks, DType::U8, {1, 1, 16}),
                               viewOf(scales, DType::U8, {1, 1}), 1, 48, w,
                               error));
  EXPECT_NE(error.find("multiple of 32"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeMxfp4(viewOf(blocks, DType::U8, {1, 16}),
                               viewOf(scales, DType::U8, {1, 1}), 1, 32, w,
                               error));
  EXPECT_FALSE(dequantizeMxfp4(viewOf(blocks, DType::I8, {1, 1, 16}),
                               viewOf(scales, DType::U8, {1, 1}), 1, 32, w,
                               error));
}
