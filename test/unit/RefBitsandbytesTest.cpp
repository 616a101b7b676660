//===- RefBitsandbytesTest.cpp - bitsandbytes 4-bit / int8 reference ------===//
//
// Expected values are worked out by hand from the format (§2.1, §2.2 of the
// formats reference): code tables times power-of-two block scales (so every
// product is exact), LLM.int8() sums done on paper. The dynamic map is
// checked against the float32 bits torch 2.11 produced for bnb's
// create_dynamic_map() on an AVX-512 x86 machine (and, for the entries that
// differ, torch's generic build). Round trips check the quantizers' error
// bounds, not equality with themselves.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Bitsandbytes.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

namespace {

float fromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

uint32_t toBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

const TensorView kNone; // an absent optional tensor

// torch 2.11 (AVX-512 build) create_dynamic_map(), float32 bits.
const uint32_t kTorchDynamicMap[256] = {
    0xbf7e3333, 0xbf7a999a, 0xbf770000, 0xbf736666, 0xbf6fcccd, 0xbf6c3333,
    0xbf68999a, 0xbf650000, 0xbf616666, 0xbf5dcccd, 0xbf5a3333, 0xbf56999a,
    0xbf530000, 0xbf4f6666, 0xbf4bcccd, 0xbf483333, 0xbf44999a, 0xbf410000,
    0xbf3d6666, 0xbf39cccd, 0xbf363334, 0xbf32999a, 0xbf2f0000, 0xbf2b6666,
    0xbf27cccd, 0xbf243334, 0xbf20999a, 0xbf1d0000, 0xbf196666, 0xbf15cccd,
    0xbf123334, 0xbf0e999a, 0xbf0b0000, 0xbf076666, 0xbf03cccc, 0xbf003333,
    0xbef93332, 0xbef20000, 0xbeeacccc, 0xbee3999a, 0xbedc6666, 0xbed53333,
    0xbece0000, 0xbec6cccc, 0xbebf999a, 0xbeb86666, 0xbeb13333, 0xbeaa0000,
    0xbea2cccc, 0xbe9b999a, 0xbe946666, 0xbe8d3334, 0xbe860000, 0xbe7d9999,
    0xbe6f3333, 0xbe60cccd, 0xbe526666, 0xbe440000, 0xbe35999a, 0xbe273333,
    0xbe18cccd, 0xbe0a6666, 0xbdf80000, 0xbddb3334, 0xbdc9eb85, 0xbdc428f7,
    0xbdbe6667, 0xbdb8a3d7, 0xbdb2e148, 0xbdad1eb8, 0xbda75c2a, 0xbda1999a,
    0xbd9bd70a, 0xbd96147b, 0xbd9051eb, 0xbd8a8f5d, 0xbd84cccd, 0xbd7e147b,
    0xbd728f5d, 0xbd670a3d, 0xbd5b851f, 0xbd500000, 0xbd447ae1, 0xbd38f5c3,
    0xbd2d70a3, 0xbd21eb85, 0xbd166667, 0xbd0ae148, 0xbcfeb852, 0xbce7ae15,
    0xbcd0a3d7, 0xbcb9999a, 0xbca28f5d, 0xbc8b851f, 0xbc68f5c3, 0xbc3ae148,
    0xbc1f3b64, 0xbc160418, 0xbc0ccccd, 0xbc039581, 0xbbf4bc6a, 0xbbe24dd3,
    0xbbcfdf3b, 0xbbbd70a4, 0xbbab020d, 0xbb989374, 0xbb8624dd, 0xbb676c8a,
    0xbb428f5c, 0xbb1db22d, 0xbaf1a9fc, 0xbaa7ef9d, 0xba7765ff, 0xba59e83e,
    0xba3c6a80, 0xba1eecc1, 0xba016f01, 0xb9c7e283, 0xb98ce705, 0xb923d70b,
    0xb8ba1f4b, 0xb88aefb3, 0xb8378034, 0xb7b24206, 0xb70205ff, 0xb65a1a94,
    0xb513a3b7, 0x00000000, 0x3513a3b7, 0x365a1a94, 0x370205ff, 0x37b24206,
    0x38378034, 0x388aefb3, 0x38ba1f4b, 0x3923d70b, 0x398ce705, 0x39c7e283,
    0x3a016f01, 0x3a1eecc1, 0x3a3c6a80, 0x3a59e83e, 0x3a7765ff, 0x3aa7ef9d,
    0x3af1a9fc, 0x3b1db22d, 0x3b428f5c, 0x3b676c8a, 0x3b8624dd, 0x3b989374,
    0x3bab020d, 0x3bbd70a4, 0x3bcfdf3b, 0x3be24dd3, 0x3bf4bc6a, 0x3c039581,
    0x3c0ccccd, 0x3c160418, 0x3c1f3b64, 0x3c3ae148, 0x3c68f5c3, 0x3c8b851f,
    0x3ca28f5d, 0x3cb9999a, 0x3cd0a3d7, 0x3ce7ae15, 0x3cfeb852, 0x3d0ae148,
    0x3d166667, 0x3d21eb85, 0x3d2d70a3, 0x3d38f5c3, 0x3d447ae1, 0x3d500000,
    0x3d5b851f, 0x3d670a3d, 0x3d728f5d, 0x3d7e147b, 0x3d84cccd, 0x3d8a8f5d,
    0x3d9051eb, 0x3d96147b, 0x3d9bd70a, 0x3da1999a, 0x3da75c2a, 0x3dad1eb8,
    0x3db2e148, 0x3db8a3d7, 0x3dbe6667, 0x3dc428f7, 0x3dc9eb85, 0x3ddb3334,
    0x3df80000, 0x3e0a6666, 0x3e18cccd, 0x3e273333, 0x3e35999a, 0x3e440000,
    0x3e526666, 0x3e60cccd, 0x3e6f3333, 0x3e7d9999, 0x3e860000, 0x3e8d3334,
    0x3e946666, 0x3e9b999a, 0x3ea2cccc, 0x3eaa0000, 0x3eb13333, 0x3eb86666,
    0x3ebf999a, 0x3ec6cccc, 0x3ece0000, 0x3ed53333, 0x3edc6666, 0x3ee3999a,
    0x3eeacccc, 0x3ef20000, 0x3ef93332, 0x3f003333, 0x3f03cccc, 0x3f076666,
    0x3f0b0000, 0x3f0e999a, 0x3f123334, 0x3f15cccd, 0x3f196666, 0x3f1d0000,
    0x3f20999a, 0x3f243334, 0x3f27cccd, 0x3f2b6666, 0x3f2f0000, 0x3f32999a,
    0x3f363334, 0x3f39cccd, 0x3f3d6666, 0x3f410000, 0x3f44999a, 0x3f483333,
    0x3f4bcccd, 0x3f4f6666, 0x3f530000, 0x3f56999a, 0x3f5a3333, 0x3f5dcccd,
    0x3f616666, 0x3f650000, 0x3f68999a, 0x3f6c3333, 0x3f6fcccd, 0x3f736666,
    0x3f770000, 0x3f7a999a, 0x3f7e3333, 0x3f800000,
};

//===----------------------------------------------------------------------===//
// Code tables and the dynamic map
//===----------------------------------------------------------------------===//

TEST(RefBnb4, Nf4TableIsBnbs) {
  const auto &t = bnb4CodeTable(Bnb4Type::NF4);
  EXPECT_EQ(t[0], -1.0f);
  EXPECT_EQ(t[1], -0.6961928009986877f);
  EXPECT_EQ(t[6], -0.09105003625154495f);
  EXPECT_EQ(t[7], 0.0f);
  EXPECT_EQ(t[8], 0.07958029955625534f);
  EXPECT_EQ(t[14], 0.7229568362236023f);
  EXPECT_EQ(t[15], 1.0f);
  for (int i = 0; i + 1 < 16; ++i)
    EXPECT_LT(t[i], t[i + 1]) << i;
}

TEST(RefBnb4, Fp4TableIsBitPatternOverTwelve) {
  // Magnitudes of bit patterns 000..111 in bnb's FP4 (bias 2, subnormal
  // 0.0625), normalised by the largest (12), as get_4bit_type('fp4') does in
  // float32.
  const float magnitude[8] = {0.0f, 0.0625f, 8.0f, 12.0f,
                              4.0f, 6.0f,    2.0f, 3.0f};
  const auto &t = bnb4CodeTable(Bnb4Type::FP4);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(t[i], magnitude[i] / 12.0f) << i;
    EXPECT_EQ(t[i + 8], -(magnitude[i] / 12.0f)) << i;
  }
  EXPECT_TRUE(std::signbit(t[8])); // code 8 is -0
}

TEST(RefBnb4, DynamicMapMatchesTorch) {
  const auto map = bnbDynamicMap();
  for (int i = 0; i < 256; ++i)
    EXPECT_EQ(toBits(map[i]), kTorchDynamicMap[i]) << "entry " << i;
}

TEST(RefBnb4, DynamicMapKnownEntries) {
  const auto map = bnbDynamicMap();
  // Largest magnitude: 10^0 * mean(linspace(0.1, 1, 65)[63:65]).
  EXPECT_EQ(map[0], -0.992968738079071f);
  EXPECT_EQ(map[254], 0.992968738079071f);
  EXPECT_EQ(map[255], 1.0f);
  EXPECT_EQ(map[127], 0.0f);
  // Smallest magnitude: 1e-6 * (0.1 + 1) / 2.
  EXPECT_EQ(map[128], fromBits(0x3513a3b7));
  EXPECT_NEAR(map[128], 5.5e-7, 1e-12);
  for (int i = 0; i < 255; ++i)
    EXPECT_LT(map[i], map[i + 1]) << i;
  // Signed: 127 negatives mirror the positives below 1.
  for (int j = 0; j < 127; ++j)
    EXPECT_EQ(map[128 + j], -map[126 - j]) << j;
}

TEST(RefBnb4, DynamicMapGenericTorchBuild) {
  // torch's generic (non-FMA) linspace gives one ulp different values at 42
  // entries; e.g. these, read from torch with ATEN_CPU_CAPABILITY=default.
  const auto fused = bnbDynamicMap(true);
  const auto plain = bnbDynamicMap(false);
  EXPECT_EQ(toBits(fused[18]), 0xbf3d6666u);
  EXPECT_EQ(toBits(plain[18]), 0xbf3d6667u);
  EXPECT_EQ(toBits(fused[20]), 0xbf363334u);
  EXPECT_EQ(toBits(plain[20]), 0xbf363333u);
  EXPECT_EQ(toBits(fused[102]), 0xbbcfdf3bu);
  EXPECT_EQ(toBits(plain[102]), 0xbbcfdf3cu);
  int differ = 0;
  for (int i = 0; i < 256; ++i)
    differ += fused[i] != plain[i];
  EXPECT_EQ(differ, 42);
}

TEST(RefBnb4, DynamicQuantizeIsNearest) {
  const auto map = bnbDynamicMap();
  for (int i = 0; i < 256; ++i)
    EXPECT_EQ(bnbQuantizeDynamic(map, map[i]), i) << i;
  EXPECT_EQ(bnbQuantizeDynamic(map, -1.0f), 0);
  EXPECT_EQ(bnbQuantizeDynamic(map, 1.0f), 255);
  // Just either side of each midpoint.
  for (int i = 0; i + 1 < 256; ++i) {
    const float mid = (map[i] + map[i + 1]) * 0.5f;
    EXPECT_EQ(bnbQuantizeDynamic(map, std::nextafter(mid, -2.0f)), i) << i;
    EXPECT_EQ(bnbQuantizeDynamic(map, std::nextafter(mid, 2.0f)), i + 1) << i;
  }
  // And the nearest entry for arbitrary values in [-1, 1].
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int t = 0; t < 20000; ++t) {
    float x = dist(gen) * (t % 2 ? 1.0f : 1e-3f);
    int code = bnbQuantizeDynamic(map, x);
    for (int j = 0; j < 256; ++j)
      ASSERT_LE(std::fabs(x - map[code]), std::fabs(x - map[j])) << x;
  }
}

TEST(RefBnb4, Blockwise8AndMean) {
  const auto map = bnbDynamicMap();
  // Blocks of 4: absmax 2 (codes of 1, -0.5, 0.125, 0 against the map), then
  // an all-zero block (absmax 0, 0 * inf = NaN -> code 0), then a short one.
  std::vector<float> a = {2.0f, -1.0f, 0.25f, 0.0f, 0, 0, 0, 0, -0.5f};
  std::vector<uint8_t> codes;
  std::vector<float> absmax;
  std::string error;
  ASSERT_TRUE(bnbQuantizeBlockwise8(a.data(), 9, 4, map, codes, absmax, error))
      << error;
  EXPECT_EQ(absmax, (std::vector<float>{2.0f, 0.0f, 0.5f}));
  EXPECT_EQ(codes[0], 255); // 1.0
  EXPECT_EQ(codes[1], bnbQuantizeDynamic(map, -0.5f));
  EXPECT_EQ(codes[2], bnbQuantizeDynamic(map, 0.125f));
  EXPECT_EQ(codes[3], 127); // 0
  for (int i = 4; i < 8; ++i)
    EXPECT_EQ(codes[i], 0) << i;
  EXPECT_EQ(codes[8], 0); // -1 -> -0.99296874
  EXPECT_FALSE(
      bnbQuantizeBlockwise8(a.data(), 9, 0, map, codes, absmax, error));
  EXPECT_NE(error.find("blocksize"), std::string::npos) << error;

  std::vector<float> v = {1.0f, 2.0f, 3.0f, 4.0f};
  EXPECT_EQ(bnbFloatMean(v.data(), 4), 2.5f);
  EXPECT_TRUE(std::isnan(bnbFloatMean(v.data(), 0)));
  // The float sum is a tree: 1e8 + 4 and 4 + 4 are summed apart, so the
  // 8 survives (a left-to-right float sum would lose both 4s).
  std::vector<float> big = {1e8f, 4.0f, 4.0f, 4.0f};
  EXPECT_EQ(bnbFloatMean(big.data(), 4), (1e8f + 8.0f) * 0.25f);
}

TEST(RefBnb4, QuantizeValueTrees) {
  const auto &nf4 = bnb4CodeTable(Bnb4Type::NF4);
  for (int c = 0; c < 16; ++c)
    EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::NF4, nf4[c]), c) << c;
  // Strict `>`: a value on a kernel midpoint goes to the lower code.
  EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::NF4, 0.03979014977812767f), 7);
  EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::NF4,
                              std::nextafter(0.03979014977812767f, 1.0f)),
            8);
  EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::NF4, 0.5f), 12); // 0.4407 is nearer
  EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::NF4, NAN), 0);

  const auto &fp4 = bnb4CodeTable(Bnb4Type::FP4);
  for (int c = 1; c < 16; ++c)
    if (c != 8)
      EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::FP4, fp4[c]), c) << c;
  EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::FP4, 0.0f), 0);
  EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::FP4, -0.0f), 0);      // sign from x < 0
  EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::FP4, 0.55f), 0b0101); // 1/2
  EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::FP4, -0.9f), 0b1011); // -1
  EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::FP4, -0.2f), 0b1110); // -1/6
  EXPECT_EQ(bnb4QuantizeValue(Bnb4Type::FP4, NAN), 0);
}

//===----------------------------------------------------------------------===//
// 4-bit dequantization by hand
//===----------------------------------------------------------------------===//

TEST(RefBnb4, Nf4DequantByHand) {
  // N = 2, K = 64: two blocks of 64 with absmax 2 and 0.5.
  std::vector<uint8_t> packed(64, 0x77); // code 7 = 0 everywhere
  packed[0] = 0x0F;  // elements 0, 1: codes 0 (-1) and 15 (+1)
  packed[1] = 0x78;  // elements 2, 3: codes 7 (0) and 8
  packed[32] = 0xE1; // elements 64, 65: codes 14 and 1
  std::vector<float> absmax = {2.0f, 0.5f};
  Bnb4Params p;
  p.type = Bnb4Type::NF4;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeBnb4(viewOf(packed, DType::U8, {64, 1}),
                             viewOf(absmax, DType::F32, {2}), kNone, kNone, 2,
                             64, p, w, error))
      << error;
  ASSERT_EQ(w.size(), 128u);
  EXPECT_EQ(w[0], -2.0f);
  EXPECT_EQ(w[1], 2.0f);
  EXPECT_EQ(w[2], 0.0f);
  EXPECT_EQ(w[3], 0.15916059911251068f); // 0.07958029955625534 * 2
  EXPECT_EQ(w[4], 0.0f);
  EXPECT_EQ(w[64], 0.36147841811180115f);  // 0.7229568362236023 / 2
  EXPECT_EQ(w[65], -0.34809640049934387f); // -0.6961928009986877 / 2
  EXPECT_EQ(w[127], 0.0f);
}

TEST(RefBnb4, Fp4DequantByHand) {
  std::vector<uint8_t> packed(32, 0x00);
  packed[0] = 0x3B; // codes 3 (+1) and 11 (-1)
  packed[1] = 0x5E; // codes 5 (+1/2) and 14 (-1/6)
  packed[2] = 0x18; // codes 1 (+1/192) and 8 (-0)
  std::vector<float> absmax = {4.0f};
  Bnb4Params p;
  p.type = Bnb4Type::FP4;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeBnb4(viewOf(packed, DType::U8, {32, 1}),
                             viewOf(absmax, DType::F32, {1}), kNone, kNone, 1,
                             64, p, w, error))
      << error;
  EXPECT_EQ(w[0], 4.0f);
  EXPECT_EQ(w[1], -4.0f);
  EXPECT_EQ(w[2], 2.0f);
  EXPECT_EQ(w[3], -0.6666666865348816f); // -0.16666667f * 4
  EXPECT_EQ(w[4], 0.02083333395421505f); // 0.005208333333f * 4
  EXPECT_EQ(w[5], 0.0f);
  EXPECT_TRUE(std::signbit(w[5]));
  EXPECT_EQ(w[6], 0.0f);
}

TEST(RefBnb4, OddElementCount) {
  // N*K = 3: two bytes, the last low nibble unused.
  std::vector<uint8_t> packed = {0xF0, 0x0F};
  std::vector<float> absmax = {1.0f};
  Bnb4Params p;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeBnb4(viewOf(packed, DType::U8, {2, 1}),
                             viewOf(absmax, DType::F32, {1}), kNone, kNone, 1,
                             3, p, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{1.0f, -1.0f, -1.0f}));
}

TEST(RefBnb4, StorageDtypeReinterpretsBytes) {
  // bnb_4bit_quant_storage = float16: the same bytes viewed as halves
  // (little-endian), [(8 + 1) // 4, 1] = [2, 1].
  std::vector<uint16_t> packed = {0x780F, 0x77E1}; // bytes 0F 78 E1 77
  std::vector<float> absmax = {1.0f};
  Bnb4Params p;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeBnb4(viewOf(packed, DType::F16, {2, 1}),
                             viewOf(absmax, DType::F32, {1}), kNone, kNone, 2,
                             4, p, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{-1.0f, 1.0f, 0.0f, 0.07958029955625534f,
                                   0.7229568362236023f, -0.6961928009986877f,
                                   0.0f, 0.0f}));
  // Six codes are three bytes: not whole f16 elements.
  std::vector<uint16_t> shortPacked = {0};
  EXPECT_FALSE(dequantizeBnb4(viewOf(shortPacked, DType::F16, {1, 1}),
                              viewOf(absmax, DType::F32, {1}), kNone, kNone, 1,
                              6, p, w, error));
  EXPECT_NE(error.find("weight"), std::string::npos) << error;
}

TEST(RefBnb4, DoubleQuantByHand) {
  // 257 blocks of 64 (N = 257, K = 64) so that the nested absmax has two
  // entries (blocks 0-255 and block 256).
  const int64_t n = 257, k = 64;
  std::vector<uint8_t> packed(static_cast<size_t>(n * k / 2), 0xF0); // +1, -1
  std::vector<uint8_t> codes(257, 127); // map[127] = 0
  codes[0] = 255;                       // map[255] = 1
  codes[2] = 0;                         // map[0] = -0.992968738079071
  codes[256] = 255;
  std::vector<float> nestedAbsmax = {2.0f, 4.0f};
  const auto map = bnbDynamicMap();
  std::vector<float> nestedMap(map.begin(), map.end());
  Bnb4Params p;
  p.doubleQuant = true;
  p.nestedOffset = 0.5f;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeBnb4(
      viewOf(packed, DType::U8, {n * k / 2, 1}),
      viewOf(codes, DType::U8, {257}), viewOf(nestedAbsmax, DType::F32, {2}),
      viewOf(nestedMap, DType::F32, {256}), n, k, p, w, error))
      << error;
  EXPECT_EQ(w[0], 2.5f); // 1 * 2 + 0.5
  EXPECT_EQ(w[1], -2.5f);
  EXPECT_EQ(w[64], 0.5f);                    // 0 * 2 + 0.5
  EXPECT_EQ(w[2 * 64], -1.485937476158142f); // -0.99296874 * 2 + 0.5
  EXPECT_EQ(w[256 * 64], 4.5f);              // 1 * 4 + 0.5
  EXPECT_EQ(w[256 * 64 + 1], -4.5f);
}

TEST(RefBnb4, DequantErrors) {
  std::vector<uint8_t> packed(32, 0);
  std::vector<float> absmax = {1.0f};
  std::vector<uint8_t> absmaxCodes = {0};
  std::vector<int32_t> wrongStorage(8, 0);
  Bnb4Params p;
  std::vector<float> w;
  std::string error;
  auto weight = viewOf(packed, DType::U8, {32, 1});
  auto amax = viewOf(absmax, DType::F32, {1});

  Bnb4Params badBlock = p;
  badBlock.blocksize = 48;
  EXPECT_FALSE(
      dequantizeBnb4(weight, amax, kNone, kNone, 1, 64, badBlock, w, error));
  EXPECT_NE(error.find("blocksize"), std::string::npos) << error;

  EXPECT_FALSE(dequantizeBnb4(viewOf(packed, DType::U8, {16, 2}), amax, kNone,
                              kNone, 1, 64, p, w, error));
  EXPECT_NE(error.find("weight must be ui8[32, 1]"), std::string::npos)
      << error;

  EXPECT_FALSE(dequantizeBnb4(viewOf(wrongStorage, DType::I32, {8, 1}), amax,
                              kNone, kNone, 1, 64, p, w, error));
  EXPECT_NE(error.find("weight must be stored as"), std::string::npos) << error;

  EXPECT_FALSE(dequantizeBnb4(weight, viewOf(absmaxCodes, DType::U8, {1}),
                              kNone, kNone, 1, 64, p, w, error));
  EXPECT_NE(error.find("weight.absmax must be f32[1]"), std::string::npos)
      << error;

  EXPECT_FALSE(dequantizeBnb4(weight, amax, kNone, kNone, 0, 64, p, w, error));
  EXPECT_NE(error.find("N and K"), std::string::npos) << error;

  Bnb4Params dq = p;
  dq.doubleQuant = true;
  std::vector<float> nested = {1.0f};
  std::vector<float> shortMap(255, 0.0f);
  EXPECT_FALSE(dequantizeBnb4(weight, viewOf(absmaxCodes, DType::U8, {1}),
                              viewOf(nested, DType::F32, {1}),
                              viewOf(shortMap, DType::F32, {255}), 1, 64, dq, w,
                              error));
  EXPECT_NE(error.find("weight.nested_quant_map"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeBnb4(weight, viewOf(absmaxCodes, DType::U8, {1}),
                              kNone, viewOf(shortMap, DType::F32, {255}), 1, 64,
                              dq, w, error));
  EXPECT_NE(error.find("weight.nested_absmax"), std::string::npos) << error;

  dq.nestedOffset = NAN;
  EXPECT_FALSE(dequantizeBnb4(weight, viewOf(absmaxCodes, DType::U8, {1}),
                              viewOf(nested, DType::F32, {1}),
                              viewOf(shortMap, DType::F32, {255}), 1, 64, dq, w,
                              error));
  EXPECT_NE(error.find("nested_offset"), std::string::npos) << error;
}

TEST(RefBnb4, CheckQuantMap) {
  std::vector<float> nf4(bnb4CodeTable(Bnb4Type::NF4).begin(),
                         bnb4CodeTable(Bnb4Type::NF4).end());
  std::string error;
  EXPECT_TRUE(
      checkBnb4QuantMap(viewOf(nf4, DType::F32, {16}), Bnb4Type::NF4, error))
      << error;
  EXPECT_FALSE(
      checkBnb4QuantMap(viewOf(nf4, DType::F32, {16}), Bnb4Type::FP4, error));
  EXPECT_NE(error.find("weight.quant_map[0]"), std::string::npos) << error;
  EXPECT_FALSE(
      checkBnb4QuantMap(viewOf(nf4, DType::F32, {4, 4}), Bnb4Type::NF4, error));
  EXPECT_NE(error.find("weight.quant_map must be f32[16]"), std::string::npos)
      << error;
}

//===----------------------------------------------------------------------===//
// 4-bit quantization
//===----------------------------------------------------------------------===//

TEST(RefBnb4, QuantizeByHand) {
  std::vector<float> w(64, 0.0f);
  w[0] = 2.0f;  // the absmax: normalised 1
  w[1] = -2.0f; // -1
  w[3] = 1.0f;  // 0.5
  std::string error;
  Bnb4Quantized q;
  Bnb4Params p;
  p.type = Bnb4Type::NF4;
  ASSERT_TRUE(quantizeBnb4(w.data(), 1, 64, p, q, error)) << error;
  ASSERT_EQ(q.weight.shape, (std::vector<int64_t>{32, 1}));
  EXPECT_EQ(q.weight.bytes[0], 0xF0);
  EXPECT_EQ(q.weight.bytes[1], 0x7C); // 0 -> 7, 0.5 -> 12 (0.4407)
  EXPECT_EQ(q.weight.bytes[2], 0x77);
  ASSERT_EQ(q.absmax.dtype, DType::F32);
  EXPECT_EQ(q.absmax.view().at(0), 2.0f);
  std::string mapError;
  EXPECT_TRUE(checkBnb4QuantMap(q.quantMap.view(), Bnb4Type::NF4, mapError))
      << mapError;

  p.type = Bnb4Type::FP4;
  ASSERT_TRUE(quantizeBnb4(w.data(), 1, 64, p, q, error)) << error;
  EXPECT_EQ(q.weight.bytes[0], 0x3B); // +1 -> 0011, -1 -> 1011
  EXPECT_EQ(q.weight.bytes[1], 0x05); // 0 -> 0000, 1/2 -> 0101
  EXPECT_EQ(q.weight.bytes[2], 0x00);
}

TEST(RefBnb4, QuantizeZeroBlockAndOddTail) {
  // An all-zero block: absmax 0, 0 * (1 / 0) is NaN, and bnb's NF4 tree sends
  // NaN to code 0; the value still dequantizes to (-)0.
  std::vector<float> zeros(64, 0.0f);
  Bnb4Quantized q;
  Bnb4Params p;
  std::string error;
  ASSERT_TRUE(quantizeBnb4(zeros.data(), 1, 64, p, q, error)) << error;
  EXPECT_EQ(q.weight.bytes[0], 0x00);
  EXPECT_EQ(q.absmax.view().at(0), 0.0f);
  std::vector<float> w;
  ASSERT_TRUE(dequantizeBnb4(q.weight.view(), q.absmax.view(), kNone, kNone, 1,
                             64, p, w, error))
      << error;
  for (float v : w)
    EXPECT_EQ(v, 0.0f);

  // Three elements: the missing fourth is quantized as 0 (NF4 code 7).
  std::vector<float> odd = {1.0f, -1.0f, 0.5f};
  ASSERT_TRUE(quantizeBnb4(odd.data(), 1, 3, p, q, error)) << error;
  ASSERT_EQ(q.weight.bytes.size(), 2u);
  EXPECT_EQ(q.weight.bytes[0], 0xF0);
  EXPECT_EQ(q.weight.bytes[1], 0xC7);
}

/// Checks that every code is the nearest table entry to w / absmax.
void expectNearestCodes(const std::vector<float> &w, const Bnb4Quantized &q,
                        Bnb4Type type, int64_t blocksize) {
  const auto &table = bnb4CodeTable(type);
  for (size_t i = 0; i < w.size(); ++i) {
    const float a = q.absmax.view().at(static_cast<int64_t>(i) / blocksize);
    const uint8_t byte = q.weight.bytes[i / 2];
    const int code = i % 2 == 0 ? byte >> 4 : byte & 0xf;
    const float x = w[i] / a;
    for (int j = 0; j < 16; ++j)
      ASSERT_LE(std::fabs(x - table[code]), std::fabs(x - table[j]) + 1e-6f)
          << "element " << i << " code " << code << " vs " << j;
  }
}

TEST(RefBnb4, RoundTripNearestCode) {
  const int64_t n = 48, k = 96;
  const auto w = randomNormal(static_cast<size_t>(n * k), 1, 0.02f);
  for (Bnb4Type type : {Bnb4Type::NF4, Bnb4Type::FP4})
    for (int64_t blocksize : {32, 64, 256}) {
      Bnb4Params p;
      p.type = type;
      p.blocksize = blocksize;
      Bnb4Quantized q;
      std::string error;
      ASSERT_TRUE(quantizeBnb4(w.data(), n, k, p, q, error)) << error;
      expectNearestCodes(w, q, type, blocksize);
      std::vector<float> back;
      ASSERT_TRUE(dequantizeBnb4(q.weight.view(), q.absmax.view(), kNone, kNone,
                                 n, k, p, back, error))
          << error;
      // Half the widest gap of the table (NF4: -1 to -0.6962; FP4: 2/3 to
      // 1) times the block absmax.
      const float halfGap = type == Bnb4Type::NF4 ? 0.1520f : 0.1667f;
      for (size_t i = 0; i < w.size(); ++i) {
        const float a = q.absmax.view().at(static_cast<int64_t>(i) / blocksize);
        ASSERT_LE(std::fabs(back[i] - w[i]), halfGap * a + 1e-7f) << i;
      }
    }
}

TEST(RefBnb4, RoundTripDoubleQuant) {
  // 600 blocks: three nested blocks of 256.
  const int64_t n = 600, k = 64;
  const auto w = randomNormal(static_cast<size_t>(n * k), 2, 0.05f);
  Bnb4Params p;
  Bnb4Quantized plain, nested;
  std::string error;
  ASSERT_TRUE(quantizeBnb4(w.data(), n, k, p, plain, error)) << error;
  p.doubleQuant = true;
  ASSERT_TRUE(quantizeBnb4(w.data(), n, k, p, nested, error)) << error;
  EXPECT_EQ(nested.weight.bytes, plain.weight.bytes); // codes do not change
  ASSERT_EQ(nested.absmax.dtype, DType::U8);
  ASSERT_EQ(nested.nestedAbsmax.shape, (std::vector<int64_t>{3}));
  ASSERT_EQ(nested.nestedQuantMap.shape, (std::vector<int64_t>{256}));
  double mean = 0;
  for (int64_t b = 0; b < 600; ++b)
    mean += plain.absmax.view().at(b);
  mean /= 600;
  EXPECT_NEAR(nested.nestedOffset, mean, 1e-7);

  p.nestedOffset = nested.nestedOffset;
  std::vector<float> fromPlain, fromNested;
  Bnb4Params plainParams;
  ASSERT_TRUE(dequantizeBnb4(plain.weight.view(), plain.absmax.view(), kNone,
                             kNone, n, k, plainParams, fromPlain, error))
      << error;
  ASSERT_TRUE(dequantizeBnb4(
      nested.weight.view(), nested.absmax.view(), nested.nestedAbsmax.view(),
      nested.nestedQuantMap.view(), n, k, p, fromNested, error))
      << error;
  // Each absmax comes back within half a step of the dynamic map's linear
  // top decade (0.0140625 / 2) of its nested absmax; |code| <= 1.
  for (size_t i = 0; i < w.size(); ++i) {
    const float nestedAmax =
        nested.nestedAbsmax.view().at(static_cast<int64_t>(i / 64) / 256);
    ASSERT_LE(std::fabs(fromNested[i] - fromPlain[i]),
              0.0070313f * nestedAmax + 1e-7f)
        << i;
  }
}

TEST(RefBnb4, QuantizeErrors) {
  std::vector<float> w(64, 1.0f);
  Bnb4Quantized q;
  Bnb4Params p;
  std::string error;
  p.blocksize = 16;
  EXPECT_FALSE(quantizeBnb4(w.data(), 1, 64, p, q, error));
  EXPECT_NE(error.find("blocksize"), std::string::npos) << error;
  p.blocksize = 64;
  EXPECT_FALSE(quantizeBnb4(nullptr, 1, 64, p, q, error));
  EXPECT_FALSE(quantizeBnb4(w.data(), -1, 64, p, q, error));
}

//===----------------------------------------------------------------------===//
// LLM.int8()
//===----------------------------------------------------------------------===//

TEST(RefBnbInt8, DequantByHand) {
  std::vector<int8_t> cb = {127, -127, 0, 64, 1, 2, 3, -4};
  std::vector<float> scb = {254.0f, 127.0f};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeBnbInt8(viewOf(cb, DType::I8, {2, 4}),
                                viewOf(scb, DType::F32, {2}), 2, 4, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{254, -254, 0, 128, 1, 2, 3, -4}));
}

TEST(RefBnbInt8, DequantErrors) {
  std::vector<int8_t> cb(8, 0);
  std::vector<float> scb = {1.0f, 1.0f};
  std::vector<float> w;
  std::string error;
  EXPECT_FALSE(dequantizeBnbInt8(viewOf(cb, DType::U8, {2, 4}),
                                 viewOf(scb, DType::F32, {2}), 2, 4, w, error));
  EXPECT_NE(error.find("weight must be i8[2, 4]"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeBnbInt8(viewOf(cb, DType::I8, {2, 4}),
                                 viewOf(scb, DType::F32, {1, 2}), 2, 4, w,
                                 error));
  EXPECT_NE(error.find("SCB must be f32[2]"), std::string::npos) << error;
}

TEST(RefBnbInt8, QuantizeByHand) {
  std::vector<float> w = {1.0f,    -0.5f, 0.25f, 0.0f,  // absmax 1
                          0.0f,    0.0f,  0.0f,  0.0f,  // all zero
                          3.0f,    1.5f,  0.75f, -3.0f, // absmax 3
                          1.0001f, 0.5f,  0.0f,  0.0f}; // fp16 -> 1.0
  StoredTensor cb, scb;
  std::string error;
  ASSERT_TRUE(quantizeBnbInt8(w.data(), 4, 4, cb, scb, error)) << error;
  auto cbv = cb.view();
  auto scbv = scb.view();
  // Row 0: 127 / 1; -63.5 rounds half to even -> -64; 31.75 -> 32.
  EXPECT_EQ(cbv.at(0), 127);
  EXPECT_EQ(cbv.at(1), -64);
  EXPECT_EQ(cbv.at(2), 32);
  EXPECT_EQ(cbv.at(3), 0);
  EXPECT_EQ(scbv.at(0), 1.0f);
  // Row 1: SCB 0 and codes 0.
  EXPECT_EQ(scbv.at(1), 0.0f);
  for (int c = 0; c < 4; ++c)
    EXPECT_EQ(cbv.at(4 + c), 0);
  // Row 2: 127 / 3 = 42.333332f in float; 1.5 times it rounds to 63.5 in
  // float, a tie, so 64 (even); 0.75 -> 31.75 -> 32.
  EXPECT_EQ(scbv.at(2), 3.0f);
  EXPECT_EQ(cbv.at(8), 127);
  EXPECT_EQ(cbv.at(9), 64);
  EXPECT_EQ(cbv.at(10), 32);
  EXPECT_EQ(cbv.at(11), -127);
  // Row 3: the weight is quantized in fp16, where 1.0001 is 1.0.
  EXPECT_EQ(scbv.at(3), 1.0f);
  EXPECT_EQ(cbv.at(12), 127);
  EXPECT_EQ(cbv.at(13), 64); // 63.5 -> 64 (even)
}

TEST(RefBnbInt8, RoundTrip) {
  const int64_t n = 32, k = 128;
  const auto w = randomNormal(static_cast<size_t>(n * k), 3, 0.1f);
  StoredTensor cb, scb;
  std::string error;
  ASSERT_TRUE(quantizeBnbInt8(w.data(), n, k, cb, scb, error)) << error;
  std::vector<float> back;
  ASSERT_TRUE(dequantizeBnbInt8(cb.view(), scb.view(), n, k, back, error))
      << error;
  for (int64_t r = 0; r < n; ++r) {
    const float step = scb.view().at(r) / 127.0f;
    for (int64_t c = 0; c < k; ++c) {
      const float w16 = halfToFloat(floatToHalf(w[r * k + c]));
      ASSERT_LE(std::fabs(back[r * k + c] - w16), 0.5f * step * 1.0001f)
          << r << ", " << c;
    }
  }
}

TEST(RefBnbInt8, ActivationOutliers) {
  // Threshold 6: (0, 1) = 8 and (1, 3) = -7 are outliers, so columns 1 and 3
  // leave the int8 path. Row absmax skips only the outlier elements: row 1
  // keeps its 5 in column 1.
  std::vector<float> x = {1.0f, 8.0f, -2.0f, 0.5f, 0.5f, 5.0f, 4.0f, -7.0f};
  std::vector<int8_t> ca;
  std::vector<float> sca;
  std::vector<int64_t> cols;
  std::string error;
  ASSERT_TRUE(
      quantizeBnbInt8Activations(x.data(), 2, 4, 6.0f, ca, sca, cols, error))
      << error;
  EXPECT_EQ(cols, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(sca, (std::vector<float>{2.0f, 5.0f}));
  // Row 0: scale 63.5; 1 -> 63.5 -> 64 (even), -2 -> -127.
  // Row 1: scale 127 / 5 = 25.4f; 0.5 -> 12.7 -> 13, 4 -> 101.6 -> 102.
  EXPECT_EQ(ca, (std::vector<int8_t>{64, 0, -127, 0, 13, 0, 102, 0}));

  // No threshold: plain row absmax over everything.
  ASSERT_TRUE(
      quantizeBnbInt8Activations(x.data(), 2, 4, 0.0f, ca, sca, cols, error))
      << error;
  EXPECT_TRUE(cols.empty());
  EXPECT_EQ(sca, (std::vector<float>{8.0f, 7.0f}));

  // The threshold compares in fp16: 6.0001 is 6.0 there, so |6| is an
  // outlier.
  std::vector<float> six = {6.0f, 1.0f};
  ASSERT_TRUE(quantizeBnbInt8Activations(six.data(), 1, 2, 6.0001f, ca, sca,
                                         cols, error))
      << error;
  EXPECT_EQ(cols, (std::vector<int64_t>{0}));

  EXPECT_FALSE(
      quantizeBnbInt8Activations(x.data(), 2, 4, -1.0f, ca, sca, cols, error));
  EXPECT_NE(error.find("threshold"), std::string::npos) << error;
  EXPECT_FALSE(
      quantizeBnbInt8Activations(x.data(), 2, 4, NAN, ca, sca, cols, error));
  EXPECT_FALSE(
      quantizeBnbInt8Activations(nullptr, 2, 4, 0.0f, ca, sca, cols, error));
}

TEST(RefBnbInt8, MixedForwardByHand) {
  // W = CB * SCB / 127: row 0 SCB 127 (W = CB), row 1 SCB 254 (W = 2 CB).
  std::vector<int8_t> cb = {127, 0, -127, 64, 0, 127, 0, 0};
  std::vector<float> scb = {127.0f, 254.0f};
  std::vector<float> x = {1.0f, 8.0f, -2.0f, 0.5f};
  std::vector<float> bias = {0.5f, -1.0f};
  std::vector<float> y;
  std::string error;
  ASSERT_TRUE(bnbInt8Linear(x.data(), 1, viewOf(cb, DType::I8, {2, 4}),
                            viewOf(scb, DType::F32, {2}), 2, 4, 6.0f,
                            bias.data(), y, error))
      << error;
  // Column 1 (x = 8) is the outlier column. int8 path: SCA = 2, CA = [64, 0,
  // -127, 32] (0.5 * 63.5 = 31.75 -> 32).
  //   y0 = (64*127 + 127*127 + 32*64) * 2 * 127 / 127^2 + 8 * 0 + 0.5
  //      = 26305 * 2 / 127 + 0.5
  //   y1 = 0 (CB row 1 lives only in column 1) + 8 * 254 - 1 = 2031
  EXPECT_FLOAT_EQ(y[0], static_cast<float>(26305.0 * 2.0 / 127.0 + 0.5));
  EXPECT_EQ(y[1], 2031.0f);

  // Threshold 0: everything through int8, SCA = 8: CA = [16, 127, -32, 8]
  // (1 * 15.875 -> 16, 0.5 * 15.875 = 7.9375 -> 8).
  ASSERT_TRUE(bnbInt8Linear(x.data(), 1, viewOf(cb, DType::I8, {2, 4}),
                            viewOf(scb, DType::F32, {2}), 2, 4, 0.0f, nullptr,
                            y, error))
      << error;
  //   y0 = (16*127 + -32*-127 + 8*64) * 8 * 127 / 127^2 = 6608 * 8 / 127
  //   y1 = (127*127) * 8 * 254 / 127^2 = 2032
  EXPECT_FLOAT_EQ(y[0], static_cast<float>(6608.0 * 8.0 / 127.0));
  EXPECT_FLOAT_EQ(y[1], 2032.0f);
}

TEST(RefBnbInt8, ForwardCloseToDenseProduct) {
  const int64_t m = 4, n = 16, k = 64;
  auto w = randomNormal(static_cast<size_t>(n * k), 4, 0.1f);
  auto x = randomNormal(static_cast<size_t>(m * k), 5, 1.0f);
  x[2 * k + 7] = 20.0f; // an outlier column
  StoredTensor cb, scb;
  std::string error;
  ASSERT_TRUE(quantizeBnbInt8(w.data(), n, k, cb, scb, error)) << error;
  std::vector<float> wd;
  ASSERT_TRUE(dequantizeBnbInt8(cb.view(), scb.view(), n, k, wd, error));
  std::vector<float> y;
  ASSERT_TRUE(bnbInt8Linear(x.data(), m, cb.view(), scb.view(), n, k, 6.0f,
                            nullptr, y, error))
      << error;
  std::vector<float> dense(static_cast<size_t>(m * n));
  referenceLinear(x.data(), wd.data(), nullptr, m, n, k, dense.data());
  std::vector<int8_t> ca;
  std::vector<float> sca;
  std::vector<int64_t> cols;
  ASSERT_TRUE(
      quantizeBnbInt8Activations(x.data(), m, k, 6.0f, ca, sca, cols, error));
  ASSERT_EQ(cols, (std::vector<int64_t>{7}));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      // Each int8 activation is within half a step (plus its fp16 rounding)
      // of x; the outlier column is exact.
      double bound = 1e-4;
      for (int64_t c = 0; c < k; ++c)
        if (c != 7)
          bound += (0.5 * sca[i] / 127.0 + std::fabs(x[i * k + c]) / 1024.0) *
                   std::fabs(wd[j * k + c]);
      ASSERT_LE(std::fabs(y[i * n + j] - dense[i * n + j]), bound)
          << i << ", " << j;
    }
}

TEST(RefBnbInt8, ForwardErrors) {
  std::vector<int8_t> cb(8, 0);
  std::vector<float> scb = {1.0f, 1.0f};
  std::vector<float> x(4, 1.0f), y;
  std::string error;
  EXPECT_FALSE(bnbInt8Linear(x.data(), 1, viewOf(cb, DType::I8, {4, 2}),
                             viewOf(scb, DType::F32, {2}), 2, 4, 0.0f, nullptr,
                             y, error));
  EXPECT_NE(error.find("weight"), std::string::npos) << error;
  EXPECT_FALSE(bnbInt8Linear(x.data(), 0, viewOf(cb, DType::I8, {2, 4}),
                             viewOf(scb, DType::F32, {2}), 2, 4, 0.0f, nullptr,
                             y, error));
  EXPECT_FALSE(bnbInt8Linear(x.data(), 1, viewOf(cb, DType::I8, {2, 4}),
                             viewOf(scb, DType::F16, {2}), 2, 4, 0.0f, nullptr,
                             y, error));
  EXPECT_NE(error.find("SCB"), std::string::npos) << error;
}

} // namespace
