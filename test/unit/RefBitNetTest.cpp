//===- RefBitNetTest.cpp - BitNet b1.58 reference -------------------------===//
//
// Expected values are worked out by hand from the format (BitNet.h,
// quant-formats-and-kernels.md §2.12): ternary values stored +1, four per
// byte in planes along N (byte row r holds rows r, r+N/4, r+N/2, r+3N/4 at
// bits 0-1, 2-3, 4-5, 6-7), the per-token int8 activation quantization and
// y = (x_q . W_t^T) / (s_x * weight_scale); then round trips and errors.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/BitNet.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

TEST(RefBitNet, PlanesAlongNByHand) {
  // N=4, K=2: one byte row. Column 0 holds t = -1 0 1 0 for rows 0..3 ->
  // codes 0 1 2 1 -> 0 | 1<<2 | 2<<4 | 1<<6 = 0x64; column 1 holds
  // t = 1 1 -1 -1 -> codes 2 2 0 0 -> 0x0a.
  std::vector<uint8_t> packed = {0x64, 0x0a};
  std::vector<int8_t> t;
  std::string error;
  ASSERT_TRUE(
      unpackBitnetTernary(viewOf(packed, DType::U8, {1, 2}), 4, 2, t, error))
      << error;
  EXPECT_EQ(t, (std::vector<int8_t>{-1, 1, 0, 1, 1, -1, 0, -1}));
}

TEST(RefBitNet, TransformersDocstringExample) {
  // unpack_weights' own example: N=8 (planes of 2 rows), K=2.
  std::vector<uint8_t> packed = {0b10100001, 0b00011000, //
                                 0b10010000, 0b00001010};
  std::vector<int8_t> t;
  std::string error;
  ASSERT_TRUE(
      unpackBitnetTernary(viewOf(packed, DType::U8, {2, 2}), 8, 2, t, error))
      << error;
  EXPECT_EQ(t, (std::vector<int8_t>{0, -1, -1, 1, -1, 1, -1, 1, //
                                    1, 0, 0, -1, 1, -1, 1, -1}));
}

TEST(RefBitNet, DequantizeDividesOrMultiplies) {
  std::vector<uint8_t> packed = {0x64, 0x0a};
  auto scale = bf16s({2});
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeBitnet(viewOf(packed, DType::U8, {1, 2}),
                               viewOf(scale, DType::BF16, {1}), 4, 2, w, error))
      << error;
  EXPECT_EQ(w,
            (std::vector<float>{-0.5f, 0.5f, 0, 0.5f, 0.5f, -0.5f, 0, -0.5f}));
  ASSERT_TRUE(dequantizeBitnet(viewOf(packed, DType::U8, {1, 2}),
                               viewOf(scale, DType::BF16, {1}), 4, 2, w, error,
                               BitnetScaleMode::Multiply));
  EXPECT_EQ(w, (std::vector<float>{-2, 2, 0, 2, 2, -2, 0, -2}));
}

TEST(RefBitNet, ActivationQuantByHand) {
  // absmax 1 -> s_x = 127: 127, -63.5 -> -64 (half to even), 31.75 -> 32.
  // An all-zero token: s_x = 127 / 1e-5, codes 0.
  std::vector<float> x = {1, -0.5f, 0.25f, 0, 0, 0, 0, 0};
  std::vector<int8_t> q;
  std::vector<float> s;
  std::string error;
  ASSERT_TRUE(quantizeBitnetActivations(x.data(), 2, 4, q, s, error)) << error;
  EXPECT_EQ(q, (std::vector<int8_t>{127, -64, 32, 0, 0, 0, 0, 0}));
  EXPECT_EQ(s[0], 127.0f);
  EXPECT_EQ(s[1], 127.0f / 1e-5f);
}

TEST(RefBitNet, LinearByHand) {
  // x = [1, -0.5] -> x_q = [127, -64], s_x = 127. W_t rows (from
  // PlanesAlongNByHand): [-1, 1], [0, 1], [1, -1], [0, -1] -> acc = -191,
  // -64, 191, 64; y = acc / (127 * 2) + bias.
  std::vector<float> x = {1, -0.5f};
  std::vector<uint8_t> packed = {0x64, 0x0a};
  auto scale = bf16s({2});
  std::vector<float> bias = {0, 0, 1, 0};
  std::vector<float> y;
  std::string error;
  ASSERT_TRUE(bitnetLinear(x.data(), 1, viewOf(packed, DType::U8, {1, 2}),
                           viewOf(scale, DType::BF16, {1}), 4, 2, bias.data(),
                           y, error))
      << error;
  EXPECT_EQ(y, (std::vector<float>{-191.0f / 254.0f, -64.0f / 254.0f,
                                   191.0f / 254.0f + 1, 64.0f / 254.0f}));
}

TEST(RefBitNet, QuantizeRoundTrip) {
  const int64_t n = 8, k = 32;
  std::mt19937 gen(6);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> w(n * k);
  for (float &v : w)
    v = dist(gen);
  BitnetPacked p;
  std::string error;
  ASSERT_TRUE(quantizeBitnet(w.data(), n, k, DType::F32, p, error)) << error;
  const float sw = p.weightScale.view().at(0);
  double mean = 0;
  for (float v : w)
    mean += std::fabs(v);
  mean /= n * k;
  EXPECT_NEAR(sw, 1.0 / mean, 1e-3 / mean);
  std::vector<int8_t> t;
  ASSERT_TRUE(unpackBitnetTernary(p.weight.view(), n, k, t, error)) << error;
  for (int64_t i = 0; i < n * k; ++i) {
    const float expect = std::clamp(std::nearbyint(w[i] * sw), -1.0f, 1.0f);
    ASSERT_EQ(t[i], static_cast<int8_t>(expect)) << i;
  }
  // The forward matches the dequantized product up to activation rounding.
  std::vector<float> x(3 * k), y, wDeq;
  for (float &v : x)
    v = dist(gen) * 50;
  ASSERT_TRUE(bitnetLinear(x.data(), 3, p.weight.view(), p.weightScale.view(),
                           n, k, nullptr, y, error))
      << error;
  ASSERT_TRUE(dequantizeBitnet(p.weight.view(), p.weightScale.view(), n, k,
                               wDeq, error));
  std::vector<float> ref(3 * n);
  referenceLinear(x.data(), wDeq.data(), nullptr, 3, n, k, ref.data());
  for (int64_t i = 0; i < 3 * n; ++i) {
    float absmax = 0;
    for (int64_t l = 0; l < k; ++l)
      absmax = std::max(absmax, std::fabs(x[(i / n) * k + l]));
    // Each x_q is off by at most half a step, absmax / 254.
    EXPECT_NEAR(y[i], ref[i], absmax / 254.0f * k / sw + 1e-5f) << i;
  }
}

TEST(RefBitNet, Errors) {
  std::vector<uint8_t> packed = {0x64, 0x0a};
  auto scale = bf16s({2});
  std::vector<int8_t> t;
  std::vector<float> w;
  std::string error;
  EXPECT_FALSE(
      unpackBitnetTernary(viewOf(packed, DType::U8, {1, 2}), 6, 2, t, error));
  EXPECT_EQ(error, "N (6) must be a multiple of 4 for 2-bit ternary packing");
  EXPECT_FALSE(
      unpackBitnetTernary(viewOf(packed, DType::U8, {2, 1}), 4, 2, t, error));
  EXPECT_EQ(error, "weight must be ui8[1, 2], got ui8[2, 1]");
  // 0xc0: rows 0..2 code 0, row 3 code 3 (not ternary + 1).
  std::vector<uint8_t> bad = {0xc0, 0x00};
  EXPECT_FALSE(
      unpackBitnetTernary(viewOf(bad, DType::U8, {1, 2}), 4, 2, t, error));
  EXPECT_NE(error.find("0xc0 at [0, 0] holds the code 3"), std::string::npos)
      << error;
  EXPECT_FALSE(dequantizeBitnet(viewOf(packed, DType::U8, {1, 2}),
                                viewOf(scale, DType::BF16, {1, 1}), 4, 2, w,
                                error));
  EXPECT_EQ(error, "weight_scale must be f16, bf16 or f32[1], got bf16[1, 1]");
  auto zero = bf16s({0});
  EXPECT_FALSE(dequantizeBitnet(viewOf(packed, DType::U8, {1, 2}),
                                viewOf(zero, DType::BF16, {1}), 4, 2, w,
                                error));
  EXPECT_NE(error.find("weight_scale is 0"), std::string::npos);
  BitnetPacked p;
  std::vector<float> x(12);
  EXPECT_FALSE(quantizeBitnet(x.data(), 3, 4, DType::BF16, p, error));
  EXPECT_FALSE(quantizeBitnet(x.data(), 4, 3, DType::U8, p, error));
  std::vector<float> inf = {INFINITY, 0};
  EXPECT_FALSE(bitnetLinear(inf.data(), 1, viewOf(packed, DType::U8, {1, 2}),
                            viewOf(scale, DType::BF16, {1}), 4, 2, nullptr, w,
                            error));
  EXPECT_EQ(error, "BitNet activation has a non-finite value at 0");
  EXPECT_FALSE(bitnetLinear(nullptr, 1, viewOf(packed, DType::U8, {1, 2}),
                            viewOf(scale, DType::BF16, {1}), 4, 2, nullptr, w,
                            error));
}
