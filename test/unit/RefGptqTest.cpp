//===- RefGptqTest.cpp - GPTQ reference dequantizer -----------------------===//
//
// Packed words are written out by hand from the format (§2.3): 4-bit
// 0x76543210 holds 0..7 LSB first, the 3-bit words were packed with
// AutoGPTQ's explicit three-word scheme (values 10 and 21 straddle), the
// symmetric zero words are 0x77777777-style constants.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Gptq.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

namespace {

const TensorView kNoGIdx; // checkpoints without g_idx: k / group_size

TEST(RefGptq, FourBitByHand) {
  // K = 8, N = 8, one group. Column 0 holds 0..7, column 1 holds 8..15.
  std::vector<uint32_t> qweight = {0x76543210, 0xFEDCBA98, 0, 0, 0, 0, 0, 0};
  std::vector<uint32_t> qzeros = {0x77777777}; // v1 symmetric: z = 7 + 1
  std::vector<uint16_t> scales =
      halves({1.0f, 0.5f, 2.0f, 2.0f, 2.0f, 2.0f, 2.0f, 2.0f});
  GptqParams p;
  p.bits = 4;
  p.groupSize = -1;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeGptq(
      viewOf(qweight, DType::I32, {1, 8}), viewOf(qzeros, DType::I32, {1, 1}),
      viewOf(scales, DType::F16, {1, 8}), kNoGIdx, 8, 8, p, w, error))
      << error;
  for (int k = 0; k < 8; ++k) {
    EXPECT_EQ(w[0 * 8 + k], float(k - 8)) << k;    // W[0, k] = 1 * (k - 8)
    EXPECT_EQ(w[1 * 8 + k], 0.5f * float(k)) << k; // 0.5 * (8 + k - 8)
    EXPECT_EQ(w[5 * 8 + k], -16.0f) << k;          // 2 * (0 - 8)
  }

  // gptq_v2 stores the zero as is: 0x88888888 gives the same weight.
  std::vector<uint32_t> qzerosV2 = {0x88888888};
  p.zeroStoredMinusOne = false;
  std::vector<float> w2;
  ASSERT_TRUE(dequantizeGptq(
      viewOf(qweight, DType::I32, {1, 8}), viewOf(qzerosV2, DType::I32, {1, 1}),
      viewOf(scales, DType::F16, {1, 8}), kNoGIdx, 8, 8, p, w2, error))
      << error;
  EXPECT_EQ(w, w2);
}

TEST(RefGptq, TwoBitByHand) {
  // K = 16, N = 16. 0xE4 = 11 10 01 00: fields 0, 1, 2, 3 from the LSB.
  std::vector<uint32_t> qweight(16, 0);
  qweight[0] = 0xE4E4E4E4;
  std::vector<uint32_t> qzeros = {0x55555555}; // v1 symmetric: z = 1 + 1
  std::vector<uint16_t> scales = halves(std::vector<float>(16, 0.25f));
  GptqParams p;
  p.bits = 2;
  p.groupSize = -1;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeGptq(
      viewOf(qweight, DType::I32, {1, 16}), viewOf(qzeros, DType::I32, {1, 1}),
      viewOf(scales, DType::F16, {1, 16}), kNoGIdx, 16, 16, p, w, error))
      << error;
  for (int k = 0; k < 16; ++k) {
    EXPECT_EQ(w[k], 0.25f * float(k % 4 - 2)) << k;
    EXPECT_EQ(w[3 * 16 + k], -0.5f) << k;
  }
}

TEST(RefGptq, EightBitByHand) {
  // K = 4, N = 4: column 0 bytes (LSB first) 0x00, 0x01, 0x7F, 0x80.
  std::vector<uint32_t> qweight = {0x807F0100, 0xFFFFFFFF, 0, 0};
  std::vector<uint32_t> qzeros = {0x7F7F7F7F}; // v1 symmetric: z = 127 + 1
  std::vector<uint16_t> scales = halves({1.0f, 1.0f, 1.0f, 1.0f});
  GptqParams p;
  p.bits = 8;
  p.groupSize = -1;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeGptq(
      viewOf(qweight, DType::I32, {1, 4}), viewOf(qzeros, DType::I32, {1, 1}),
      viewOf(scales, DType::F16, {1, 4}), kNoGIdx, 4, 4, p, w, error))
      << error;
  EXPECT_EQ(std::vector<float>(w.begin(), w.begin() + 4),
            (std::vector<float>{-128, -127, -1, 0}));
  EXPECT_EQ(std::vector<float>(w.begin() + 4, w.begin() + 8),
            (std::vector<float>{127, 127, 127, 127}));
}

TEST(RefGptq, ThreeBitStraddlingWords) {
  // K = 32, N = 32: qweight [3, 32], qzeros [1, 3]. Column 0 holds k % 8
  // except value 10 = 0b101 (bits 30-31 of word 0 = 01, bit 0 of word 1 = 1)
  // and value 21 = 0b110 (bit 31 of word 1 = 0, bits 0-1 of word 2 = 11).
  // Column 1 is all 7s.
  std::vector<uint32_t> qweight(3 * 32, 0);
  qweight[0 * 32 + 0] = 0x48FAC688;
  qweight[1 * 32 + 0] = 0x4688FAC7;
  qweight[2 * 32 + 0] = 0xFAC688FB;
  for (int r = 0; r < 3; ++r)
    qweight[r * 32 + 1] = 0xFFFFFFFF;
  // v1 symmetric 3-bit zero: stored 3 in every field (z = 4).
  std::vector<uint32_t> qzeros = {0xDB6DB6DB, 0xB6DB6DB6, 0x6DB6DB6D};
  std::vector<uint16_t> scales = halves(std::vector<float>(32, 1.0f));
  GptqParams p;
  p.bits = 3;
  p.groupSize = -1;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeGptq(
      viewOf(qweight, DType::I32, {3, 32}), viewOf(qzeros, DType::I32, {1, 3}),
      viewOf(scales, DType::F16, {1, 32}), kNoGIdx, 32, 32, p, w, error))
      << error;
  for (int k = 0; k < 32; ++k) {
    const int q = k == 10 ? 5 : k == 21 ? 6 : k % 8;
    EXPECT_EQ(w[k], float(q - 4)) << k;
    EXPECT_EQ(w[32 + k], 3.0f) << k;
    EXPECT_EQ(w[2 * 32 + k], -4.0f) << k;
  }

  // The zero fields straddle the same way: 3 in every field reads back as
  // zero 4 for every one of the 32 columns.
  TensorView zeros = viewOf(qzeros, DType::I32, {1, 3});
  for (int c = 0; c < 32; ++c)
    EXPECT_EQ(gptqUnpackField(zeros, 0, 1, 3, c), 3u) << c;
}

TEST(RefGptq, AsymmetricZeroOverflowBug) {
  // A true zero of 0 is stored (z - 1) & 0xF = 15 in v1 and read back as 16;
  // v2 stores 0.
  std::vector<uint32_t> qweight = {0x76543210, 0, 0, 0, 0, 0, 0, 0};
  std::vector<uint32_t> v1 = {0x0000000F};
  std::vector<uint32_t> v2 = {0x00000000};
  std::vector<uint16_t> scales = halves(std::vector<float>(8, 1.0f));
  GptqParams p;
  p.groupSize = -1;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeGptq(
      viewOf(qweight, DType::I32, {1, 8}), viewOf(v1, DType::I32, {1, 1}),
      viewOf(scales, DType::F16, {1, 8}), kNoGIdx, 8, 8, p, w, error))
      << error;
  EXPECT_EQ(w[3], 3.0f - 16.0f);
  EXPECT_EQ(w[8 + 3], -1.0f); // column 1: field 0 -> z = 1
  p.zeroStoredMinusOne = false;
  ASSERT_TRUE(dequantizeGptq(
      viewOf(qweight, DType::I32, {1, 8}), viewOf(v2, DType::I32, {1, 1}),
      viewOf(scales, DType::F16, {1, 8}), kNoGIdx, 8, 8, p, w, error))
      << error;
  EXPECT_EQ(w[3], 3.0f);
}

TEST(RefGptq, GroupsAndActOrder) {
  // K = 16, N = 8, group size 4 (G = 4); column 0 holds q[k] = k. v2 zeros:
  // group g has zero g in every column; group 3's scale is 0.5.
  std::vector<uint32_t> qweight(2 * 8, 0);
  qweight[0] = 0x76543210;
  qweight[8] = 0xFEDCBA98;
  std::vector<uint32_t> qzeros = {0x00000000, 0x11111111, 0x22222222,
                                  0x33333333};
  std::vector<float> s(32, 1.0f);
  for (int c = 0; c < 8; ++c)
    s[3 * 8 + c] = 0.5f;
  std::vector<uint16_t> scales = halves(s);
  GptqParams p;
  p.groupSize = 4;
  p.zeroStoredMinusOne = false;
  std::vector<float> w;
  std::string error;
  auto qw = viewOf(qweight, DType::I32, {2, 8});
  auto qz = viewOf(qzeros, DType::I32, {4, 1});
  auto sc = viewOf(scales, DType::F16, {4, 8});
  ASSERT_TRUE(dequantizeGptq(qw, qz, sc, kNoGIdx, 8, 16, p, w, error)) << error;
  EXPECT_EQ(w[0], 0.0f);
  EXPECT_EQ(w[5], 4.0f);  // (5 - 1) * 1
  EXPECT_EQ(w[13], 5.0f); // (13 - 3) * 0.5

  // The same groups given explicitly.
  std::vector<int32_t> monotonic(16);
  for (int k = 0; k < 16; ++k)
    monotonic[k] = k / 4;
  std::vector<float> w2;
  ASSERT_TRUE(dequantizeGptq(qw, qz, sc, viewOf(monotonic, DType::I32, {16}), 8,
                             16, p, w2, error))
      << error;
  EXPECT_EQ(w, w2);

  // Act-order: g_idx reversed, input channel 0 in group 3, 15 in group 0.
  std::vector<int32_t> reversed(16);
  for (int k = 0; k < 16; ++k)
    reversed[k] = 3 - k / 4;
  ASSERT_TRUE(dequantizeGptq(qw, qz, sc, viewOf(reversed, DType::I32, {16}), 8,
                             16, p, w, error))
      << error;
  EXPECT_EQ(w[0], -1.5f);  // (0 - 3) * 0.5
  EXPECT_EQ(w[15], 15.0f); // (15 - 0) * 1
  EXPECT_EQ(w[6], 4.0f);   // (6 - 2) * 1

  // g_idx outside [0, G).
  std::vector<int32_t> bad = monotonic;
  bad[5] = 4;
  EXPECT_FALSE(dequantizeGptq(qw, qz, sc, viewOf(bad, DType::I32, {16}), 8, 16,
                              p, w, error));
  EXPECT_NE(error.find("g_idx[5] = 4"), std::string::npos) << error;
  bad[5] = -1;
  EXPECT_FALSE(dequantizeGptq(qw, qz, sc, viewOf(bad, DType::I32, {16}), 8, 16,
                              p, w, error));
  EXPECT_NE(error.find("g_idx[5] = -1"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeGptq(qw, qz, sc, viewOf(bad, DType::I16, {16}), 8, 16,
                              p, w, error));
  EXPECT_NE(error.find("g_idx must be i32[16]"), std::string::npos) << error;
}

TEST(RefGptq, PartialLastGroup) {
  // K = 40, group 32: G = ceil(40 / 32) = 2; channels 32..39 are group 1.
  std::vector<uint32_t> qweight(5 * 8, 0x88888888);
  std::vector<uint32_t> qzeros = {0x77777777, 0x77777777};
  std::vector<float> s(16, 1.0f);
  for (int c = 0; c < 8; ++c)
    s[8 + c] = 3.0f;
  std::vector<uint16_t> scales = halves(s);
  GptqParams p;
  p.groupSize = 32;
  std::vector<float> w;
  std::string error;
  // Every q is 8 and every z is 8: all zeros regardless of the scale.
  ASSERT_TRUE(dequantizeGptq(
      viewOf(qweight, DType::I32, {5, 8}), viewOf(qzeros, DType::I32, {2, 1}),
      viewOf(scales, DType::F16, {2, 8}), kNoGIdx, 8, 40, p, w, error))
      << error;
  for (float v : w)
    EXPECT_EQ(v, 0.0f);
  qweight[4 * 8 + 2] = 0x99999999; // channels 32..39 of column 2: q = 9
  ASSERT_TRUE(dequantizeGptq(
      viewOf(qweight, DType::I32, {5, 8}), viewOf(qzeros, DType::I32, {2, 1}),
      viewOf(scales, DType::F16, {2, 8}), kNoGIdx, 8, 40, p, w, error))
      << error;
  EXPECT_EQ(w[2 * 40 + 35], 3.0f);
  EXPECT_EQ(w[2 * 40 + 31], 0.0f);
}

TEST(RefGptq, RoundTripRtn) {
  const int64_t n = 32, k = 256;
  auto w = randomNormal(static_cast<size_t>(n * k), 11, 0.05f);
  for (int bits : {2, 3, 4, 8})
    for (bool sym : {true, false})
      for (bool v1 : {true, false})
        for (int64_t group : {int64_t(-1), int64_t(64)}) {
          GptqParams p;
          p.bits = bits;
          p.groupSize = group;
          p.zeroStoredMinusOne = v1;
          GptqQuantized q;
          std::string error;
          ASSERT_TRUE(quantizeGptqRtn(w.data(), n, k, p, sym, q, error))
              << error;
          std::vector<float> back;
          ASSERT_TRUE(dequantizeGptq(q.qweight.view(), q.qzeros.view(),
                                     q.scales.view(), q.gIdx.view(), n, k, p,
                                     back, error))
              << error;
          const int64_t g = group == -1 ? k : group;
          for (int64_t c = 0; c < n; ++c)
            for (int64_t i = 0; i < k; ++i) {
              const float s = q.scales.view().at((i / g) * n + c);
              // Half a step, plus the fp16 rounding of the scale over at
              // most 2^bits steps.
              const float bound =
                  0.5f * s + float(1 << bits) * s / 1024.0f + 1e-7f;
              ASSERT_LE(std::fabs(back[c * k + i] - w[c * k + i]), bound)
                  << bits << " bits, sym " << sym << ", v1 " << v1 << ", (" << c
                  << ", " << i << ")";
            }
        }
}

TEST(RefGptq, RtnReproducesV1OverflowForZeroZero) {
  // All weights of the group positive: asymmetric zero 0, stored as 15 in v1
  // and read back as 16, so every value comes back 16 steps low.
  std::vector<float> w(8 * 8);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = 0.1f + 0.01f * float(i % 8);
  GptqParams p;
  p.groupSize = -1;
  GptqQuantized q;
  std::string error;
  ASSERT_TRUE(quantizeGptqRtn(w.data(), 8, 8, p, false, q, error)) << error;
  EXPECT_EQ(q.qzeros.view().bits(0), 0xFFFFFFFFu);
  std::vector<float> back;
  ASSERT_TRUE(dequantizeGptq(q.qweight.view(), q.qzeros.view(), q.scales.view(),
                             q.gIdx.view(), 8, 8, p, back, error))
      << error;
  const float s = q.scales.view().at(0);
  EXPECT_NEAR(back[7], w[7] - 16.0f * s, 0.5f * s + 1e-5f);
}

TEST(RefGptq, Errors) {
  std::vector<uint32_t> qweight(8, 0), qzeros(1, 0);
  std::vector<uint16_t> scales(8, 0);
  std::vector<float> scalesF32(8, 0.0f);
  GptqParams p;
  p.groupSize = -1;
  std::vector<float> w;
  std::string error;
  auto qw = viewOf(qweight, DType::I32, {1, 8});
  auto qz = viewOf(qzeros, DType::I32, {1, 1});
  auto sc = viewOf(scales, DType::F16, {1, 8});

  GptqParams bad = p;
  bad.bits = 5;
  EXPECT_FALSE(dequantizeGptq(qw, qz, sc, kNoGIdx, 8, 8, bad, w, error));
  EXPECT_NE(error.find("bits"), std::string::npos) << error;
  bad = p;
  bad.groupSize = 0;
  EXPECT_FALSE(dequantizeGptq(qw, qz, sc, kNoGIdx, 8, 8, bad, w, error));
  EXPECT_NE(error.find("group_size"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeGptq(qw, qz, sc, kNoGIdx, 8, 12, p, w, error));
  EXPECT_NE(error.find("K (12) must be a multiple of 8"), std::string::npos)
      << error;
  EXPECT_FALSE(dequantizeGptq(qw, qz, sc, kNoGIdx, 4, 8, p, w, error));
  EXPECT_NE(error.find("N (4)"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeGptq(viewOf(qweight, DType::I32, {8, 1}), qz, sc,
                              kNoGIdx, 8, 8, p, w, error));
  EXPECT_NE(error.find("qweight must be i32[1, 8]"), std::string::npos)
      << error;
  EXPECT_FALSE(dequantizeGptq(qw, viewOf(qzeros, DType::I16, {1, 1}), sc,
                              kNoGIdx, 8, 8, p, w, error));
  EXPECT_NE(error.find("qzeros"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeGptq(qw, qz, viewOf(scalesF32, DType::F32, {1, 8}),
                              kNoGIdx, 8, 8, p, w, error));
  EXPECT_NE(error.find("scales must be f16[1, 8]"), std::string::npos) << error;
  TensorView noData = qw;
  noData.data = nullptr;
  EXPECT_FALSE(dequantizeGptq(noData, qz, sc, kNoGIdx, 8, 8, p, w, error));
  EXPECT_NE(error.find("qweight has no data"), std::string::npos) << error;
  TensorView absurd = qw;
  absurd.shape = {int64_t(1) << 62, int64_t(1) << 62};
  EXPECT_FALSE(dequantizeGptq(absurd, qz, sc, kNoGIdx, 8, 8, p, w, error));

  GptqQuantized q;
  EXPECT_FALSE(quantizeGptqRtn(nullptr, 8, 8, p, true, q, error));
  std::vector<float> inf(64, INFINITY);
  EXPECT_FALSE(quantizeGptqRtn(inf.data(), 8, 8, p, true, q, error));
  EXPECT_NE(error.find("not finite"), std::string::npos) << error;
}

} // namespace
