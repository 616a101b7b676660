//===- RefQuarkTest.cpp - AMD Quark reference -----------------------------===//
//
// Expected values are worked out by hand from the formats (Quark.h): e4m3
// codes (bias 7: 0x38 = 1, 0x40 = 2, 0xc4 = -3, 0x7e = 448, 0x01 = 2^-9)
// times one f32 scale; int8 codes minus the row's zero point times the
// row's scale; static fp8 input fake quantization x' = e4m3(clamp(x / s,
// ±448)) * s. Then a bf16 export's BF16 scales, each step rounded to bf16
// as quark does in a bf16 model. Then the error cases, and the ABI entry
// point against fake-quantize, dequantize, then matmul (+ bias).
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Quark.h"

#include "CheckpointBuilders.h"
#include "RefTestSupport.h"

#include "kernels/abi/Abi.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;
using namespace hfq::kernels::builders;

extern "C" int32_t _mlir_ciface_hfq_ref_quark_f32(
    StridedMemRefType<float, 2> *, StridedMemRefType<float, 2> *,
    StridedMemRefType<float, 1> *, StridedMemRefType<double, 1> *,
    StridedMemRefType<int64_t, 2> *);
extern "C" int32_t _mlir_ciface_hfq_ref_quark_bf16(
    StridedMemRefType<uint16_t, 2> *, StridedMemRefType<uint16_t, 2> *,
    StridedMemRefType<uint16_t, 1> *, StridedMemRefType<double, 1> *,
    StridedMemRefType<int64_t, 2> *);

namespace {

/// bf16 0x3dcd = 1.6015625 * 2^-4 = 205/2048 = 0.10009765625: the scale of
/// the bf16 cases, a bf16 export's weight_scale / input_scale. Its products
/// need more than bf16's 8 significant bits, so each rounding shows.
const std::vector<uint16_t> kBf16Scale = {0x3dcd};

} // namespace

TEST(RefQuark, Fp8PerTensorByHand) {
  // N = 2, K = 3, weight_scale 0.5:
  // row 0: 0x38 = 1 -> 0.5, 0xc4 = -3 -> -1.5, 0x7e = 448 -> 224;
  // row 1: 0x40 = 2 -> 1, 0x01 = 2^-9 -> 2^-10, 0x80 = -0 -> -0.
  std::vector<uint8_t> codes = {0x38, 0xc4, 0x7e, 0x40, 0x01, 0x80};
  std::vector<float> scale = {0.5f}, w;
  std::string error;
  ASSERT_TRUE(dequantizeQuark(viewOf(codes, DType::F8E4M3FN, {2, 3}),
                              viewOf(scale, DType::F32, {}), nullptr, 2, 3,
                              DType::F32, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{0.5f, -1.5f, 224.0f, 1.0f,
                                   std::ldexp(1.0f, -10), -0.0f}));
  EXPECT_TRUE(std::signbit(w[5]));
}

TEST(RefQuark, Int8PerChannelByHand) {
  // N = 2, K = 3.
  // row 0, scale 0.25, zero point 0 (symmetric): 4 -> 1, -128 -> -32,
  //   127 -> 31.75;
  // row 1, scale 2, zero point -3: 0 -> 6, -3 -> 0, 5 -> 16.
  std::vector<int8_t> codes = {4, -128, 127, 0, -3, 5};
  std::vector<float> scale = {0.25f, 2.0f}, w;
  std::vector<int8_t> zero = {0, -3};
  std::string error;
  const TensorView zp = viewOf(zero, DType::I8, {2});
  ASSERT_TRUE(dequantizeQuark(viewOf(codes, DType::I8, {2, 3}),
                              viewOf(scale, DType::F32, {2}), &zp, 2, 3,
                              DType::F32, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{1.0f, -32.0f, 31.75f, 6.0f, 0.0f, 16.0f}));
}

TEST(RefQuark, StaticFp8InputByHand) {
  // input_scale 0.5:
  //   1.0 -> 2 (e4m3 exactly) -> 1.0;
  //   0.3 -> 0.6 -> nearest e4m3 0.625 (0x32: 1.25 * 2^-1) -> 0.3125;
  //   -1000 -> -2000, clamped to -448 -> -224;
  //   1.1 -> 2.2 -> e4m3 step at 2 is 0.25: 2.25 -> 1.125;
  //   0.5625 -> 1.125 (0x39, three mantissa bits: exact) -> 0.5625;
  //   1.0625 -> 2.125, halfway between 2 (0x40, even) and 2.25 (0x41):
  //   ties to even -> 2 -> 1.0.
  std::vector<float> x = {1.0f, 0.3f, -1000.0f, 1.1f, 0.5625f, 1.0625f};
  std::vector<float> s = {0.5f}, out;
  std::string error;
  ASSERT_TRUE(fakeQuantizeQuarkFp8Input(x.data(), 6, viewOf(s, DType::F32, {}),
                                        DType::F32, out, error))
      << error;
  EXPECT_EQ(
      out, (std::vector<float>{1.0f, 0.3125f, -224.0f, 1.125f, 0.5625f, 1.0f}));
}

TEST(RefQuark, Fp8PerTensorBf16ScaleByHand) {
  // A bf16 model's export: weight_scale BF16 205/2048. quark multiplies in
  // float32, then _forward_generic casts W to bf16 (8 significant bits):
  //   0x38 = 1     -> 205/2048 = 0.10009765625, exact in bf16;
  //   0x3b = 1.375 -> 2255/16384 = 0.13763427734375 in f32; 2255 =
  //     0b100011001111, 8 bits 10001100 and 1111 left (over half): up to
  //     141 * 2^-10 = 0.1376953125;
  //   0x3a = 1.25  -> 1025/8192; 1025 = 0b10000000001, 10000000 and 001
  //     left (under half): down to 0.125.
  // In a float32 model the same scale gives the f32 products.
  std::vector<uint8_t> codes = {0x38, 0x3b, 0x3a};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeQuark(viewOf(codes, DType::F8E4M3FN, {1, 3}),
                              viewOf(kBf16Scale, DType::BF16, {}), nullptr, 1,
                              3, DType::BF16, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{0.10009765625f, 0.1376953125f, 0.125f}));
  ASSERT_TRUE(dequantizeQuark(viewOf(codes, DType::F8E4M3FN, {1, 3}),
                              viewOf(kBf16Scale, DType::BF16, {}), nullptr, 1,
                              3, DType::F32, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{0.10009765625f, 0.13763427734375f,
                                   0.1251220703125f}));
}

TEST(RefQuark, Int8PerChannelBf16ScaleByHand) {
  // weight_scale BF16 [1] = 205/2048, zero point 1: (12 - 1) * 205/2048 =
  // 2255/2048 = 1.10107421875 in f32, bf16 1.1015625 (as above);
  // (-7 - 1) * 205/2048 = -0.80078125, exact.
  std::vector<int8_t> codes = {12, -7};
  std::vector<int8_t> zero = {1};
  const TensorView zp = viewOf(zero, DType::I8, {1});
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeQuark(viewOf(codes, DType::I8, {1, 2}),
                              viewOf(kBf16Scale, DType::BF16, {1}), &zp, 1, 2,
                              DType::BF16, w, error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{1.1015625f, -0.80078125f}));
}

TEST(RefQuark, StaticFp8InputInBf16ByHand) {
  // input_scale BF16 205/2048 on bf16 activations: each op rounds to bf16.
  //   1.0: x / s = 2048/205 = 9.990... -> bf16 (step 1/16 in [8, 16)) 10
  //     -> e4m3 10 -> 10 * s = 1.0009765625 -> bf16 (step 1/128) 1.0;
  //   0.94921875 (243/256): x / s = 1944/205 = 9.4829... -> bf16 9.5, a
  //     tie for e4m3 between 9 (odd mantissa) and 10: 10 -> 1.0 again,
  //     where float32 math keeps 9.48 -> e4m3 9 -> 0.90087890625;
  //   -64: x / s = -639.4 -> bf16 -640 -> clamped to -448 -> -448 * s =
  //     -44.84375 -> bf16 (step 1/4 in [32, 64)) -44.75.
  std::vector<float> x = {1.0f, 0.94921875f, -64.0f}, out;
  std::string error;
  ASSERT_TRUE(fakeQuantizeQuarkFp8Input(x.data(), 3,
                                        viewOf(kBf16Scale, DType::BF16, {}),
                                        DType::BF16, out, error))
      << error;
  EXPECT_EQ(out, (std::vector<float>{1.0f, 1.0f, -44.75f}));
  ASSERT_TRUE(fakeQuantizeQuarkFp8Input(
      x.data(), 3, viewOf(kBf16Scale, DType::BF16, {}), DType::F32, out, error))
      << error;
  EXPECT_EQ(out,
            (std::vector<float>{1.0009765625f, 0.90087890625f, -44.84375f}));
}

TEST(RefQuark, Bf16EntryPointRoundsAsQuarkDoes) {
  // The bf16 entry point of a bf16 export (scales BF16): x = [1.0,
  // 0.94921875] fake-quantizes to [1.0, 1.0], W = [0x38, 0x3b] *
  // 205/2048 dequantizes to [0.10009765625, 0.1376953125] (both above),
  // y = 0.23779296875 = 243.5 * 2^-10, a bf16 tie, to even: 0.23828125.
  Checkpoint ck;
  ck.args = {1.0, 1.0};
  StoredTensor &weight = ck.add(DType::F8E4M3FN, {1, 2});
  weight.setBits(0, 0x38);
  weight.setBits(1, 0x3b);
  ck.add(DType::BF16, {}).setBits(0, kBf16Scale[0]);
  ck.add(DType::BF16, {}).setBits(0, kBf16Scale[0]);
  AbiOperands abi(ck);
  std::vector<uint16_t> x = {floatToBf16(1.0f), floatToBf16(0.94921875f)},
                        y = {0}, bias;
  auto xm = memref2d(x.data(), 1, 2), ym = memref2d(y.data(), 1, 1);
  auto bm = memref1d(bias.data(), 0);
  ASSERT_EQ(_mlir_ciface_hfq_ref_quark_bf16(&ym, &xm, &bm, &abi.argsRef,
                                            &abi.tableRef),
            0)
      << hfq_kernel_last_error();
  EXPECT_EQ(bf16ToFloat(y[0]), 0.23828125f);
}

TEST(RefQuark, Errors) {
  std::vector<uint8_t> codes = {0x38, 0x7f};
  std::vector<float> scale = {1.0f}, w;
  std::string error;
  EXPECT_FALSE(dequantizeQuark(viewOf(codes, DType::F8E4M3FN, {1, 2}),
                               viewOf(scale, DType::F32, {}), nullptr, 1, 2,
                               DType::F32, w, error));
  EXPECT_NE(error.find("weight[0, 1] is NaN (e4m3 code 0x7f)"),
            std::string::npos)
      << error;
  codes[1] = 0x38;
  for (float bad : {0.0f, -0.5f, NAN, INFINITY}) {
    std::vector<float> s = {bad};
    EXPECT_FALSE(dequantizeQuark(viewOf(codes, DType::F8E4M3FN, {1, 2}),
                                 viewOf(s, DType::F32, {}), nullptr, 1, 2,
                                 DType::F32, w, error));
    EXPECT_NE(error.find("weight_scale must be positive and finite"),
              std::string::npos)
        << error;
  }
  // A per-channel scale where the fp8 export has one, and an integer scale.
  std::vector<float> two = {1.0f, 1.0f};
  EXPECT_FALSE(dequantizeQuark(viewOf(codes, DType::F8E4M3FN, {1, 2}),
                               viewOf(two, DType::F32, {2}), nullptr, 1, 2,
                               DType::F32, w, error));
  EXPECT_NE(error.find("weight_scale must be f16, bf16 or f32[], got f32[2]"),
            std::string::npos)
      << error;
  std::vector<int32_t> integer = {1};
  EXPECT_FALSE(dequantizeQuark(viewOf(codes, DType::F8E4M3FN, {1, 2}),
                               viewOf(integer, DType::I32, {}), nullptr, 1, 2,
                               DType::F32, w, error));
  EXPECT_NE(error.find("weight_scale must be f16, bf16 or f32[], got i32[]"),
            std::string::npos)
      << error;
  // int8: zero points of the wrong dtype or length, a bad row scale.
  std::vector<int8_t> q = {1, 2, 3, 4};
  std::vector<float> rows = {1.0f, 0.0f};
  std::vector<int8_t> zero = {0, 0};
  std::vector<int32_t> zero32 = {0, 0};
  const TensorView zp = viewOf(zero, DType::I8, {2});
  const TensorView zp32 = viewOf(zero32, DType::I32, {2});
  const TensorView zp1 = viewOf(zero, DType::I8, {1});
  EXPECT_FALSE(dequantizeQuark(viewOf(q, DType::I8, {2, 2}),
                               viewOf(rows, DType::F32, {2}), &zp, 2, 2,
                               DType::F32, w, error));
  EXPECT_NE(error.find("weight_scale[1] must be positive and finite"),
            std::string::npos)
      << error;
  rows[1] = 1.0f;
  EXPECT_FALSE(dequantizeQuark(viewOf(q, DType::I8, {2, 2}),
                               viewOf(rows, DType::F32, {2}), &zp32, 2, 2,
                               DType::F32, w, error));
  EXPECT_NE(error.find("weight_zero_point must be i8[2]"), std::string::npos)
      << error;
  EXPECT_FALSE(dequantizeQuark(viewOf(q, DType::I8, {2, 2}),
                               viewOf(rows, DType::F32, {2}), &zp1, 2, 2,
                               DType::F32, w, error));
  EXPECT_FALSE(dequantizeQuark(viewOf(q, DType::U8, {2, 2}),
                               viewOf(rows, DType::F32, {2}), &zp, 2, 2,
                               DType::F32, w, error));
  // A bad input_scale.
  std::vector<float> x = {1.0f}, out;
  for (float bad : {0.0f, NAN}) {
    std::vector<float> s = {bad};
    EXPECT_FALSE(fakeQuantizeQuarkFp8Input(
        x.data(), 1, viewOf(s, DType::F32, {}), DType::F32, out, error));
    EXPECT_NE(error.find("input_scale must be positive and finite"),
              std::string::npos)
        << error;
  }
}

namespace {

/// A Quark layer (N = 4, K = 8): fp8 per-tensor or int8 per-channel, with
/// input_scale when `staticInput`; args (static_activation, symmetric).
Checkpoint quarkCheckpoint(bool int8, bool staticInput) {
  const int64_t n = 4, k = 8;
  Checkpoint ck;
  ck.args = {staticInput ? 1.0 : 0.0, int8 ? 0.0 : 1.0};
  StoredTensor &weight = ck.add(int8 ? DType::I8 : DType::F8E4M3FN, {n, k});
  for (int64_t i = 0; i < n * k; ++i)
    weight.setBits(i, int8 ? static_cast<uint32_t>(static_cast<uint8_t>(
                                 static_cast<int8_t>((i * 29) % 255 - 127)))
                           : static_cast<uint32_t>((i * 13 + 5) % 0x7e));
  if (int8) {
    StoredTensor &scale = ck.add(DType::F32, {n});
    StoredTensor &zero = ck.add(DType::I8, {n});
    for (int64_t r = 0; r < n; ++r) {
      scale.setFloat(r, 0.01f * static_cast<float>(r + 1));
      zero.setBits(r, static_cast<uint32_t>(
                          static_cast<uint8_t>(static_cast<int8_t>(r - 2))));
    }
  } else {
    ck.add(DType::F32, {}).setFloat(0, 0.0625f);
  }
  if (staticInput)
    ck.add(DType::F32, {}).setFloat(0, 0.02f);
  return ck;
}

} // namespace

TEST(RefQuark, EntryPointIsFakeQuantizeDequantizeThenMatmul) {
  const int64_t m = 2, n = 4, k = 8;
  std::vector<float> x(m * k);
  for (int64_t i = 0; i < m * k; ++i)
    x[i] = 0.37f * static_cast<float>(i - 7);
  for (bool int8 : {false, true})
    for (bool staticInput : {false, true}) {
      SCOPED_TRACE(std::string(int8 ? "int8" : "fp8") +
                   (staticInput ? " static" : " unquantized"));
      Checkpoint ck = quarkCheckpoint(int8, staticInput);
      AbiOperands abi(ck);
      std::vector<float> y(m * n, 0.0f), bias = {1.0f, -1.0f, 0.5f, 0.0f};
      auto xm = memref2d(x.data(), m, k), ym = memref2d(y.data(), m, n);
      auto bm = memref1d(bias.data(), n);
      ASSERT_EQ(_mlir_ciface_hfq_ref_quark_f32(&ym, &xm, &bm, &abi.argsRef,
                                               &abi.tableRef),
                0)
          << hfq_kernel_last_error();
      // The straightforward forward: x' (fake-quantized when static, by
      // hand: e4m3(clamp(x / s)) * s), W dequantized, x'·Wᵀ + bias.
      const std::vector<TensorView> views = ck.views();
      std::vector<float> w, xq = x;
      std::string error;
      TensorView zp = int8 ? views[2] : TensorView();
      ASSERT_TRUE(dequantizeQuark(views[0], views[1], int8 ? &zp : nullptr, n,
                                  k, DType::F32, w, error))
          << error;
      if (staticInput)
        for (float &v : xq)
          v = fp8e4m3ToFloat(floatToFp8e4m3(
                  std::fmin(std::fmax(v / 0.02f, -448.0f), 448.0f))) *
              0.02f;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double acc = 0;
          for (int64_t l = 0; l < k; ++l)
            acc += double(xq[i * k + l]) * w[j * k + l];
          // The runner adds the bias to the f32 product.
          EXPECT_EQ(y[i * n + j], static_cast<float>(acc) + bias[j])
              << i << ", " << j;
        }
    }
}

TEST(RefQuark, EntryPointErrors) {
  const int64_t m = 1, n = 4, k = 8;
  std::vector<float> x(m * k, 1.0f), y(m * n, 7.0f), bias;
  auto xm = memref2d(x.data(), m, k), ym = memref2d(y.data(), m, n);
  auto bm = memref1d(bias.data(), 0);
  auto refused = [&](Checkpoint &ck, const std::string &expected) {
    AbiOperands abi(ck);
    EXPECT_EQ(_mlir_ciface_hfq_ref_quark_f32(&ym, &xm, &bm, &abi.argsRef,
                                             &abi.tableRef),
              1);
    const std::string message = hfq_kernel_last_error();
    EXPECT_EQ(message.rfind("hfq_ref_quark: ", 0), 0u) << message;
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_EQ(y, std::vector<float>(m * n, 7.0f));
  };
  // static_activation without input_scale.
  Checkpoint noInputScale = quarkCheckpoint(false, true);
  noInputScale.tensors.pop_back();
  refused(noInputScale, "expected 3 packed tensors (weight, weight_scale, "
                        "input_scale), got 2");
  Checkpoint int8Missing = quarkCheckpoint(true, false);
  int8Missing.tensors.pop_back();
  refused(int8Missing, "expected 3 packed tensors (weight, weight_scale, "
                       "weight_zero_point), got 2");
  Checkpoint badInput = quarkCheckpoint(true, true);
  badInput.tensors.back().setFloat(0, -1.0f);
  refused(badInput, "input_scale must be positive and finite");
  Checkpoint nanWeight = quarkCheckpoint(false, false);
  nanWeight.tensors[0].setBits(9, 0xff);
  refused(nanWeight, "weight[1, 1] is NaN (e4m3 code 0xff)");
  Checkpoint badArgs = quarkCheckpoint(false, false);
  badArgs.args = {0.5, 1.0};
  refused(badArgs, "static_activation");
}
