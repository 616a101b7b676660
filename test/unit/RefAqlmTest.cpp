//===- RefAqlmTest.cpp - AQLM reference dequantizer -----------------------===//
//
// Codes and codebooks chosen by hand (§2.5): signed int16 codes wrap mod
// 2^16 (-1 is entry 65535, -32768 entry 32768), 2x8 sums two int8-coded
// codebooks, out_group_size 2 checks the [out, in, og, ig] -> [out*og,
// in*ig] layout.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Aqlm.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

namespace {

TEST(RefAqlm, StoredCodeWrap) {
  EXPECT_EQ(aqlmStoredCode(65535, 16), -1);
  EXPECT_EQ(aqlmStoredCode(32768, 16), -32768);
  EXPECT_EQ(aqlmStoredCode(32767, 16), 32767);
  EXPECT_EQ(aqlmStoredCode(128, 8), -128);
  EXPECT_EQ(aqlmStoredCode(3, 2), -1);
  EXPECT_EQ(aqlmCodeIndex(-1, 16), 65535u);
  EXPECT_EQ(aqlmCodeIndex(-128, 8), 128u);
  EXPECT_EQ(aqlmCodeIndex(-2, 2), 2u);
  for (int bits = 1; bits <= 16; ++bits)
    for (uint32_t code = 0; code < (1u << bits); code += 1 + (code >> 4))
      ASSERT_EQ(aqlmCodeIndex(aqlmStoredCode(code, bits), bits), code)
          << bits << ": " << code;
}

TEST(RefAqlm, OneBySixteenSignedCodes) {
  // 1x16, in_group 8: N = 2, K = 16, codes [2, 2, 1] int16.
  const int64_t size = 65536;
  std::vector<uint16_t> cb(static_cast<size_t>(size * 8), 0);
  auto setEntry = [&](int64_t entry, std::vector<float> v) {
    for (int j = 0; j < 8; ++j)
      cb[static_cast<size_t>(entry * 8 + j)] = floatToHalf(v[j]);
  };
  setEntry(65535, {1, 2, 3, 4, 5, 6, 7, 8});
  setEntry(1, {0.5f, 0, 0, 0, 0, 0, 0, -0.5f});
  setEntry(32768, {-1, -1, -1, -1, 1, 1, 1, 1});
  std::vector<int16_t> codes = {-1, 0, 1, -32768};
  std::vector<uint16_t> scales = {floatToHalf(2.0f), floatToHalf(0.5f)};
  AqlmParams p; // 1x16, in_group 8, out_group 1
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeAqlm(viewOf(codes, DType::I16, {2, 2, 1}),
                             viewOf(cb, DType::F16, {1, size, 1, 8}),
                             viewOf(scales, DType::F16, {2, 1, 1, 1}), 2, 16, p,
                             w, error))
      << error;
  const std::vector<float> expected = {
      2,     4,     6,     8,
      10,    12,    14,    16, // row 0, group 0: 2 * entry 65535
      0,     0,     0,     0,
      0,     0,     0,     0, // row 0, group 1: entry 0
      0.25f, 0,     0,     0,
      0,     0,     0,     -0.25f, // row 1, group 0: 0.5 * entry 1
      -0.5f, -0.5f, -0.5f, -0.5f,
      0.5f,  0.5f,  0.5f,  0.5f}; // entry 32768
  EXPECT_EQ(w, expected);
}

TEST(RefAqlm, TwoByEightSumsCodebooks) {
  // 2x8: N = 1, K = 8, codes [1, 1, 2] int8 = {-128, 127} -> entries 128 of
  // codebook 0 and 127 of codebook 1.
  std::vector<float> cb(2 * 256 * 8, 0.0f);
  for (int j = 0; j < 8; ++j) {
    cb[(0 * 256 + 128) * 8 + j] = float(j);
    cb[(1 * 256 + 127) * 8 + j] = 0.25f;
  }
  std::vector<int8_t> codes = {-128, 127};
  std::vector<float> scales = {4.0f};
  AqlmParams p;
  p.numCodebooks = 2;
  p.nbitsPerCodebook = 8;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeAqlm(viewOf(codes, DType::I8, {1, 1, 2}),
                             viewOf(cb, DType::F32, {2, 256, 1, 8}),
                             viewOf(scales, DType::F32, {1, 1, 1, 1}), 1, 8, p,
                             w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{1, 5, 9, 13, 17, 21, 25, 29}));
}

TEST(RefAqlm, OutGroupLayout) {
  // out_group 2, in_group 2, one 2-bit codebook (4 entries of 2x2, bf16),
  // N = 4, K = 4: codes [2, 2, 1] int8 in the signed range [-2, 1].
  // Entry e holds [[10e + 1, 10e + 2], [10e + 3, 10e + 4]].
  std::vector<uint16_t> cb;
  for (int e = 0; e < 4; ++e)
    for (int v = 1; v <= 4; ++v)
      cb.push_back(floatToBf16(float(10 * e + v)));
  std::vector<int8_t> codes = {0, 1, -2, -1}; // entries 0, 1, 2, 3
  std::vector<uint16_t> scales = {floatToBf16(1.0f), floatToBf16(-1.0f)};
  AqlmParams p;
  p.inGroupSize = 2;
  p.outGroupSize = 2;
  p.nbitsPerCodebook = 2;
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeAqlm(viewOf(codes, DType::I8, {2, 2, 1}),
                             viewOf(cb, DType::BF16, {1, 4, 2, 2}),
                             viewOf(scales, DType::BF16, {2, 1, 1, 1}), 4, 4, p,
                             w, error))
      << error;
  // Out group 0 (rows 0-1): entry 0 | entry 1; out group 1 (rows 2-3, scale
  // -1): entry 2 | entry 3.
  const std::vector<float> expected = {1,   2,   11,  12,  //
                                       3,   4,   13,  14,  //
                                       -21, -22, -31, -32, //
                                       -23, -24, -33, -34};
  EXPECT_EQ(w, expected);

  // 2 is not a signed 2-bit value.
  codes[1] = 2;
  EXPECT_FALSE(dequantizeAqlm(viewOf(codes, DType::I8, {2, 2, 1}),
                              viewOf(cb, DType::BF16, {1, 4, 2, 2}),
                              viewOf(scales, DType::BF16, {2, 1, 1, 1}), 4, 4,
                              p, w, error));
  EXPECT_NE(error.find("codes[1] = 2"), std::string::npos) << error;
  EXPECT_NE(error.find("[-2, 1]"), std::string::npos) << error;
}

TEST(RefAqlm, Errors) {
  std::vector<int8_t> codes(2, 0);
  std::vector<int16_t> codes16(2, 0);
  std::vector<uint16_t> cb(2 * 256 * 8, 0);
  std::vector<uint16_t> scales(1, 0);
  AqlmParams p;
  p.numCodebooks = 2;
  p.nbitsPerCodebook = 8;
  std::vector<float> w;
  std::string error;
  auto c = viewOf(codes, DType::I8, {1, 1, 2});
  auto b = viewOf(cb, DType::F16, {2, 256, 1, 8});
  auto s = viewOf(scales, DType::F16, {1, 1, 1, 1});
  ASSERT_TRUE(dequantizeAqlm(c, b, s, 1, 8, p, w, error)) << error;

  EXPECT_FALSE(dequantizeAqlm(viewOf(codes16, DType::I16, {1, 1, 2}), b, s, 1,
                              8, p, w, error));
  EXPECT_NE(error.find("codes must be i8[1, 1, 2]"), std::string::npos)
      << error;
  EXPECT_FALSE(dequantizeAqlm(c, viewOf(cb, DType::F16, {2, 128, 2, 8}), s, 1,
                              8, p, w, error));
  EXPECT_NE(error.find("codebooks"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeAqlm(c, viewOf(cb, DType::I16, {2, 256, 1, 8}), s, 1,
                              8, p, w, error));
  EXPECT_NE(error.find("codebooks must be f16, bf16 or f32"), std::string::npos)
      << error;
  EXPECT_FALSE(
      dequantizeAqlm(c, b, viewOf(scales, DType::F16, {1}), 1, 8, p, w, error));
  EXPECT_NE(error.find("scales"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeAqlm(c, b, s, 1, 12, p, w, error));
  EXPECT_NE(error.find("K (12)"), std::string::npos) << error;

  AqlmParams bad = p;
  bad.nbitsPerCodebook = 17;
  EXPECT_FALSE(dequantizeAqlm(c, b, s, 1, 8, bad, w, error));
  EXPECT_NE(error.find("nbits_per_codebook"), std::string::npos) << error;
  bad = p;
  bad.numCodebooks = 0;
  EXPECT_FALSE(dequantizeAqlm(c, b, s, 1, 8, bad, w, error));
  EXPECT_NE(error.find("positive"), std::string::npos) << error;
  bad = p;
  bad.outGroupSize = 3;
  EXPECT_FALSE(dequantizeAqlm(c, b, s, 1, 8, bad, w, error));
  EXPECT_NE(error.find("out_group_size"), std::string::npos) << error;
}

} // namespace
