//===- RefTorchAoTest.cpp - torchao reference (de)quantizers --------------===//
//
// Expected values are worked out by hand from the formats (TorchAo.h,
// quant-formats-and-kernels.md §2.11): the tinygemm lane / nibble layout
// (checked word by word and against a second, byte-level derivation of
// _convert_weight_to_int4pack: its input is uint8 [N, K/2] with element 2j
// in the high nibble, and lane t's word takes bytes k/2 = base + t%4,
// +4, +8, +12 with the four high nibbles in bits 0..15 and the four low
// nibbles in bits 16..31), the plain int4 nibble order, int8 / float8, and
// the bf16 arithmetic of the quantizers; then round trips and errors.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/TorchAo.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

namespace {

int64_t wordIndex(int64_t kTiles, int64_t nt, int64_t kt, int t, int j) {
  return ((nt * kTiles + kt) * 32 + t) * 4 + j;
}

// The conversion stated byte-wise (see the file comment): `bytes` is the
// [np, kp/2] input with q[n][2j] << 4 | q[n][2j+1].
std::vector<uint32_t> convertByBytes(const std::vector<uint8_t> &bytes,
                                     int64_t np, int64_t kp) {
  const int64_t kTiles = kp / 128;
  std::vector<uint32_t> out(static_cast<size_t>(np / 8 * kTiles * 32 * 4));
  for (int64_t nt = 0; nt < np / 8; ++nt)
    for (int64_t kt = 0; kt < kTiles; ++kt)
      for (int t = 0; t < 32; ++t)
        for (int inner = 0; inner < 8; inner += 2) {
          const int64_t row = nt * 8 + t / 4;
          const int64_t base = (kt * 8 + inner) * 8; // in bytes (k / 2)
          const int64_t at[4] = {base + t % 4, base + t % 4 + 4,
                                 base + 8 + t % 4, base + 12 + t % 4};
          uint32_t word = 0;
          for (int i = 0; i < 4; ++i) {
            const uint32_t b = bytes[row * (kp / 2) + at[i]];
            word |= (b >> 4) << (4 * i);       // high nibble: even k
            word |= (b & 0xf) << (16 + 4 * i); // low nibble: odd k
          }
          out[wordIndex(kTiles, nt, kt, t, inner / 2)] = word;
        }
  return out;
}

} // namespace

TEST(RefTorchAo, TinygemmLaneLayoutByHand) {
  // Lane t = 5, word j = 1 of the first (nt, kt): row n = 5 / 4 = 1,
  // c = 5 % 4 = 1, k0 = 32. Nibbles 0..3 -> k = 34, 42, 50, 58 and nibbles
  // 4..7 -> k = 35, 43, 51, 59.
  std::vector<int32_t> qdata(32 * 4, 0);
  qdata[wordIndex(1, 0, 0, 5, 1)] = static_cast<int32_t>(0x87654321u);
  std::vector<uint8_t> q;
  std::string error;
  ASSERT_TRUE(unpackTinygemmInt4(viewOf(qdata, DType::I32, {1, 1, 32, 4}), 8,
                                 128, q, error))
      << error;
  const int64_t ks[8] = {34, 42, 50, 58, 35, 43, 51, 59};
  int nonzero = 0;
  for (uint8_t v : q)
    nonzero += v != 0;
  EXPECT_EQ(nonzero, 8);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(q[1 * 128 + ks[i]], i + 1) << "nibble " << i;
}

TEST(RefTorchAo, TinygemmPackPlacesOneCode) {
  // q[6][200] = 9 with K = 256: kt = 1, 200 - 128 = 72 = 2 * 32 + 8, so
  // j = 2 and 2c + 8 (i & 3) + (i >> 2) = 8 -> c = 0, i = 1; t = 4 * 6 + 0.
  std::vector<uint8_t> q(8 * 256, 0);
  q[6 * 256 + 200] = 9;
  StoredTensor packed;
  std::string error;
  ASSERT_TRUE(packTinygemmInt4(q.data(), 8, 256, packed, error)) << error;
  EXPECT_EQ(packed.shape, (std::vector<int64_t>{1, 2, 32, 4}));
  for (int64_t i = 0; i < packed.numel(); ++i)
    EXPECT_EQ(packed.bitsAt(i), i == wordIndex(2, 0, 1, 24, 2) ? 0x90u : 0u)
        << i;
}

TEST(RefTorchAo, TinygemmMatchesTheByteLevelConversion) {
  const int64_t np = 16, kp = 256;
  std::mt19937 gen(2);
  std::uniform_int_distribution<int> code(0, 15);
  std::vector<uint8_t> q(np * kp);
  for (auto &v : q)
    v = static_cast<uint8_t>(code(gen));
  std::vector<uint8_t> bytes(np * kp / 2);
  for (int64_t n = 0; n < np; ++n)
    for (int64_t j = 0; j < kp / 2; ++j)
      bytes[n * kp / 2 + j] =
          static_cast<uint8_t>(q[n * kp + 2 * j] << 4 | q[n * kp + 2 * j + 1]);
  StoredTensor packed;
  std::string error;
  ASSERT_TRUE(packTinygemmInt4(q.data(), np, kp, packed, error)) << error;
  auto expected = convertByBytes(bytes, np, kp);
  ASSERT_EQ(static_cast<size_t>(packed.numel()), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    ASSERT_EQ(packed.bitsAt(static_cast<int64_t>(i)), expected[i]) << i;
  std::vector<uint8_t> back;
  ASSERT_TRUE(unpackTinygemmInt4(packed.view(), np, kp, back, error));
  EXPECT_EQ(back, q);
}

TEST(RefTorchAo, DequantizeTiledByHand) {
  // N=2, K=64, g=32 -> padded [8, 1024]: qdata [1, 8, 32, 4], all codes 8
  // except q[1][34] = 15 (lane 5, word 1, nibble 0). scale 0.5 everywhere,
  // zero(group g, row n) = g + n. w = (q - 8) * scale + zero.
  std::vector<int32_t> qdata(8 * 32 * 4, static_cast<int32_t>(0x88888888u));
  qdata[wordIndex(8, 0, 0, 5, 1)] = static_cast<int32_t>(0x8888888fu);
  std::vector<uint16_t> sz(32 * 8 * 2);
  for (int g = 0; g < 32; ++g)
    for (int n = 0; n < 8; ++n) {
      sz[(g * 8 + n) * 2] = floatToBf16(0.5f);
      sz[(g * 8 + n) * 2 + 1] = floatToBf16(static_cast<float>(g + n));
    }
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeTorchaoInt4Tiled(
      viewOf(qdata, DType::I32, {1, 8, 32, 4}),
      viewOf(sz, DType::BF16, {32, 8, 2}), 2, 64, 32, w, error))
      << error;
  ASSERT_EQ(w.size(), 128u);
  for (int n = 0; n < 2; ++n)
    for (int k = 0; k < 64; ++k) {
      const float expect = n == 1 && k == 34 ? 7 * 0.5f + (1 + 1)
                                             : static_cast<float>(k / 32 + n);
      EXPECT_EQ(w[n * 64 + k], expect) << n << ", " << k;
    }
}

TEST(RefTorchAo, QuantizeTiledByHand) {
  // N=1, K=32, g=32: w[k] = k % 16. min 0, max 15: scale = 15/15 = 1,
  // zero = 0 + 1 * 8 = 8, codes q = k % 16. Lane 0 word 0 (row 0, c = 0)
  // holds k = 0, 8, 16, 24, 1, 9, 17, 25 -> codes 0 8 0 8 1 9 1 9 =
  // 0x91918080; lane 1 (c = 1): k = 2, 10, 18, 26, 3, 11, 19, 27 ->
  // 0xb3b3a2a2. Padding groups are all zero: scale = 2^-126 (the bf16
  // smallest normal), zero = 8 * 2^-126, codes 0.
  std::vector<float> w(32);
  for (int k = 0; k < 32; ++k)
    w[k] = static_cast<float>(k % 16);
  TorchaoInt4Tiled q;
  std::string error;
  ASSERT_TRUE(quantizeTorchaoInt4Tiled(w.data(), 1, 32, 32, q, error)) << error;
  EXPECT_EQ(q.qdata.shape, (std::vector<int64_t>{1, 8, 32, 4}));
  EXPECT_EQ(q.scaleAndZero.shape, (std::vector<int64_t>{32, 8, 2}));
  EXPECT_EQ(q.qdata.bitsAt(wordIndex(8, 0, 0, 0, 0)), 0x91918080u);
  EXPECT_EQ(q.qdata.bitsAt(wordIndex(8, 0, 0, 1, 0)), 0xb3b3a2a2u);
  EXPECT_EQ(q.qdata.bitsAt(wordIndex(8, 0, 0, 0, 1)), 0u);
  EXPECT_EQ(q.scaleAndZero.bitsAt(0), 0x3f80u);                   // 1.0
  EXPECT_EQ(q.scaleAndZero.bitsAt(1), 0x4100u);                   // 8.0
  EXPECT_EQ(q.scaleAndZero.bitsAt((1 * 8 + 0) * 2), 0x0080u);     // 2^-126
  EXPECT_EQ(q.scaleAndZero.bitsAt((1 * 8 + 0) * 2 + 1), 0x0200u); // 2^-123
  std::vector<float> back;
  ASSERT_TRUE(dequantizeTorchaoInt4Tiled(q.qdata.view(), q.scaleAndZero.view(),
                                         1, 32, 32, back, error))
      << error;
  EXPECT_EQ(back, w);
}

TEST(RefTorchAo, TiledRoundTrip) {
  const int64_t n = 5, k = 300; // padded to [8, 1024]
  std::mt19937 gen(4);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::vector<float> w(n * k);
  for (float &x : w)
    x = bf16ToFloat(floatToBf16(dist(gen)));
  for (int64_t g : {32, 64, 128, 256}) {
    TorchaoInt4Tiled q;
    std::string error;
    ASSERT_TRUE(quantizeTorchaoInt4Tiled(w.data(), n, k, g, q, error)) << error;
    std::vector<float> back;
    ASSERT_TRUE(dequantizeTorchaoInt4Tiled(
        q.qdata.view(), q.scaleAndZero.view(), n, k, g, back, error))
        << error;
    auto sz = q.scaleAndZero.view();
    for (int64_t i = 0; i < n * k; ++i) {
      const int64_t row = i / k, col = i % k;
      const float s = sz.at(((col / g) * 8 + row) * 2);
      const float z = sz.at(((col / g) * 8 + row) * 2 + 1);
      // Half a step, plus the bf16 roundings of the quantizer's arithmetic.
      const float bound =
          0.5f * s + (std::fabs(w[i]) + std::fabs(z) + 16 * s) / 128.0f;
      ASSERT_LE(std::fabs(back[i] - w[i]), bound) << "g " << g << " " << i;
    }
  }
}

TEST(RefTorchAo, PlainInt4ByHand) {
  // N=1, K=4, g=2; q = [-8, 7, -1, 0]: byte0 = (-8 & 0xf) | 7 << 4 = 0x78,
  // byte1 = (-1 & 0xf) | 0 << 4 = 0x0f. scale/zero [K/g, N].
  std::vector<int8_t> qdata = {0x78, 0x0f};
  auto scale = bf16s({0.5f, 2});
  auto zero = bf16s({1, -1});
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeTorchaoInt4Plain(
      viewOf(qdata, DType::I8, {1, 2}), viewOf(scale, DType::BF16, {2, 1}),
      viewOf(zero, DType::BF16, {2, 1}), 1, 4, 2, w, error))
      << error;
  // w = q * scale + zero.
  EXPECT_EQ(w, (std::vector<float>{-3, 4.5f, -3, -1}));
}

TEST(RefTorchAo, PlainInt4QuantizeByHand) {
  // Row 0..15, g = 16: scale = 15 / 15 = 1, zero = 0 + 8 * 1 = 8,
  // q = k - 8: byte j = (q[2j] & 0xf) | (q[2j+1] & 0xf) << 4.
  std::vector<float> w(16);
  for (int k = 0; k < 16; ++k)
    w[k] = static_cast<float>(k);
  TorchaoInt4Plain q;
  std::string error;
  ASSERT_TRUE(
      quantizeTorchaoInt4Plain(w.data(), 1, 16, 16, DType::BF16, q, error))
      << error;
  EXPECT_EQ(q.qdata.bytes, (std::vector<uint8_t>{0x98, 0xba, 0xdc, 0xfe, 0x10,
                                                 0x32, 0x54, 0x76}));
  EXPECT_EQ(q.scale.view().at(0), 1.0f);
  EXPECT_EQ(q.zeroPoint.view().at(0), 8.0f);
  std::vector<float> back;
  ASSERT_TRUE(dequantizeTorchaoInt4Plain(q.qdata.view(), q.scale.view(),
                                         q.zeroPoint.view(), 1, 16, 16, back,
                                         error));
  EXPECT_EQ(back, w);
}

TEST(RefTorchAo, PlainInt4RoundTrip) {
  const int64_t n = 6, k = 256;
  std::mt19937 gen(8);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::vector<float> w(n * k);
  for (float &x : w)
    x = bf16ToFloat(floatToBf16(dist(gen)));
  TorchaoInt4Plain q;
  std::string error;
  ASSERT_TRUE(
      quantizeTorchaoInt4Plain(w.data(), n, k, 128, DType::BF16, q, error))
      << error;
  std::vector<float> back;
  ASSERT_TRUE(dequantizeTorchaoInt4Plain(q.qdata.view(), q.scale.view(),
                                         q.zeroPoint.view(), n, k, 128, back,
                                         error))
      << error;
  for (int64_t i = 0; i < n * k; ++i) {
    const int64_t p = (i % k / 128) * n + i / k;
    const float s = q.scale.view().at(p), z = q.zeroPoint.view().at(p);
    // Half a step plus the bf16 rounding of the stored scale and zero.
    const float bound = 0.5f * s + (8 * s + std::fabs(z)) / 128.0f;
    ASSERT_LE(std::fabs(back[i] - w[i]), bound) << i;
  }
}

TEST(RefTorchAo, Int8ByHand) {
  std::vector<int8_t> qdata = {1, -2, 127, -128};
  std::vector<float> scale = {0.5f, 0.25f};
  std::vector<int8_t> zeros = {0, 0};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeTorchaoInt8(
      viewOf(qdata, DType::I8, {2, 2}), viewOf(scale, DType::F32, {2, 1}),
      viewOf(zeros, DType::I8, {2, 1}), 2, 2, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{0.5f, -1, 31.75f, -32}));
  // w = (q - zp) * scale: zero points 3 and -2.
  std::vector<int8_t> zp = {3, -2};
  ASSERT_TRUE(dequantizeTorchaoInt8(
      viewOf(qdata, DType::I8, {2, 2}), viewOf(scale, DType::F32, {2, 1}),
      viewOf(zp, DType::I8, {2, 1}), 2, 2, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{-1, -2.5f, 32.25f, -31.5f}));
  // Per tensor: scale and zero point [1, 1]; a bf16 scale (torchao 0.17).
  auto one = bf16s({2});
  std::vector<int8_t> zero = {0};
  ASSERT_TRUE(dequantizeTorchaoInt8(
      viewOf(qdata, DType::I8, {2, 2}), viewOf(one, DType::BF16, {1, 1}),
      viewOf(zero, DType::I8, {1, 1}), 2, 2, w, error));
  EXPECT_EQ(w, (std::vector<float>{2, -4, 254, -256}));
  // Float8: e4m3 0x38 = 1, 0x7e = 448; e5m2 0x3c = 1, 0x7b = 57344.
  std::vector<uint8_t> f8 = {0x38, 0x7e};
  std::vector<float> fs = {0.5f};
  ASSERT_TRUE(dequantizeTorchaoFloat8(viewOf(f8, DType::F8E4M3FN, {1, 2}),
                                      viewOf(fs, DType::F32, {1, 1}), 1, 2, w,
                                      error));
  EXPECT_EQ(w, (std::vector<float>{0.5f, 224}));
  std::vector<uint8_t> e5 = {0x3c, 0x7b};
  ASSERT_TRUE(dequantizeTorchaoFloat8(viewOf(e5, DType::F8E5M2, {1, 2}),
                                      viewOf(fs, DType::F32, {1, 1}), 1, 2, w,
                                      error));
  EXPECT_EQ(w, (std::vector<float>{0.5f, 28672}));
}

TEST(RefTorchAo, Int8QuantizeByHand) {
  // f32, per row: amax 255 -> scale 255 / 127.5 = 2, q = round(x * 0.5):
  // 63.75 -> 64, -127.5 -> -128 (half to even), 0.5 -> 0.
  std::vector<float> w = {127.5f, -255, 1};
  TorchaoInt8 q;
  std::string error;
  ASSERT_TRUE(quantizeTorchaoInt8(w.data(), 1, 3, false, DType::F32, DType::F32,
                                  q, error))
      << error;
  EXPECT_EQ(q.scale.view().at(0), 2.0f);
  EXPECT_EQ(q.zeroPoint.dtype, DType::I8);
  EXPECT_EQ(q.zeroPoint.shape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(q.zeroPoint.view().at(0), 0.0f);
  auto d = q.qdata.view();
  EXPECT_EQ(d.at(0), 64.0f);
  EXPECT_EQ(d.at(1), -128.0f);
  EXPECT_EQ(d.at(2), 0.0f);
  // bf16 weights: the scale is computed in bf16, 1/127.5 -> 0x3c01 =
  // 0.00787353515625 (1/127.5 = 2^-7 * 1.0039 rounds up to 2^-7 * 1.0078125),
  // so 0.5078125 * (1/scale = 127.00775) = 64.496 -> 64; in f32 the same
  // weight gives 0.5078125 * 127.49999 = 64.746 -> 65.
  std::vector<float> x = {1.0f, 0.5078125f};
  ASSERT_TRUE(quantizeTorchaoInt8(x.data(), 1, 2, false, DType::BF16,
                                  DType::F32, q, error));
  EXPECT_EQ(q.scale.view().at(0), 0.00787353515625f);
  EXPECT_EQ(q.qdata.view().at(0), 127.0f);
  EXPECT_EQ(q.qdata.view().at(1), 64.0f);
  ASSERT_TRUE(quantizeTorchaoInt8(x.data(), 1, 2, false, DType::F32, DType::F32,
                                  q, error));
  EXPECT_EQ(q.qdata.view().at(1), 65.0f);
  // Per tensor: one scale [1, 1].
  std::vector<float> two = {1, -2, 4, 0};
  ASSERT_TRUE(quantizeTorchaoInt8(two.data(), 2, 2, true, DType::F32,
                                  DType::BF16, q, error));
  EXPECT_EQ(q.scale.shape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(q.scale.dtype, DType::BF16);
  EXPECT_EQ(q.zeroPoint.shape, (std::vector<int64_t>{1, 1}));
}

TEST(RefTorchAo, Int8DynamicLinearByHand) {
  // bf16 activations x = [1, -0.5078125]: s_x = bf16(1/127.5) =
  // 0.00787353515625, x_q = [127, -64] (see Int8QuantizeByHand). Weight rows
  // [1, 1] (scale 0.5) and [1, -1] (scale 0.25): acc = 63 and 191;
  // y = bf16(acc * s_x) * s_w: 63 * s_x = 0.49603 -> bf16 0.49609375,
  // 191 * s_x = 1.50385 -> bf16 1.5.
  std::vector<float> x = {1, -0.5078125f};
  std::vector<int8_t> wq = {1, 1, 1, -1};
  std::vector<float> sw = {0.5f, 0.25f};
  std::vector<int8_t> zw = {0, 0};
  std::vector<float> y;
  std::string error;
  ASSERT_TRUE(torchaoInt8DynamicLinear(
      x.data(), 1, viewOf(wq, DType::I8, {2, 2}),
      viewOf(sw, DType::F32, {2, 1}), viewOf(zw, DType::I8, {2, 1}), 2, 2,
      nullptr, DType::BF16, y, error))
      << error;
  EXPECT_EQ(y, (std::vector<float>{0.248046875f, 0.375f}));
  // In f32: s_x = f32(1/127.5), x_q = [127, -65], acc = 62 and 192.
  ASSERT_TRUE(torchaoInt8DynamicLinear(
      x.data(), 1, viewOf(wq, DType::I8, {2, 2}),
      viewOf(sw, DType::F32, {2, 1}), viewOf(zw, DType::I8, {2, 1}), 2, 2,
      nullptr, DType::F32, y, error));
  EXPECT_FLOAT_EQ(y[0], 62.0f / 127.5f * 0.5f);
  EXPECT_FLOAT_EQ(y[1], 192.0f / 127.5f * 0.25f);
  // A weight zero point of 1 in row 0: acc = 127 * 0 + (-65) * 0 = 0.
  zw[0] = 1;
  ASSERT_TRUE(torchaoInt8DynamicLinear(
      x.data(), 1, viewOf(wq, DType::I8, {2, 2}),
      viewOf(sw, DType::F32, {2, 1}), viewOf(zw, DType::I8, {2, 1}), 2, 2,
      nullptr, DType::F32, y, error));
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_FLOAT_EQ(y[1], 192.0f / 127.5f * 0.25f);
}

TEST(RefTorchAo, Errors) {
  std::vector<int32_t> qdata(8 * 32 * 4);
  std::vector<uint16_t> sz(32 * 8 * 2);
  std::vector<float> w;
  std::string error;
  // Group sizes outside tinygemm's set.
  EXPECT_FALSE(dequantizeTorchaoInt4Tiled(
      viewOf(qdata, DType::I32, {1, 8, 32, 4}),
      viewOf(sz, DType::BF16, {64, 8, 2}), 2, 64, 16, w, error));
  EXPECT_NE(error.find("32, 64, 128 or 256, got 16"), std::string::npos);
  // qdata not padded to K = 1024.
  EXPECT_FALSE(dequantizeTorchaoInt4Tiled(
      viewOf(qdata, DType::I32, {1, 1, 32, 4}),
      viewOf(sz, DType::BF16, {32, 8, 2}), 2, 64, 32, w, error));
  EXPECT_EQ(error,
            "_weight_qdata must be i32[1, 8, 32, 4], got i32[1, 1, 32, 4]");
  EXPECT_FALSE(dequantizeTorchaoInt4Tiled(
      viewOf(qdata, DType::I32, {1, 8, 32, 4}),
      viewOf(sz, DType::F16, {32, 8, 2}), 2, 64, 32, w, error));
  EXPECT_EQ(error, "_weight_scale_and_zero must be bf16[32, 8, 2], got "
                   "f16[32, 8, 2]");
  // Packing needs N % 8 == 0, K % 128 == 0 and codes below 16.
  StoredTensor packed;
  std::vector<uint8_t> q(8 * 128, 16);
  EXPECT_FALSE(packTinygemmInt4(q.data(), 8, 100, packed, error));
  EXPECT_FALSE(packTinygemmInt4(q.data(), 8, 128, packed, error));
  EXPECT_NE(error.find("code 16"), std::string::npos);
  // Plain int4: K odd / not a multiple of the group; scale shape.
  std::vector<int8_t> plain(4);
  std::vector<uint16_t> s(4);
  EXPECT_FALSE(dequantizeTorchaoInt4Plain(
      viewOf(plain, DType::I8, {1, 2}), viewOf(s, DType::BF16, {2, 1}),
      viewOf(s, DType::BF16, {2, 1}), 1, 4, 3, w, error));
  EXPECT_FALSE(dequantizeTorchaoInt4Plain(
      viewOf(plain, DType::I8, {1, 2}), viewOf(s, DType::BF16, {1, 2}),
      viewOf(s, DType::BF16, {2, 1}), 1, 4, 2, w, error));
  EXPECT_EQ(error, "_weight_scale must be f16, bf16 or f32[2, 1], got "
                   "bf16[1, 2]");
  // Int8 scale and zero point shapes, zero point dtype; float8 scale dtype.
  std::vector<int8_t> zp(2);
  EXPECT_FALSE(dequantizeTorchaoInt8(
      viewOf(plain, DType::I8, {2, 2}), viewOf(s, DType::BF16, {4}),
      viewOf(zp, DType::I8, {2, 1}), 2, 2, w, error));
  EXPECT_EQ(error, "_weight_scale must be f16, bf16 or f32[2, 1], got bf16[4]");
  EXPECT_FALSE(dequantizeTorchaoInt8(
      viewOf(plain, DType::I8, {2, 2}), viewOf(s, DType::BF16, {2, 1}),
      viewOf(zp, DType::I8, {1, 2}), 2, 2, w, error));
  EXPECT_EQ(error, "_weight_zero_point must be i8[2, 1], got i8[1, 2]");
  EXPECT_FALSE(dequantizeTorchaoInt8(
      viewOf(plain, DType::I8, {2, 2}), viewOf(s, DType::BF16, {2, 1}),
      viewOf(s, DType::BF16, {2, 1}), 2, 2, w, error));
  EXPECT_EQ(error, "_weight_zero_point must be i8[2, 1], got bf16[2, 1]");
  std::vector<uint8_t> f8(4);
  EXPECT_FALSE(dequantizeTorchaoFloat8(viewOf(f8, DType::F8E4M3FN, {2, 2}),
                                       viewOf(s, DType::BF16, {2, 1}), 2, 2, w,
                                       error));
  EXPECT_EQ(error, "_weight_scale must be f32[2, 1], got bf16[2, 1]");
  // Quantizers.
  TorchaoInt4Plain p;
  std::vector<float> x(6);
  EXPECT_FALSE(
      quantizeTorchaoInt4Plain(x.data(), 2, 3, 3, DType::BF16, p, error));
  EXPECT_FALSE(
      quantizeTorchaoInt4Plain(x.data(), 1, 6, 4, DType::BF16, p, error));
  TorchaoInt8 i8;
  EXPECT_FALSE(quantizeTorchaoInt8(x.data(), 2, 3, false, DType::I8, DType::F32,
                                   i8, error));
  TorchaoInt4Tiled t;
  EXPECT_FALSE(quantizeTorchaoInt4Tiled(nullptr, 2, 3, 32, t, error));
}
