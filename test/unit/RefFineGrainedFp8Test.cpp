//===- RefFineGrainedFp8Test.cpp - FineGrainedFP8 reference ---------------===//
//
// Expected values are worked out by hand from the format (FineGrainedFp8.h,
// quant-formats-and-kernels.md §2.10): e4m3 codes (0x7e = 448, 0x38 = 1.0),
// the block-scale indexing with partial edge blocks, the per-tensor
// variant, the 1x128 activation quantization and the chunked f32
// accumulation; then round trips and error cases.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/FineGrainedFp8.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

TEST(RefFineGrainedFp8, CodeValues) {
  // The e4m3fn codes the tests below rely on.
  EXPECT_EQ(fp8e4m3ToFloat(0x7e), 448.0f);
  EXPECT_EQ(fp8e4m3ToFloat(0x38), 1.0f);
  EXPECT_EQ(fp8e4m3ToFloat(0xb8), -1.0f);
  EXPECT_EQ(fp8e4m3ToFloat(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(fp8e4m3ToFloat(0x3c), 1.5f);
  EXPECT_EQ(fp8e4m3ToFloat(0x76), 224.0f); // 1.75 * 2^7
  EXPECT_TRUE(std::isnan(fp8e4m3ToFloat(0x7f)));
}

TEST(RefFineGrainedFp8, DequantizeBlocksByHand) {
  // N=3, K=3, block 2x2: weight_scale_inv [2, 2]; row 2 and column 2 are
  // partial blocks.
  std::vector<uint8_t> q = {0x38, 0x7e, 0xb8,  // 1, 448, -1
                            0x40, 0x00, 0x01,  // 2, 0, 2^-9
                            0x3c, 0x30, 0x48}; // 1.5, 0.5, 4
  std::vector<float> s = {2, 0.5f, 4, 1};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeFp8Block(viewOf(q, DType::F8E4M3FN, {3, 3}),
                                 viewOf(s, DType::F32, {2, 2}), 3, 3, 2, 2, w,
                                 error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{2, 896, -0.5f, 4, 0, std::ldexp(1.0f, -10),
                                   6, 2, 4}));
  // Per tensor (weight_block_size null): one scalar multiplier.
  std::vector<float> one = {0.25f};
  ASSERT_TRUE(dequantizeFp8Block(viewOf(q, DType::F8E4M3FN, {3, 3}),
                                 viewOf(one, DType::F32, {}), 3, 3, 0, 0, w,
                                 error))
      << error;
  EXPECT_EQ(w[1], 112.0f);
  EXPECT_EQ(w[8], 1.0f);
}

TEST(RefFineGrainedFp8, QuantizeBlockByHand) {
  // One 2x2 block, amax 4: scale = 448 / 4 = 112; w * 112 = 224, -448, 112,
  // 56 = codes 0x76, 0xfe, 0x6e, 0x66; weight_scale_inv = 1 / 112.
  std::vector<float> w = {2, -4, 1, 0.5f};
  Fp8Quantized q;
  std::string error;
  ASSERT_TRUE(quantizeFp8Block(w.data(), 2, 2, 2, 2, q, error)) << error;
  EXPECT_EQ(q.weight.bytes, (std::vector<uint8_t>{0x76, 0xfe, 0x6e, 0x66}));
  EXPECT_EQ(q.scaleInv.shape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(q.scaleInv.view().at(0), 1.0f / 112.0f);
  // An all-zero block keeps scale 1 (transformers: "keep zeros stable").
  std::vector<float> zeros(4, 0.0f);
  ASSERT_TRUE(quantizeFp8Block(zeros.data(), 2, 2, 2, 2, q, error));
  EXPECT_EQ(q.scaleInv.view().at(0), 1.0f);
  EXPECT_EQ(q.weight.bytes, (std::vector<uint8_t>(4, 0)));
  // Per tensor: a scalar scale.
  ASSERT_TRUE(quantizeFp8Block(w.data(), 2, 2, 0, 0, q, error));
  EXPECT_TRUE(q.scaleInv.shape.empty());
  EXPECT_EQ(q.scaleInv.view().at(0), 1.0f / 112.0f);
}

TEST(RefFineGrainedFp8, RoundTripWithinHalfAnUlp) {
  const int64_t n = 160, k = 384; // 5 x 3 blocks of 32 x 128
  auto w = randomNormal(static_cast<size_t>(n * k), 1, 0.02f);
  Fp8Quantized q;
  std::string error;
  ASSERT_TRUE(quantizeFp8Block(w.data(), n, k, 32, 128, q, error)) << error;
  EXPECT_EQ(q.scaleInv.shape, (std::vector<int64_t>{5, 3}));
  std::vector<float> back;
  ASSERT_TRUE(dequantizeFp8Block(q.weight.view(), q.scaleInv.view(), n, k, 32,
                                 128, back, error))
      << error;
  for (int64_t i = 0; i < n * k; ++i) {
    const float s = q.scaleInv.view().at((i / k / 32) * 3 + (i % k) / 128);
    // Half an e4m3 ulp relative (2^-4), or half the subnormal step 2^-9.
    const float bound =
        std::max(std::fabs(w[i]) / 16.0f, s * std::ldexp(1.0f, -10));
    ASSERT_LE(std::fabs(back[i] - w[i]), bound * 1.0001f) << i;
  }
}

TEST(RefFineGrainedFp8, ActivationGroupsByHand) {
  // Token 0: group 0 amax 448 -> s = 1, codes 448 0x7e, -224 0xf6, 1 0x38,
  // 0; group 1 all zero -> s = 0. Token 1: amax 2 -> s = 2/448.
  std::vector<float> x = {448, -224, 1, 0, 0,    0, 0, 0, //
                          2,   1,    0, 0, 0.5f, 0, 0, 0};
  std::vector<uint8_t> x8;
  std::vector<float> s;
  std::string error;
  ASSERT_TRUE(quantizeFp8ActivationGroups(x.data(), 2, 8, 4, x8, s, error))
      << error;
  EXPECT_EQ(s, (std::vector<float>{1, 0, 2.0f / 448.0f, 0.5f / 448.0f}));
  EXPECT_EQ(x8[0], 0x7e);
  EXPECT_EQ(x8[1], 0xf6);
  EXPECT_EQ(x8[2], 0x38);
  EXPECT_EQ(x8[4], 0x00);
  EXPECT_EQ(x8[8], 0x7e); // 2 / (2/448) saturates to 448 either way
  EXPECT_EQ(x8[12], 0x7e);
  // A short last group (K = 6, group 4) is quantized on its own.
  ASSERT_TRUE(quantizeFp8ActivationGroups(x.data(), 1, 6, 4, x8, s, error));
  EXPECT_EQ(s.size(), 2u);
}

TEST(RefFineGrainedFp8, BlockScaledMatmulByHand) {
  // M=1, K=256 (two chunks of 128), N=2 (one block row). All codes 1.0:
  // y = 128 * s_x[0] * s_w[0, 0] + 128 * s_x[1] * s_w[0, 1]
  //   = 128 * 0.5 * 1 + 128 * 2 * 3 = 832.
  std::vector<uint8_t> x8(256, 0x38), w8(2 * 256, 0x38);
  std::vector<float> sx = {0.5f, 2};
  std::vector<float> sw = {1, 3};
  std::vector<float> y;
  std::string error;
  ASSERT_TRUE(fp8BlockScaledMatmul(
      x8.data(), sx.data(), 2, 1, viewOf(w8, DType::F8E4M3FN, {2, 256}),
      viewOf(sw, DType::F32, {1, 2}), 2, 256, 128, 128, y, error))
      << error;
  EXPECT_EQ(y, (std::vector<float>{832, 832}));
}

TEST(RefFineGrainedFp8, LinearTracksTheDequantizedProduct) {
  const int64_t m = 2, n = 130, k = 256; // a partial block row in N
  std::mt19937 gen(9);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(n * k), x(m * k), bias(n);
  for (float &v : w)
    v = dist(gen) * 0.02f;
  for (float &v : x)
    v = dist(gen);
  for (float &v : bias)
    v = dist(gen);
  // Quantize with blocks that divide N, K (transformers' rule), then view
  // the same weight with 128x128 blocks over N = 130 (ceil-sized scales).
  Fp8Quantized q;
  std::string error;
  ASSERT_TRUE(quantizeFp8Block(w.data(), n, k, 2, 128, q, error)) << error;
  std::vector<float> wDeq;
  ASSERT_TRUE(dequantizeFp8Block(q.weight.view(), q.scaleInv.view(), n, k, 2,
                                 128, wDeq, error));
  std::vector<float> y;
  ASSERT_TRUE(fp8Linear(x.data(), m, q.weight.view(), q.scaleInv.view(), n, k,
                        2, 128, nullptr, bias.data(), y, error))
      << error;
  std::vector<float> ref(m * n);
  referenceLinear(x.data(), wDeq.data(), bias.data(), m, n, k, ref.data());
  for (int64_t i = 0; i < m * n; ++i) {
    // Only the activations are rounded on top of wDeq: 2^-4 relative each.
    float bound = 0;
    for (int64_t l = 0; l < k; ++l)
      bound += std::fabs(x[(i / n) * k + l] * wDeq[(i % n) * k + l]) / 16.0f;
    EXPECT_NEAR(y[i], ref[i], bound + 1e-5f) << i;
  }
  // Static activations: x8 = e4m3(x / s) with one f32 scale.
  std::vector<float> actScale = {0.01f};
  TensorView a = viewOf(actScale, DType::F32, {});
  std::vector<float> ys;
  ASSERT_TRUE(fp8Linear(x.data(), m, q.weight.view(), q.scaleInv.view(), n, k,
                        2, 128, &a, nullptr, ys, error))
      << error;
  EXPECT_NE(ys[0], 0.0f);
}

TEST(RefFineGrainedFp8, Errors) {
  std::vector<uint8_t> q(9);
  std::vector<float> s(4), w;
  std::string error;
  EXPECT_FALSE(dequantizeFp8Block(viewOf(q, DType::F8E4M3FN, {3, 3}),
                                  viewOf(s, DType::F32, {2, 2}), 3, 3, 0, 128,
                                  w, error));
  EXPECT_NE(error.find("weight_block_size"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeFp8Block(viewOf(q, DType::F8E4M3FN, {3, 3}),
                                  viewOf(s, DType::F32, {1, 4}), 3, 3, 2, 2, w,
                                  error));
  EXPECT_EQ(error, "weight_scale_inv must be f32[2, 2], got f32[1, 4]");
  std::vector<uint16_t> half(4);
  EXPECT_FALSE(dequantizeFp8Block(viewOf(q, DType::F8E4M3FN, {3, 3}),
                                  viewOf(half, DType::BF16, {2, 2}), 3, 3, 2, 2,
                                  w, error));
  EXPECT_EQ(error, "weight_scale_inv must be f32[2, 2], got bf16[2, 2]");
  EXPECT_FALSE(dequantizeFp8Block(viewOf(q, DType::I8, {3, 3}),
                                  viewOf(s, DType::F32, {2, 2}), 3, 3, 2, 2, w,
                                  error));
  EXPECT_EQ(error, "weight must be f8E4M3FN[3, 3], got i8[3, 3]");
  // Per tensor wants a scalar.
  EXPECT_FALSE(dequantizeFp8Block(viewOf(q, DType::F8E4M3FN, {3, 3}),
                                  viewOf(s, DType::F32, {1}), 3, 3, 0, 0, w,
                                  error));
  EXPECT_EQ(error, "weight_scale_inv must be f32[], got f32[1]");
  // transformers' divisibility rule for on-the-fly quantization.
  Fp8Quantized out;
  std::vector<float> x(9);
  EXPECT_FALSE(quantizeFp8Block(x.data(), 3, 3, 2, 2, out, error));
  EXPECT_EQ(error, "Matrix dimensions (3, 3) must be divisible by block sizes "
                   "(2, 2)");
  // Dynamic activations need a block (per-tensor weights need static ones).
  std::vector<float> one = {1};
  EXPECT_FALSE(fp8Linear(x.data(), 3, viewOf(q, DType::F8E4M3FN, {3, 3}),
                         viewOf(one, DType::F32, {}), 3, 3, 0, 0, nullptr,
                         nullptr, w, error));
  EXPECT_NE(error.find("activation_scheme static"), std::string::npos);
  std::vector<float> zero = {0};
  TensorView z = viewOf(zero, DType::F32, {});
  EXPECT_FALSE(fp8Linear(x.data(), 3, viewOf(q, DType::F8E4M3FN, {3, 3}),
                         viewOf(one, DType::F32, {}), 3, 3, 0, 0, &z, nullptr,
                         w, error));
  EXPECT_NE(error.find("activation_scale must be positive"), std::string::npos);
  // Activation scales that match neither 1 nor ceil(K / 128) columns.
  std::vector<uint8_t> x8(9);
  std::vector<float> sx(6);
  EXPECT_FALSE(fp8BlockScaledMatmul(
      x8.data(), sx.data(), 2, 3, viewOf(q, DType::F8E4M3FN, {3, 3}),
      viewOf(one, DType::F32, {}), 3, 3, 0, 0, w, error));
  EXPECT_NE(error.find("1 or 1 columns"), std::string::npos) << error;
}
