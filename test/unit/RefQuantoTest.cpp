//===- RefQuantoTest.cpp - optimum-quanto reference (de)quantizers --------===//
//
// Expected values are worked out by hand from the format (Quanto.h,
// quant-formats-and-kernels.md §2.8): known bytes -> known floats, the plane
// order (first plane in the low bits), quanto's group-size rule; then
// quantize -> dequantize round trips within the format's error bound, and
// the error cases.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Quanto.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

TEST(RefQuanto, GroupSizeRule) {
  // 128 lowered by 32 while it does not divide K (K > 128); else one group.
  EXPECT_EQ(quantoGroupSize(4096), 128);
  EXPECT_EQ(quantoGroupSize(288), 96); // 288 = 3 * 96, 288 % 128 = 32
  EXPECT_EQ(quantoGroupSize(320), 64); // 320 % 128 = 64, 320 % 96 = 32
  EXPECT_EQ(quantoGroupSize(160), 32);
  EXPECT_EQ(quantoGroupSize(200), 200); // no multiple of 32 divides 200
  EXPECT_EQ(quantoGroupSize(128), 128); // K <= 128: no grouping
  EXPECT_EQ(quantoGroupSize(40), 40);
}

TEST(RefQuanto, Int8ByHand) {
  std::vector<int8_t> data = {1, -2, 127, -128, 0, 5};
  auto scale = halves({0.5f, 0.25f});
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeQuantoBytes(viewOf(data, DType::I8, {2, 3}),
                                    viewOf(scale, DType::F16, {2, 1}), 2, 3, w,
                                    error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{0.5f, -1.0f, 63.5f, -32.0f, 0.0f, 1.25f}));
}

TEST(RefQuanto, Float8ByHand) {
  // e4m3fn: 0x38 = 1.0, 0x7e = 448 (max), 0xb8 = -1.0, 0x01 = 2^-9 (min
  // subnormal), 0x40 = 2.0, 0x3c = 1.5.
  std::vector<uint8_t> data = {0x38, 0x7e, 0xb8, 0x01, 0x40, 0x3c};
  auto scale = halves({2.0f, -0.5f});
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeQuantoBytes(viewOf(data, DType::F8E4M3FN, {2, 3}),
                                    viewOf(scale, DType::F16, {2, 1}), 2, 3, w,
                                    error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{2.0f, 896.0f, -2.0f, -std::ldexp(1.0f, -10),
                                   -1.0f, -0.75f}));
}

TEST(RefQuanto, Int4PlanesFirstPlaneInLowBits) {
  // N=3, K=4, g=4: grouped rows R=3, planes of R' = ceil(3/2) = 2 rows.
  // Packed row 0 = row 0 (low nibble) + row 2 (high nibble); packed row 1 =
  // row 1 (low nibble) + nothing (the second plane is partial).
  std::vector<uint8_t> data = {0x21, 0x43, 0x65, 0x87,  // rows 0 | 2
                               0x0a, 0x0b, 0x0c, 0x0d}; // row 1
  auto scale = halves({1.0f, 0.5f, 2.0f});
  auto shift = halves({1.0f, 0.0f, -0.5f});
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeQuantoBits(
      viewOf(data, DType::U8, {2, 4}), viewOf(scale, DType::F16, {3, 1}),
      viewOf(shift, DType::F16, {3, 1}), 4, 3, 4, 4, w, error))
      << error;
  // w = scale * q - shift.
  EXPECT_EQ(w, (std::vector<float>{0, 2, 4, 6,                  // q 1 3 5 7
                                   5, 5.5f, 6, 6.5f,            // q 10 11 12 13
                                   4.5f, 8.5f, 12.5f, 16.5f})); // q 2 4 6 8
}

TEST(RefQuanto, Int4GroupsAlongK) {
  // N=1, K=4, g=2: grouped rows are (k0, k1) and (k2, k3); one packed row.
  std::vector<uint8_t> data = {0x5a, 0x3c};
  auto scale = halves({0.5f, 1.0f});
  auto shift = halves({1.0f, 2.0f});
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeQuantoBits(
      viewOf(data, DType::U8, {1, 2}), viewOf(scale, DType::F16, {2, 1}),
      viewOf(shift, DType::F16, {2, 1}), 4, 1, 4, 2, w, error))
      << error;
  // Row 0 codes (low nibbles) 10, 12; row 1 codes (high) 5, 3.
  EXPECT_EQ(w, (std::vector<float>{4.0f, 5.0f, 3.0f, 1.0f}));
}

TEST(RefQuanto, Int2FourPlanes) {
  // N=5, K=1 (g=1): R=5, R' = ceil(5/4) = 2. Packed row 0 holds rows 0, 2,
  // 4 at bits 0, 2, 4; packed row 1 holds rows 1, 3.
  // Codes 1 2 3 0 2: byte0 = 1 | 3<<2 | 2<<4 = 0x2d, byte1 = 2 | 0<<2.
  std::vector<uint8_t> data = {0x2d, 0x02};
  auto scale = halves({1, 1, 1, 1, 0.5f});
  auto shift = halves({0, 0, 0, 1, 0});
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeQuantoBits(
      viewOf(data, DType::U8, {2, 1}), viewOf(scale, DType::F16, {5, 1}),
      viewOf(shift, DType::F16, {5, 1}), 2, 5, 1, 1, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{1, 2, 3, -1, 1}));
}

TEST(RefQuanto, IntegerZeroPointShift) {
  // quanto's zeropoint=True variant: uint8 shift, w = scale * (q - shift).
  std::vector<uint8_t> data = {0x5a, 0x3c};
  auto scale = halves({0.5f, 1.0f});
  std::vector<uint8_t> shift = {8, 4};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeQuantoBits(
      viewOf(data, DType::U8, {1, 2}), viewOf(scale, DType::F16, {2, 1}),
      viewOf(shift, DType::U8, {2, 1}), 4, 1, 4, 2, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{1.0f, 2.0f, 1.0f, -1.0f}));
}

TEST(RefQuanto, QuantizeInt4PacksLikeQuanto) {
  // N=3, K=3 (g=3), f32: each row's min maps to 0 and max to 15.
  //   row0 {0, 5, 15}: scale 1, shift 0   -> q {0, 5, 15}
  //   row1 {2, 3, 17}: scale 1, shift -2  -> q {0, 1, 15}
  //   row2 {0, 14, 30}: scale 2, shift 0  -> q {0, 7, 15}
  // Packed row 0 = row0 | row2 << 4, packed row 1 = row1.
  std::vector<float> w = {0, 5, 15, 2, 3, 17, 0, 14, 30};
  QuantoQuantized q;
  std::string error;
  ASSERT_TRUE(
      quantizeQuanto(w.data(), 3, 3, QuantoWeights::Int4, DType::F32, q, error))
      << error;
  EXPECT_EQ(q.groupSize, 3);
  EXPECT_EQ(q.data.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(q.data.bytes,
            (std::vector<uint8_t>{0x00, 0x75, 0xff, 0x00, 0x01, 0x0f}));
  EXPECT_EQ(q.scale.view().at(2), 2.0f);
  EXPECT_EQ(q.shift.view().at(1), -2.0f);
  std::vector<float> back;
  ASSERT_TRUE(dequantizeQuantoBits(q.data.view(), q.scale.view(),
                                   q.shift.view(), 4, 3, 3, q.groupSize, back,
                                   error))
      << error;
  EXPECT_EQ(back, w); // every value lies on the grid
}

TEST(RefQuanto, QuantizeInt8ByHand) {
  // Row absmax 254 -> scale 2; 3 / 2 = 1.5 rounds to even 2, -5/2 -> -2.
  std::vector<float> w = {254, 3, -5, 0, 0, 0};
  QuantoQuantized q;
  std::string error;
  ASSERT_TRUE(
      quantizeQuanto(w.data(), 2, 3, QuantoWeights::Int8, DType::F32, q, error))
      << error;
  EXPECT_EQ(q.data.dtype, DType::I8);
  auto data = q.data.view();
  EXPECT_EQ(data.at(0), 127.0f);
  EXPECT_EQ(data.at(1), 2.0f);
  EXPECT_EQ(data.at(2), -2.0f);
  EXPECT_EQ(q.scale.view().at(0), 2.0f);
  // An all-zero row has scale 0 and codes 0 (no 0/0).
  EXPECT_EQ(q.scale.view().at(1), 0.0f);
  EXPECT_EQ(data.at(3), 0.0f);
}

TEST(RefQuanto, QuantizeRoundsInTheWeightDtype) {
  // In f16, absmax/127 = 1/127 rounds to 0x2008 (0.00787353515625), and
  // w / scale is rounded to f16 again before round(), as torch does:
  // 0.263671875 / s = 33.488 -> f16 33.5 -> round half to even 34. In f32
  // the same weight gives 33.486 -> 33.
  std::vector<float> w = {1.0f, 0.263671875f};
  QuantoQuantized q16, q32;
  std::string error;
  ASSERT_TRUE(quantizeQuanto(w.data(), 1, 2, QuantoWeights::Int8, DType::F16,
                             q16, error));
  ASSERT_TRUE(quantizeQuanto(w.data(), 1, 2, QuantoWeights::Int8, DType::F32,
                             q32, error));
  EXPECT_EQ(q16.scale.bitsAt(0), 0x2008u);
  EXPECT_EQ(q16.data.view().at(1), 34.0f);
  EXPECT_EQ(q32.data.view().at(1), 33.0f);
}

TEST(RefQuanto, RoundTripsWithinTheFormatBound) {
  const int64_t n = 8, k = 384; // g = 128, three groups per row
  auto w = randomNormal(n * k, 7, 0.05f);
  std::string error;
  for (QuantoWeights kind : {QuantoWeights::Int8, QuantoWeights::Float8,
                             QuantoWeights::Int4, QuantoWeights::Int2}) {
    QuantoQuantized q;
    ASSERT_TRUE(quantizeQuanto(w.data(), n, k, kind, DType::F32, q, error))
        << error;
    std::vector<float> back;
    if (kind == QuantoWeights::Int8 || kind == QuantoWeights::Float8) {
      ASSERT_TRUE(dequantizeQuantoBytes(q.data.view(), q.scale.view(), n, k,
                                        back, error))
          << error;
    } else {
      const int bits = kind == QuantoWeights::Int4 ? 4 : 2;
      EXPECT_EQ(q.groupSize, 128);
      ASSERT_TRUE(dequantizeQuantoBits(q.data.view(), q.scale.view(),
                                       q.shift.view(), bits, n, k, q.groupSize,
                                       back, error))
          << error;
    }
    for (int64_t i = 0; i < n * k; ++i) {
      const int64_t row = i / k;
      float bound;
      switch (kind) {
      case QuantoWeights::Int8:
        bound = 0.5f * q.scale.view().at(row);
        break;
      case QuantoWeights::Float8:
        // Half an e4m3 ulp (2^-4 relative), or half the subnormal step.
        bound = std::max(std::fabs(w[i]) * 0.0625f,
                         q.scale.view().at(row) * std::ldexp(1.0f, -10));
        break;
      case QuantoWeights::Int4:
      case QuantoWeights::Int2:
        bound = 0.5f * q.scale.view().at(i / q.groupSize);
        break;
      }
      ASSERT_LE(std::fabs(back[i] - w[i]), bound * 1.0001f + 1e-7f)
          << "element " << i;
    }
  }
}

TEST(RefQuanto, RoundTripInF16) {
  const int64_t n = 4, k = 256;
  auto w = randomNormal(n * k, 11, 0.02f);
  QuantoQuantized q;
  std::string error;
  ASSERT_TRUE(
      quantizeQuanto(w.data(), n, k, QuantoWeights::Int4, DType::F16, q, error))
      << error;
  EXPECT_EQ(q.scale.dtype, DType::F16);
  std::vector<float> back;
  ASSERT_TRUE(dequantizeQuantoBits(q.data.view(), q.scale.view(),
                                   q.shift.view(), 4, n, k, q.groupSize, back,
                                   error))
      << error;
  for (int64_t i = 0; i < n * k; ++i) {
    const float s = q.scale.view().at(i / q.groupSize);
    // Half a step plus the f16 rounding of the weight and the shift.
    ASSERT_LE(std::fabs(back[i] - w[i]), 0.5f * s + 0.001f * 0.1f + 2e-5f);
  }
}

TEST(RefQuanto, Errors) {
  std::vector<uint8_t> data(8);
  auto scale = halves({1, 1, 1});
  auto shift = halves({0, 0, 0});
  std::vector<float> w;
  std::string error;
  // Bits other than 2 / 4.
  EXPECT_FALSE(dequantizeQuantoBits(
      viewOf(data, DType::U8, {2, 4}), viewOf(scale, DType::F16, {3, 1}),
      viewOf(shift, DType::F16, {3, 1}), 3, 3, 4, 4, w, error));
  EXPECT_NE(error.find("bits=3"), std::string::npos) << error;
  // Group size that does not divide K.
  EXPECT_FALSE(dequantizeQuantoBits(
      viewOf(data, DType::U8, {2, 4}), viewOf(scale, DType::F16, {3, 1}),
      viewOf(shift, DType::F16, {3, 1}), 4, 3, 4, 3, w, error));
  EXPECT_NE(error.find("group size 3"), std::string::npos) << error;
  // Packed data of the wrong shape.
  EXPECT_FALSE(dequantizeQuantoBits(
      viewOf(data, DType::U8, {1, 8}), viewOf(scale, DType::F16, {3, 1}),
      viewOf(shift, DType::F16, {3, 1}), 4, 3, 4, 4, w, error));
  EXPECT_EQ(error, "weight._data._data must be ui8[2, 4], got ui8[1, 8]");
  // Scale of the wrong shape / dtype.
  EXPECT_FALSE(dequantizeQuantoBits(
      viewOf(data, DType::U8, {2, 4}), viewOf(scale, DType::F16, {1, 3}),
      viewOf(shift, DType::F16, {3, 1}), 4, 3, 4, 4, w, error));
  EXPECT_EQ(error,
            "weight._scale must be f16, bf16 or f32[3, 1], got f16[1, 3]");
  EXPECT_FALSE(dequantizeQuantoBits(
      viewOf(data, DType::U8, {2, 4}), viewOf(scale, DType::F16, {3, 1}),
      viewOf(shift, DType::I32, {3, 1}), 4, 3, 4, 4, w, error));
  EXPECT_NE(error.find("weight._shift"), std::string::npos) << error;
  // 8-bit data dtype and missing data.
  std::vector<int16_t> wide(6);
  EXPECT_FALSE(dequantizeQuantoBytes(viewOf(wide, DType::I16, {2, 3}),
                                     viewOf(scale, DType::F16, {2, 1}), 2, 3, w,
                                     error));
  EXPECT_NE(error.find("weight._data must be i8"), std::string::npos) << error;
  TensorView empty;
  empty.dtype = DType::I8;
  empty.shape = {2, 3};
  EXPECT_FALSE(dequantizeQuantoBytes(empty, viewOf(scale, DType::F16, {2, 1}),
                                     2, 3, w, error));
  EXPECT_EQ(error, "weight._data has no data");
  // Bad sizes and dtypes for the quantizer.
  QuantoQuantized q;
  std::vector<float> x(6);
  EXPECT_FALSE(quantizeQuanto(x.data(), 0, 6, QuantoWeights::Int8, DType::F16,
                              q, error));
  EXPECT_FALSE(
      quantizeQuanto(x.data(), 2, 3, QuantoWeights::Int8, DType::I8, q, error));
  EXPECT_FALSE(
      quantizeQuanto(nullptr, 2, 3, QuantoWeights::Int4, DType::F16, q, error));
  // Non-finite weights would make the integer conversion undefined.
  x[4] = NAN;
  EXPECT_FALSE(quantizeQuanto(x.data(), 2, 3, QuantoWeights::Int4, DType::F16,
                              q, error));
  EXPECT_EQ(error, "quanto: weight has a non-finite value at 4");
}
