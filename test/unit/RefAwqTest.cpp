//===- RefAwqTest.cpp - AWQ reference dequantizer -------------------------===//
//
// Hand-packed words from the format (§2.4): in a gemm word, nibble i holds
// column 8c + [0, 2, 4, 6, 1, 3, 5, 7][i], so 0x76543210 reads back per
// column as 0, 4, 1, 5, 2, 6, 3, 7; gemv words are in natural order along K
// with padded per-row group vectors.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Awq.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

namespace {

TEST(RefAwq, GemmPackOrder) {
  // K = 1, N = 8, one group: the nibbles 0..7 of one word.
  std::vector<uint32_t> qweight = {0x76543210};
  std::vector<uint32_t> qzeros = {0x00000000};
  std::vector<uint16_t> scales = halves(std::vector<float>(8, 1.0f));
  AwqParams p;
  p.groupSize = -1;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeAwq(
      viewOf(qweight, DType::I32, {1, 1}), viewOf(qzeros, DType::I32, {1, 1}),
      viewOf(scales, DType::F16, {1, 8}), 8, 1, p, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7}));
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(w[kAwqGemmOrder[i]], float(i)) << i;

  // Zeros are interleaved the same way: nibble 1 is column 2, nibble 4
  // column 1.
  qzeros[0] = 0x00030020;
  ASSERT_TRUE(dequantizeAwq(
      viewOf(qweight, DType::I32, {1, 1}), viewOf(qzeros, DType::I32, {1, 1}),
      viewOf(scales, DType::F16, {1, 8}), 8, 1, p, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{0, 4 - 3, 1 - 2, 5, 2, 6, 3, 7}));
}

TEST(RefAwq, GemmGroups) {
  // K = 4, N = 8, group size 2: rows 0-1 are group 0, rows 2-3 group 1.
  // Every code is 9 (0x99999999); group 0 zero 1 scale 0.5, group 1 zero 8
  // (0x88888888) scale 2 except column 5 with scale 4.
  std::vector<uint32_t> qweight(4, 0x99999999);
  std::vector<uint32_t> qzeros = {0x11111111, 0x88888888};
  std::vector<float> s(16, 0.5f);
  for (int c = 0; c < 8; ++c)
    s[8 + c] = c == 5 ? 4.0f : 2.0f;
  std::vector<uint16_t> scales = halves(s);
  AwqParams p;
  p.groupSize = 2;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeAwq(
      viewOf(qweight, DType::I32, {4, 1}), viewOf(qzeros, DType::I32, {2, 1}),
      viewOf(scales, DType::F16, {2, 8}), 8, 4, p, w, error))
      << error;
  // W[n, k] row-major: (9 - 1) * 0.5 = 4 for k < 2, (9 - 8) * 2 = 2 after.
  EXPECT_EQ(w[0 * 4 + 0], 4.0f);
  EXPECT_EQ(w[0 * 4 + 1], 4.0f);
  EXPECT_EQ(w[0 * 4 + 2], 2.0f);
  EXPECT_EQ(w[5 * 4 + 3], 4.0f); // scale 4
  EXPECT_EQ(w[7 * 4 + 3], 2.0f);
}

TEST(RefAwq, GemvNaturalOrderAndPadding) {
  // K = 32, g = 32: G = 1, m = 4, W = ceil(ceil(1/8)/4)*4 = 4 words.
  // Row 0: q[k] = k for k < 16, else 0; zero 3; scale 0.5. The padding
  // entries hold junk that must be ignored.
  std::vector<uint32_t> qweight = {0x76543210, 0xFEDCBA98, 0,
                                   0,          0x11111111, 0x11111111,
                                   0x11111111, 0x11111111};
  std::vector<uint32_t> qzeros = {
      0xFFFFFFF3, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0x00000001, 0, 0, 0};
  std::vector<float> s(2 * 32, 99.0f);
  s[0] = 0.5f;
  s[32] = 2.0f;
  std::vector<uint16_t> scales = halves(s);
  AwqParams p;
  p.version = AwqVersion::Gemv;
  p.groupSize = 32;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeAwq(
      viewOf(qweight, DType::I32, {2, 4}), viewOf(qzeros, DType::I32, {2, 4}),
      viewOf(scales, DType::F16, {2, 32}), 2, 32, p, w, error))
      << error;
  for (int k = 0; k < 32; ++k) {
    EXPECT_EQ(w[k], (float(k < 16 ? k : 0) - 3.0f) * 0.5f) << k;
    EXPECT_EQ(w[32 + k], 0.0f) << k; // (1 - 1) * 2
  }
}

TEST(RefAwq, GemvGroupZerosAlongRow) {
  // K = 256, g = 128: G = 2, W = 1 word; group 1's zero is nibble 1.
  std::vector<uint32_t> qweight(8 * 32, 0x55555555); // [N = 8, K / 8 = 32]
  std::vector<uint32_t> qzeros(8, 0x00000021);       // g0 zero 1, g1 zero 2
  std::vector<uint16_t> scales = halves(std::vector<float>(8 * 8, 1.0f));
  AwqParams p;
  p.version = AwqVersion::Gemv;
  p.groupSize = 128;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeAwq(
      viewOf(qweight, DType::I32, {8, 32}), viewOf(qzeros, DType::I32, {8, 1}),
      viewOf(scales, DType::F16, {8, 8}), 8, 256, p, w, error))
      << error;
  EXPECT_EQ(w[0], 4.0f); // 5 - 1
  EXPECT_EQ(w[127], 4.0f);
  EXPECT_EQ(w[128], 3.0f); // 5 - 2
  EXPECT_EQ(w[7 * 256 + 255], 3.0f);
}

TEST(RefAwq, GemvPaddedWidths) {
  // The spec's W: g = 64 with K = 576 (9 groups) -> ceil(9/8) = 2 -> m = 2
  // -> 2; g = 32 with K = 288 (9 groups) -> 2 -> m = 4 -> 4.
  struct Case {
    int64_t g, k, width;
  } cases[] = {{64, 576, 2}, {32, 288, 4}, {128, 128, 1}, {256, 2048, 1}};
  for (const Case &c : cases) {
    const int64_t n = 2;
    std::vector<uint32_t> qweight(static_cast<size_t>(n * c.k / 8), 0);
    std::vector<uint32_t> qzeros(static_cast<size_t>(n * c.width), 0);
    std::vector<uint16_t> scales(static_cast<size_t>(n * 8 * c.width), 0);
    AwqParams p;
    p.version = AwqVersion::Gemv;
    p.groupSize = c.g;
    std::vector<float> w;
    std::string error;
    EXPECT_TRUE(dequantizeAwq(viewOf(qweight, DType::I32, {n, c.k / 8}),
                              viewOf(qzeros, DType::I32, {n, c.width}),
                              viewOf(scales, DType::F16, {n, 8 * c.width}), n,
                              c.k, p, w, error))
        << c.g << ": " << error;
    EXPECT_FALSE(dequantizeAwq(viewOf(qweight, DType::I32, {n, c.k / 8}),
                               viewOf(qzeros, DType::I32, {n, c.width + 1}),
                               viewOf(scales, DType::F16, {n, 8 * c.width}), n,
                               c.k, p, w, error));
    EXPECT_NE(error.find("qzeros"), std::string::npos) << error;
  }
}

TEST(RefAwq, RoundTripRtn) {
  const int64_t n = 16, k = 256;
  auto w = randomNormal(static_cast<size_t>(n * k), 5, 0.05f);
  for (AwqVersion version : {AwqVersion::Gemm, AwqVersion::Gemv})
    for (int64_t g : {int64_t(32), int64_t(64), int64_t(128)}) {
      AwqParams p;
      p.version = version;
      p.groupSize = g;
      AwqQuantized q;
      std::string error;
      ASSERT_TRUE(quantizeAwqRtn(w.data(), n, k, p, q, error)) << error;
      std::vector<float> back;
      ASSERT_TRUE(dequantizeAwq(q.qweight.view(), q.qzeros.view(),
                                q.scales.view(), n, k, p, back, error))
          << error;
      const int64_t width = q.qzeros.shape[1];
      for (int64_t c = 0; c < n; ++c)
        for (int64_t i = 0; i < k; ++i) {
          const float s = version == AwqVersion::Gemm
                              ? q.scales.view().at((i / g) * n + c)
                              : q.scales.view().at(c * 8 * width + i / g);
          const float bound = 0.5f * s + 16.0f * s / 1024.0f + 1e-7f;
          ASSERT_LE(std::fabs(back[c * k + i] - w[c * k + i]), bound)
              << int(version) << " g " << g << " (" << c << ", " << i << ")";
        }
    }
}

TEST(RefAwq, Errors) {
  std::vector<uint32_t> words(64, 0);
  std::vector<uint16_t> scales(64, 0);
  std::vector<float> w;
  std::string error;
  AwqParams p;
  p.groupSize = -1;
  auto qw = viewOf(words, DType::I32, {8, 1});
  auto qz = viewOf(words, DType::I32, {1, 1});
  auto sc = viewOf(scales, DType::F16, {1, 8});
  ASSERT_TRUE(dequantizeAwq(qw, qz, sc, 8, 8, p, w, error)) << error;

  AwqParams bad = p;
  bad.bits = 8;
  EXPECT_FALSE(dequantizeAwq(qw, qz, sc, 8, 8, bad, w, error));
  EXPECT_NE(error.find("4-bit"), std::string::npos) << error;
  bad = p;
  bad.groupSize = 3;
  EXPECT_FALSE(dequantizeAwq(qw, qz, sc, 8, 8, bad, w, error));
  EXPECT_NE(error.find("multiple of group_size"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeAwq(qw, qz, sc, 12, 8, p, w, error));
  EXPECT_NE(error.find("N (12)"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeAwq(qw, qz, viewOf(scales, DType::BF16, {1, 8}), 8, 8,
                             p, w, error));
  EXPECT_NE(error.find("scales must be f16[1, 8]"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeAwq(viewOf(words, DType::I32, {1, 8}), qz, sc, 8, 8, p,
                             w, error));
  EXPECT_NE(error.find("qweight must be i32[8, 1]"), std::string::npos)
      << error;

  AwqParams gemv;
  gemv.version = AwqVersion::Gemv;
  gemv.groupSize = 48;
  EXPECT_FALSE(dequantizeAwq(qw, qz, sc, 8, 96, gemv, w, error));
  EXPECT_NE(error.find("32, 64 or at least 128"), std::string::npos) << error;

  AwqQuantized q;
  EXPECT_FALSE(quantizeAwqRtn(nullptr, 8, 8, p, q, error));
  std::vector<float> nan(64, NAN);
  EXPECT_FALSE(quantizeAwqRtn(nan.data(), 8, 8, p, q, error));
  EXPECT_NE(error.find("not finite"), std::string::npos) << error;
}

} // namespace
