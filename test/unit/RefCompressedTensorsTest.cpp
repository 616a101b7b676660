//===- RefCompressedTensorsTest.cpp - compressed-tensors reference --------===//
//
// Expected values are worked out by hand from the format
// (CompressedTensors.h, quant-formats-and-kernels.md §2.9): pack_to_int32
// words (LSB first, +2^(b-1) offset, zero padding), zero points packed along
// N, tensor / channel / group / block scales, g_idx, fp8 codes, and the W8A8
// per-token activation quantization; then error cases.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/CompressedTensors.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

namespace {

CtWeightScheme scheme(int bits, CtStrategy strategy, int64_t group = 128) {
  CtWeightScheme s;
  s.bits = bits;
  s.strategy = strategy;
  s.groupSize = group;
  return s;
}

} // namespace

TEST(RefCompressedTensors, PackInt32FourBitLsbFirst) {
  // K = 16 values -8..7, stored +8 as 0..15, eight per word, element j at
  // bits 4j: word0 = 0x76543210, word1 = 0xfedcba98.
  std::vector<int32_t> values;
  for (int v = -8; v < 8; ++v)
    values.push_back(v);
  StoredTensor packed;
  std::string error;
  ASSERT_TRUE(packCtInt32(values.data(), 1, 16, 4, 1, packed, error)) << error;
  EXPECT_EQ(packed.shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(packed.bitsAt(0), 0x76543210u);
  EXPECT_EQ(packed.bitsAt(1), 0xfedcba98u);
  std::vector<int32_t> back;
  ASSERT_TRUE(
      unpackCtInt32(packed.view(), "weight_packed", 4, 1, 16, 1, back, error))
      << error;
  EXPECT_EQ(back, values);
}

TEST(RefCompressedTensors, PackInt32PaddingAndOtherWidths) {
  std::string error;
  StoredTensor packed;
  // K = 10 at 4 bits: the second word holds two values and zero padding
  // fields (the padding is added after the +8 offset, so it stays 0).
  std::vector<int32_t> ten = {0, 0, 0, 0, 0, 0, 0, 0, 1, -1};
  ASSERT_TRUE(packCtInt32(ten.data(), 1, 10, 4, 1, packed, error)) << error;
  EXPECT_EQ(packed.bitsAt(0), 0x88888888u);
  EXPECT_EQ(packed.bitsAt(1), 0x00000079u);
  // 8 bits: four per word; -128 -1 0 127 -> 0x00 0x7f 0x80 0xff.
  std::vector<int32_t> bytes = {-128, -1, 0, 127};
  ASSERT_TRUE(packCtInt32(bytes.data(), 1, 4, 8, 1, packed, error)) << error;
  EXPECT_EQ(packed.bitsAt(0), 0xff807f00u);
  // 3 bits: 32 / 3 = 10 values per word at bits 0, 3, ..., 27.
  std::vector<int32_t> three = {-4, -3, -2, -1, 0, 1, 2, 3, -4, 3};
  ASSERT_TRUE(packCtInt32(three.data(), 1, 10, 3, 1, packed, error)) << error;
  EXPECT_EQ(packed.shape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(packed.bitsAt(0), (1u << 3) | (2u << 6) | (3u << 9) | (4u << 12) |
                                  (5u << 15) | (6u << 18) | (7u << 21) |
                                  (0u << 24) | (7u << 27));
  // Along dim 0 (zero points): column j of word row r holds rows 8r..8r+7.
  std::vector<int32_t> column = {1, 0, -1};
  ASSERT_TRUE(packCtInt32(column.data(), 3, 1, 4, 0, packed, error)) << error;
  EXPECT_EQ(packed.shape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(packed.bitsAt(0), 0x789u);
}

TEST(RefCompressedTensors, PackQuantizedGroupAsymmetricByHand) {
  // N=2, K=4, group 2, 4-bit, asymmetric.
  //   q  = [[-8, 7, 0, 1], [2, 3, -1, -2]] stored +8:
  //        row0 0 15 8 9  -> 0x98f0, row1 10 11 7 6 -> 0x67ba
  //   zp = [[1, -1], [0, 2]] packed along N, one word per group column:
  //        col0: 1+8 | (0+8)<<4 = 0x89, col1: -1+8 | (2+8)<<4 = 0xa7
  std::vector<int32_t> packed = {0x98f0, 0x67ba};
  std::vector<int32_t> zp = {0x89, 0xa7};
  auto scale = bf16s({0.5f, 1, 2, 0.25f});
  std::vector<int64_t> shape = {2, 4};
  std::vector<float> w;
  std::string error;
  TensorView zpView = viewOf(zp, DType::I32, {1, 2});
  TensorView shapeView = viewOf(shape, DType::I64, {2});
  ASSERT_TRUE(dequantizeCtPacked(scheme(4, CtStrategy::Group, 2),
                                 viewOf(packed, DType::I32, {2, 1}),
                                 viewOf(scale, DType::BF16, {2, 2}), &zpView,
                                 nullptr, &shapeView, 2, 4, w, error))
      << error;
  // w = (q - zp) * scale per (row, group).
  EXPECT_EQ(w, (std::vector<float>{-4.5f, 3, 1, 2, 4, 6, -0.75f, -1}));
}

TEST(RefCompressedTensors, ChannelAndTensorStrategies) {
  // Channel, symmetric: one scale per row.
  std::vector<int32_t> packed = {0x98f0, 0x67ba}; // as above
  auto channel = bf16s({2, -1});
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeCtPacked(scheme(4, CtStrategy::Channel),
                                 viewOf(packed, DType::I32, {2, 1}),
                                 viewOf(channel, DType::BF16, {2, 1}), nullptr,
                                 nullptr, nullptr, 2, 4, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{-16, 14, 0, 2, -2, -3, 1, 2}));
  // Tensor, asymmetric: a scalar scale and an unpacked i8 zero point.
  auto tensor = bf16s({0.5f});
  std::vector<int8_t> zp = {-2};
  TensorView zpView = viewOf(zp, DType::I8, {1});
  ASSERT_TRUE(dequantizeCtPacked(scheme(4, CtStrategy::Tensor),
                                 viewOf(packed, DType::I32, {2, 1}),
                                 viewOf(tensor, DType::BF16, {1}), &zpView,
                                 nullptr, nullptr, 2, 4, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{-3, 4.5f, 1, 1.5f, 2, 2.5f, 0.5f, 0}));
}

TEST(RefCompressedTensors, GroupIndexAndShortLastGroup) {
  // K=4, group 2, g_idx [1, 0, 1, 0]: columns 0 and 2 use group 1.
  std::vector<int32_t> packed = {0x98f0}; // q = -8 7 0 1
  auto scale = bf16s({1, 10});
  std::vector<int32_t> gIdx = {1, 0, 1, 0};
  std::vector<float> w;
  std::string error;
  TensorView g = viewOf(gIdx, DType::I32, {4});
  ASSERT_TRUE(dequantizeCtPacked(
      scheme(4, CtStrategy::Group, 2), viewOf(packed, DType::I32, {1, 1}),
      viewOf(scale, DType::BF16, {1, 2}), nullptr, &g, nullptr, 1, 4, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{-80, 7, 0, 1}));
  // A g_idx holding -1 is "not initialised": column order.
  std::vector<int32_t> unset = {-1, -1, -1, -1};
  TensorView u = viewOf(unset, DType::I32, {4});
  ASSERT_TRUE(dequantizeCtPacked(
      scheme(4, CtStrategy::Group, 2), viewOf(packed, DType::I32, {1, 1}),
      viewOf(scale, DType::BF16, {1, 2}), nullptr, &u, nullptr, 1, 4, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{-8, 7, 0, 10}));
  // K=4, group 3: ceil(4/3) = 2 groups, the second one column wide.
  auto short2 = bf16s({1, 2});
  ASSERT_TRUE(dequantizeCtPacked(scheme(4, CtStrategy::Group, 3),
                                 viewOf(packed, DType::I32, {1, 1}),
                                 viewOf(short2, DType::BF16, {1, 2}), nullptr,
                                 nullptr, nullptr, 1, 4, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{-8, 7, 0, 2}));
}

TEST(RefCompressedTensors, IntQuantizedAndNaive) {
  std::vector<int8_t> q = {-128, 127, 3, 0, -1, 2};
  auto channel = bf16s({0.5f, 4});
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeCtInt(
      scheme(8, CtStrategy::Channel), viewOf(q, DType::I8, {2, 3}),
      viewOf(channel, DType::BF16, {2, 1}), nullptr, nullptr, 2, 3, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{-64, 63.5f, 1.5f, 0, -4, 8}));
  // naive-quantized 4-bit group with zero points, values in an i8 container.
  std::vector<int8_t> q4 = {-8, 7, 1, 2};
  auto group = bf16s({1, 0.5f});
  std::vector<int8_t> zp = {-1, 2};
  TensorView zpView = viewOf(zp, DType::I8, {1, 2});
  ASSERT_TRUE(dequantizeCtInt(
      scheme(4, CtStrategy::Group, 2), viewOf(q4, DType::I8, {1, 4}),
      viewOf(group, DType::BF16, {1, 2}), &zpView, nullptr, 1, 4, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{-7, 8, -0.5f, 0}));
  // 8 does not fit a signed 4-bit value.
  std::vector<int8_t> bad = {-8, 8, 1, 2};
  EXPECT_FALSE(dequantizeCtInt(
      scheme(4, CtStrategy::Group, 2), viewOf(bad, DType::I8, {1, 4}),
      viewOf(group, DType::BF16, {1, 2}), nullptr, nullptr, 1, 4, w, error));
  EXPECT_EQ(error, "weight value 8 at 1 is outside the signed 4-bit range "
                   "[-8, 7]");
}

TEST(RefCompressedTensors, FloatQuantizedStrategies) {
  // e4m3fn codes: 0x38 = 1, 0x7e = 448, 0xb8 = -1, 0x40 = 2, 0x00 = 0,
  // 0x01 = 2^-9, 0x3c = 1.5, 0x30 = 0.5, 0x48 = 4.
  std::vector<uint8_t> q = {0x38, 0x7e, 0xb8, 0x40, 0x00,
                            0x01, 0x3c, 0x30, 0x48};
  std::vector<float> w;
  std::string error;
  // Block 2x2 over a 3x3 weight: partial edge blocks, scale [2, 2].
  CtWeightScheme block = scheme(8, CtStrategy::Block);
  block.blockN = 2;
  block.blockK = 2;
  auto blockScale = bf16s({2, 0.5f, 4, 1});
  ASSERT_TRUE(dequantizeCtFloat(block, viewOf(q, DType::F8E4M3FN, {3, 3}),
                                viewOf(blockScale, DType::BF16, {2, 2}), 3, 3,
                                w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{2, 896, -0.5f, 4, 0, std::ldexp(1.0f, -10),
                                   6, 2, 4}));
  // Tensor [1] and channel [N, 1].
  auto one = bf16s({0.25f});
  ASSERT_TRUE(dequantizeCtFloat(scheme(8, CtStrategy::Tensor),
                                viewOf(q, DType::F8E4M3FN, {3, 3}),
                                viewOf(one, DType::BF16, {1}), 3, 3, w, error))
      << error;
  EXPECT_EQ(w[1], 112.0f);
  auto rows = bf16s({1, 2, 3});
  ASSERT_TRUE(dequantizeCtFloat(
      scheme(8, CtStrategy::Channel), viewOf(q, DType::F8E4M3FN, {3, 3}),
      viewOf(rows, DType::BF16, {3, 1}), 3, 3, w, error))
      << error;
  EXPECT_EQ(w[8], 12.0f);
}

TEST(RefCompressedTensors, Int8PerTokenActivations) {
  // Row 0: absmax 127 -> s = 1; -63.5 and 0.5 round half to even.
  // Row 1: all zeros -> s = 0, codes 0.
  std::vector<float> x = {127, -63.5f, 0.5f, 1.5f, 0, 0, 0, 0};
  std::vector<int8_t> q;
  std::vector<float> s;
  std::string error;
  ASSERT_TRUE(quantizeInt8PerToken(x.data(), 2, 4, q, s, error)) << error;
  EXPECT_EQ(s, (std::vector<float>{1, 0}));
  EXPECT_EQ(q, (std::vector<int8_t>{127, -64, 0, 2, 0, 0, 0, 0}));
  // compressed-tensors' own QDQ divides by 127.5 and clamps the scale to eps.
  ASSERT_TRUE(quantizeInt8PerToken(x.data(), 2, 4, q, s, error,
                                   Int8TokenScale::HalfRange));
  EXPECT_EQ(s[0], 127.0f / 127.5f);
  EXPECT_EQ(s[1], std::ldexp(1.0f, -23));
  EXPECT_EQ(q[0], 127); // 127.5 -> 128 -> clamped
}

TEST(RefCompressedTensors, Int8ScaledLinearByHand) {
  // acc = xq . wq: row0 [1, 2] . [1, -1] = -1, . [2, 2] = 6;
  //                row1 [-1, 3] . [1, -1] = -4, . [2, 2] = 4.
  // y = acc * s_x * s_w + bias.
  std::vector<int8_t> xq = {1, 2, -1, 3};
  std::vector<float> sx = {0.5f, 2};
  std::vector<int8_t> wq = {1, -1, 2, 2};
  std::vector<float> sw = {0.25f, 1};
  std::vector<float> bias = {1, -1};
  std::vector<float> y;
  std::string error;
  ASSERT_TRUE(int8ScaledLinear(
      xq.data(), sx.data(), 2, viewOf(wq, DType::I8, {2, 2}),
      viewOf(sw, DType::F32, {2, 1}), 2, 2, bias.data(), y, error))
      << error;
  EXPECT_EQ(y, (std::vector<float>{0.875f, 2, -1, 7}));
  // Per-tensor weight scale [1].
  std::vector<float> one = {0.5f};
  ASSERT_TRUE(
      int8ScaledLinear(xq.data(), sx.data(), 2, viewOf(wq, DType::I8, {2, 2}),
                       viewOf(one, DType::F32, {1}), 2, 2, nullptr, y, error))
      << error;
  EXPECT_EQ(y, (std::vector<float>{-0.25f, 1.5f, -4, 4}));
}

TEST(RefCompressedTensors, W8A8MatchesTheDequantizedProduct) {
  const int64_t m = 3, n = 5, k = 64;
  std::mt19937 gen(5);
  std::uniform_int_distribution<int> code(-127, 127);
  std::normal_distribution<float> act(0.0f, 1.0f);
  std::vector<int8_t> wq(n * k);
  for (auto &v : wq)
    v = static_cast<int8_t>(code(gen));
  std::vector<float> sw = {0.01f, 0.02f, 0.03f, 0.04f, 0.05f};
  std::vector<float> x(m * k);
  for (auto &v : x)
    v = act(gen);
  std::vector<float> y, wDeq;
  std::string error;
  ASSERT_TRUE(ctInt8DynamicLinear(x.data(), m, viewOf(wq, DType::I8, {n, k}),
                                  viewOf(sw, DType::F32, {n, 1}), n, k, nullptr,
                                  y, error))
      << error;
  ASSERT_TRUE(dequantizeCtInt(
      scheme(8, CtStrategy::Channel), viewOf(wq, DType::I8, {n, k}),
      viewOf(sw, DType::F32, {n, 1}), nullptr, nullptr, n, k, wDeq, error))
      << error;
  std::vector<float> ref(m * n);
  referenceLinear(x.data(), wDeq.data(), nullptr, m, n, k, ref.data());
  for (int64_t i = 0; i < m * n; ++i) {
    // Activation rounding: at most half a step (absmax/127/2) per element.
    float absmax = 0;
    for (int64_t l = 0; l < k; ++l)
      absmax = std::max(absmax, std::fabs(x[(i / n) * k + l]));
    float wAbs = 0;
    for (int64_t l = 0; l < k; ++l)
      wAbs += std::fabs(wDeq[(i % n) * k + l]);
    EXPECT_NEAR(y[i], ref[i], absmax / 254.0f * wAbs + 1e-4f) << i;
  }
}

TEST(RefCompressedTensors, Errors) {
  std::vector<int32_t> packed = {0x98f0, 0x67ba};
  auto scale = bf16s({1, 1, 1, 1});
  std::vector<float> w;
  std::string error;
  // Bits outside 1..8.
  EXPECT_FALSE(dequantizeCtPacked(scheme(9, CtStrategy::Channel),
                                  viewOf(packed, DType::I32, {2, 1}),
                                  viewOf(scale, DType::BF16, {2, 1}), nullptr,
                                  nullptr, nullptr, 2, 4, w, error));
  EXPECT_NE(error.find("num_bits=9"), std::string::npos) << error;
  // weight_packed of the wrong shape / dtype.
  EXPECT_FALSE(dequantizeCtPacked(scheme(4, CtStrategy::Channel),
                                  viewOf(packed, DType::I32, {1, 2}),
                                  viewOf(scale, DType::BF16, {2, 1}), nullptr,
                                  nullptr, nullptr, 2, 4, w, error));
  EXPECT_EQ(error, "weight_packed must be i32[2, 1], got i32[1, 2]");
  // Scale shape of another strategy.
  EXPECT_FALSE(dequantizeCtPacked(scheme(4, CtStrategy::Group, 2),
                                  viewOf(packed, DType::I32, {2, 1}),
                                  viewOf(scale, DType::BF16, {2, 1}), nullptr,
                                  nullptr, nullptr, 2, 4, w, error));
  EXPECT_EQ(error, "weight_scale must be f16, bf16 or f32[2, 2], got "
                   "bf16[2, 1]");
  // Zero point of the wrong packed shape.
  std::vector<int32_t> zp = {0, 0};
  TensorView zpView = viewOf(zp, DType::I32, {2, 1});
  EXPECT_FALSE(dequantizeCtPacked(scheme(4, CtStrategy::Group, 2),
                                  viewOf(packed, DType::I32, {2, 1}),
                                  viewOf(scale, DType::BF16, {2, 2}), &zpView,
                                  nullptr, nullptr, 2, 4, w, error));
  EXPECT_EQ(error, "weight_zero_point must be i32[1, 2], got i32[2, 1]");
  // weight_shape disagreeing with N, K.
  std::vector<int64_t> shape = {4, 2};
  TensorView shapeView = viewOf(shape, DType::I64, {2});
  EXPECT_FALSE(dequantizeCtPacked(scheme(4, CtStrategy::Channel),
                                  viewOf(packed, DType::I32, {2, 1}),
                                  viewOf(scale, DType::BF16, {2, 1}), nullptr,
                                  nullptr, &shapeView, 2, 4, w, error));
  EXPECT_NE(error.find("weight_shape is [4, 2]"), std::string::npos) << error;
  // weight_shape is read as the 64-bit values compressed-tensors writes: a
  // size that agrees only in its low 32 bits is a mismatch, and an i32
  // weight_shape is not what the library writes.
  shape[0] = 2 + (int64_t(1) << 32);
  shape[1] = 4;
  EXPECT_FALSE(dequantizeCtPacked(scheme(4, CtStrategy::Channel),
                                  viewOf(packed, DType::I32, {2, 1}),
                                  viewOf(scale, DType::BF16, {2, 1}), nullptr,
                                  nullptr, &shapeView, 2, 4, w, error));
  EXPECT_NE(error.find("weight_shape is [4294967298, 4]"), std::string::npos)
      << error;
  std::vector<int32_t> shape32 = {2, 4};
  TensorView shape32View = viewOf(shape32, DType::I32, {2});
  EXPECT_FALSE(dequantizeCtPacked(scheme(4, CtStrategy::Channel),
                                  viewOf(packed, DType::I32, {2, 1}),
                                  viewOf(scale, DType::BF16, {2, 1}), nullptr,
                                  nullptr, &shape32View, 2, 4, w, error));
  EXPECT_EQ(error, "weight_shape must be i64[2], got i32[2]");
  // g_idx out of range and with a non-group strategy.
  std::vector<int32_t> gIdx = {0, 1, 2, 0};
  TensorView g = viewOf(gIdx, DType::I32, {4});
  EXPECT_FALSE(dequantizeCtPacked(scheme(4, CtStrategy::Group, 2),
                                  viewOf(packed, DType::I32, {2, 1}),
                                  viewOf(scale, DType::BF16, {2, 2}), nullptr,
                                  &g, nullptr, 2, 4, w, error));
  EXPECT_EQ(error, "weight_g_idx[2] = 2 is not a group index in [0, 2)");
  EXPECT_FALSE(dequantizeCtPacked(scheme(4, CtStrategy::Channel),
                                  viewOf(packed, DType::I32, {2, 1}),
                                  viewOf(scale, DType::BF16, {2, 1}), nullptr,
                                  &g, nullptr, 2, 4, w, error));
  EXPECT_NE(error.find("only used with the group strategy"), std::string::npos);
  // Integer weights have no block strategy; float weights are 8-bit.
  EXPECT_FALSE(dequantizeCtPacked(scheme(4, CtStrategy::Block),
                                  viewOf(packed, DType::I32, {2, 1}),
                                  viewOf(scale, DType::BF16, {2, 1}), nullptr,
                                  nullptr, nullptr, 2, 4, w, error));
  std::vector<uint8_t> f8(4);
  EXPECT_FALSE(dequantizeCtFloat(
      scheme(4, CtStrategy::Tensor), viewOf(f8, DType::F8E4M3FN, {2, 2}),
      viewOf(scale, DType::BF16, {1}), 2, 2, w, error));
  EXPECT_FALSE(dequantizeCtFloat(
      scheme(8, CtStrategy::Tensor), viewOf(f8, DType::F8E5M2, {2, 2}),
      viewOf(scale, DType::BF16, {1}), 2, 2, w, error));
  EXPECT_EQ(error, "weight must be f8E4M3FN[2, 2], got f8E5M2[2, 2]");
  // Packing a value out of range.
  std::vector<int32_t> big = {8};
  StoredTensor out;
  EXPECT_FALSE(packCtInt32(big.data(), 1, 1, 4, 1, out, error));
  // W8A8 weight scale of the wrong shape; no activations.
  std::vector<int8_t> wq(4);
  std::vector<float> sw(3);
  std::vector<float> y;
  std::vector<float> x(4);
  EXPECT_FALSE(ctInt8DynamicLinear(x.data(), 2, viewOf(wq, DType::I8, {2, 2}),
                                   viewOf(sw, DType::F32, {3, 1}), 2, 2,
                                   nullptr, y, error));
  EXPECT_EQ(error, "weight_scale must be f16, bf16 or f32[2, 1], got "
                   "f32[3, 1]");
  EXPECT_FALSE(ctInt8DynamicLinear(nullptr, 2, viewOf(wq, DType::I8, {2, 2}),
                                   viewOf(sw, DType::F32, {2, 1}), 2, 2,
                                   nullptr, y, error));
}
