//===- RefNvfp4Test.cpp - NVFP4 reference ---------------------------------===//
//
// Expected values are worked out by hand from the format (Nvfp4.h): e2m1
// codes two per byte along K, the low nibble first (0x1 = 0.5, 0x2 = 1,
// 0x3 = 1.5, 0x4 = 2, 0x5 = 3, 0x6 = 4, 0x7 = 6, bit 3 the sign), one e4m3
// scale per 16 values (bias 7: 0x38 = 1, 0x40 = 2, 0x30 = 0.5, 0x3c = 1.5),
// times the f32 weight_scale_2. Then the error cases, and the ABI entry
// point against dequantize-then-matmul.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Nvfp4.h"

#include "CheckpointBuilders.h"
#include "RefTestSupport.h"

#include "kernels/abi/Abi.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

extern "C" int32_t _mlir_ciface_hfq_ref_nvfp4_f32(
    StridedMemRefType<float, 2> *, StridedMemRefType<float, 2> *,
    StridedMemRefType<float, 1> *, StridedMemRefType<double, 1> *,
    StridedMemRefType<int64_t, 2> *);

namespace {

bool dequantize(const std::vector<uint8_t> &codes,
                const std::vector<uint8_t> &scales, float global, int64_t n,
                int64_t k, std::vector<float> &w, std::string &error) {
  std::vector<float> g = {global};
  return dequantizeNvfp4(viewOf(codes, DType::U8, {n, k / 2}),
                         viewOf(scales, DType::F8E4M3FN, {n, k / 16}),
                         viewOf(g, DType::F32, {}), n, k, w, error);
}

} // namespace

TEST(RefNvfp4, DequantizeByHand) {
  // N = 2, K = 32: weight [2, 16] bytes, weight_scale [2, 2].
  // Row 0, scales 0x38 (1) for k < 16 and 0x40 (2) for k >= 16,
  // weight_scale_2 = 0.25:
  //   byte 0 = 0x21: k = 0 low nibble 0x1 = 0.5 -> 0.5 * 1 * 0.25 = 0.125,
  //                  k = 1 high nibble 0x2 = 1 -> 0.25;
  //   byte 7 = 0xf7: k = 14 0x7 = 6 -> 1.5, k = 15 0xf = -6 -> -1.5;
  //   byte 8 = 0x95: k = 16 0x5 = 3 -> 3 * 2 * 0.25 = 1.5,
  //                  k = 17 0x9 = -0.5 -> -0.25.
  // Row 1, scales 0x30 (0.5) and 0x3c (1.5):
  //   byte 16 = 0x06: k = 0 0x6 = 4 -> 4 * 0.5 * 0.25 = 0.5, k = 1 0x0 = 0;
  //   byte 31 = 0x8c: k = 30 0xc = -2 -> -2 * 1.5 * 0.25 = -0.75,
  //                   k = 31 0x8 = -0 -> -0.
  std::vector<uint8_t> codes(2 * 16, 0);
  codes[0] = 0x21;
  codes[7] = 0xf7;
  codes[8] = 0x95;
  codes[16] = 0x06;
  codes[31] = 0x8c;
  std::vector<uint8_t> scales = {0x38, 0x40, 0x30, 0x3c};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantize(codes, scales, 0.25f, 2, 32, w, error)) << error;
  std::vector<float> expected(64, 0.0f);
  expected[0] = 0.125f;
  expected[1] = 0.25f;
  expected[14] = 1.5f;
  expected[15] = -1.5f;
  expected[16] = 1.5f;
  expected[17] = -0.25f;
  expected[32] = 0.5f;
  expected[32 + 30] = -0.75f;
  expected[32 + 31] = -0.0f;
  EXPECT_EQ(w, expected);
  EXPECT_TRUE(std::signbit(w[32 + 31]));
}

TEST(RefNvfp4, OneRoundingOfTheThreeFactors) {
  // 1.5 (0x3) * e4m3 0x3f (1.875) = 2.8125 exactly; times weight_scale_2 =
  // 0.1f gives the correctly rounded f32 of 2.8125 * 0.1f (the small product
  // is exact, so there is one rounding).
  std::vector<uint8_t> codes(8, 0x33), scales = {0x3f};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantize(codes, scales, 0.1f, 1, 16, w, error)) << error;
  const float expected = static_cast<float>(2.8125 * static_cast<double>(0.1f));
  EXPECT_EQ(w[0], expected);
  EXPECT_EQ(w[15], expected);
}

TEST(RefNvfp4, Errors) {
  std::vector<uint8_t> codes(8, 0x22), scales = {0x38};
  std::vector<float> w;
  std::string error;
  // Bad block scales: NaN (0x7f, 0xff) and negative (sign bit).
  for (uint8_t bad : {uint8_t(0x7f), uint8_t(0xff)}) {
    EXPECT_FALSE(dequantize(codes, {bad}, 1.0f, 1, 16, w, error));
    EXPECT_NE(error.find("weight_scale[0, 0] is NaN"), std::string::npos)
        << error;
  }
  EXPECT_FALSE(dequantize(codes, {0xb8}, 1.0f, 1, 16, w, error));
  EXPECT_NE(error.find("weight_scale[0, 0] is negative (e4m3 code 0xb8)"),
            std::string::npos)
      << error;
  // A global scale that is not positive and finite.
  for (float bad : {0.0f, -1.0f, NAN, INFINITY}) {
    EXPECT_FALSE(dequantize(codes, scales, bad, 1, 16, w, error));
    EXPECT_NE(error.find("weight_scale_2 must be positive and finite"),
              std::string::npos)
        << error;
  }
  // K not a multiple of 16.
  std::vector<uint8_t> odd(4, 0x22);
  EXPECT_FALSE(dequantize(odd, scales, 1.0f, 1, 8, w, error));
  EXPECT_NE(error.find("K (8) must be a multiple of 16"), std::string::npos)
      << error;
  // Wrong dtypes and shapes.
  std::vector<float> g = {1.0f};
  EXPECT_FALSE(dequantizeNvfp4(viewOf(codes, DType::I8, {1, 8}),
                               viewOf(scales, DType::F8E4M3FN, {1, 1}),
                               viewOf(g, DType::F32, {}), 1, 16, w, error));
  EXPECT_NE(error.find("weight must be"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeNvfp4(viewOf(codes, DType::U8, {1, 8}),
                               viewOf(scales, DType::U8, {1, 1}),
                               viewOf(g, DType::F32, {}), 1, 16, w, error));
  EXPECT_NE(error.find("weight_scale must be"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeNvfp4(viewOf(codes, DType::U8, {1, 8}),
                               viewOf(scales, DType::F8E4M3FN, {1, 1}),
                               viewOf(g, DType::F32, {1}), 1, 16, w, error));
  EXPECT_NE(error.find("weight_scale_2 must be"), std::string::npos) << error;
  EXPECT_FALSE(dequantizeNvfp4(viewOf(codes, DType::U8, {2, 4}),
                               viewOf(scales, DType::F8E4M3FN, {1, 1}),
                               viewOf(g, DType::F32, {}), 1, 16, w, error));
}

namespace {

using namespace hfq::kernels::builders;

/// An NVFP4 layer (N = 16, K = 32) of arbitrary codes and valid scales.
Checkpoint nvfp4Checkpoint(float global, float inputScale) {
  Checkpoint ck;
  StoredTensor &weight = ck.add(DType::U8, {16, 16});
  for (int64_t i = 0; i < 16 * 16; ++i)
    weight.setBits(i, static_cast<uint32_t>((i * 37 + 11) & 0xff));
  StoredTensor &scale = ck.add(DType::F8E4M3FN, {16, 2});
  for (int64_t i = 0; i < 32; ++i)
    scale.setBits(i, static_cast<uint32_t>(0x28 + (i % 24))); // 0.125 .. 1.375
  ck.add(DType::F32, {}).setFloat(0, global);
  ck.add(DType::F32, {}).setFloat(0, inputScale);
  return ck;
}

} // namespace

TEST(RefNvfp4, EntryPointIsDequantizeThenMatmul) {
  Checkpoint ck = nvfp4Checkpoint(0.375f, 0.01f);
  AbiOperands abi(ck);
  const int64_t m = 3, n = 16, k = 32;
  std::vector<float> x(m * k), y(m * n, 0.0f), bias;
  for (int64_t i = 0; i < m * k; ++i)
    x[i] = static_cast<float>((i % 7) - 3) * 0.5f;
  auto xm = memref2d(x.data(), m, k), ym = memref2d(y.data(), m, n);
  auto bm = memref1d(bias.data(), 0);
  ASSERT_EQ(_mlir_ciface_hfq_ref_nvfp4_f32(&ym, &xm, &bm, &abi.argsRef,
                                           &abi.tableRef),
            0)
      << hfq_kernel_last_error();
  std::vector<float> w, expected(m * n);
  std::string error;
  const std::vector<TensorView> views = ck.views();
  ASSERT_TRUE(dequantizeNvfp4(views[0], views[1], views[2], n, k, w, error))
      << error;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t l = 0; l < k; ++l)
        acc += double(x[i * k + l]) * w[j * k + l];
      expected[i * n + j] = static_cast<float>(acc);
    }
  EXPECT_EQ(y, expected);
}

TEST(RefNvfp4, EntryPointErrors) {
  const int64_t m = 1, n = 16, k = 32;
  std::vector<float> x(m * k, 1.0f), y(m * n, 7.0f), bias;
  auto xm = memref2d(x.data(), m, k), ym = memref2d(y.data(), m, n);
  auto bm = memref1d(bias.data(), 0);
  auto refused = [&](Checkpoint &ck, const std::string &expected) {
    AbiOperands abi(ck);
    EXPECT_EQ(_mlir_ciface_hfq_ref_nvfp4_f32(&ym, &xm, &bm, &abi.argsRef,
                                             &abi.tableRef),
              1);
    const std::string message = hfq_kernel_last_error();
    EXPECT_EQ(message.rfind("hfq_ref_nvfp4: ", 0), 0u) << message;
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_EQ(y, std::vector<float>(m * n, 7.0f));
  };
  Checkpoint badInput = nvfp4Checkpoint(1.0f, 0.0f);
  refused(badInput, "input_scale must be positive and finite");
  Checkpoint badGlobal = nvfp4Checkpoint(-2.0f, 1.0f);
  refused(badGlobal, "weight_scale_2 must be positive and finite");
  Checkpoint missing = nvfp4Checkpoint(1.0f, 1.0f);
  missing.tensors.pop_back();
  refused(missing, "expected 4 packed tensors (weight, weight_scale, "
                   "weight_scale_2, input_scale), got 3");
  Checkpoint nanScale = nvfp4Checkpoint(1.0f, 1.0f);
  nanScale.tensors[1].setBits(5, 0x7f);
  refused(nanScale, "weight_scale[2, 1] is NaN");
}
