//===- RefAutoRoundTest.cpp - AutoRound reference (GPTQ/AWQ packings) ----===//
//
// auto-round's checkpoints are GPTQ or AWQ words (specs/auto-round.json);
// its reference maps the layout's args onto the gptq and awq references.
// The packed words below are written out by hand, each dequantized value
// worked out in a comment; then the error paths through the ABI (one
// message from hfq_kernel_last_error, never a crash), and the entry points'
// linear against dequantize-then-matmul and against hfq_ref_gptq /
// hfq_ref_awq on the same words.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/AutoRound.h"

#include "CheckpointBuilders.h"
#include "RefTestSupport.h"
#include "kernels/generated/MethodArgs.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hfq::kernels;
using namespace hfq::kernels::builders;
using namespace hfq::kernels::testing;

#define HFQ_DECLARE_F32_LINEAR(kernel)                                         \
  extern "C" int32_t _mlir_ciface_##kernel##_f32(                              \
      StridedMemRefType<float, 2> *, StridedMemRefType<float, 2> *,            \
      StridedMemRefType<float, 1> *, StridedMemRefType<double, 1> *,           \
      StridedMemRefType<int64_t, 2> *);
HFQ_DECLARE_F32_LINEAR(hfq_ref_auto_round_gptq)
HFQ_DECLARE_F32_LINEAR(hfq_ref_auto_round_awq)
HFQ_DECLARE_F32_LINEAR(hfq_ref_gptq)
HFQ_DECLARE_F32_LINEAR(hfq_ref_awq)
extern "C" int32_t _mlir_ciface_hfq_ref_auto_round_gptq_quantize_f32(
    StridedMemRefType<float, 2> *, StridedMemRefType<double, 1> *,
    StridedMemRefType<int64_t, 2> *);

namespace {

using LinearEntry = int32_t (*)(StridedMemRefType<float, 2> *,
                                StridedMemRefType<float, 2> *,
                                StridedMemRefType<float, 1> *,
                                StridedMemRefType<double, 1> *,
                                StridedMemRefType<int64_t, 2> *);

AutoRoundArgs argsOf(int bits, int64_t groupSize, bool zeroMinusOne,
                     bool gIdx) {
  AutoRoundArgs a;
  a.bits = bits;
  a.group_size = groupSize;
  a.zero_stored_minus_one = zeroMinusOne;
  a.g_idx = gIdx;
  return a;
}

/// Runs `entry` on x [m, k] with `bias` (empty: none); returns its status
/// and fills y [m, n].
int32_t runLinear(LinearEntry entry, const Checkpoint &ck, int64_t m, int64_t n,
                  int64_t k, std::vector<float> x, std::vector<float> bias,
                  std::vector<float> &y) {
  AbiOperands abi(ck);
  y.assign(static_cast<size_t>(m * n), NAN);
  auto xm = memref2d(x.data(), m, k), ym = memref2d(y.data(), m, n);
  auto bm = memref1d(bias.data(), static_cast<int64_t>(bias.size()));
  return entry(&ym, &xm, &bm, &abi.argsRef, &abi.tableRef);
}

/// A checkpoint of hand-written words: tensors (dtype, shape, 32-bit words
/// or f16 values) in layout order, and the args in spec order.
struct HandCheckpoint {
  Checkpoint ck;
  void words(DType dtype, std::vector<int64_t> shape,
             const std::vector<uint32_t> &bits) {
    StoredTensor &t = ck.add(dtype, std::move(shape));
    for (size_t i = 0; i < bits.size(); ++i)
      t.setBits(static_cast<int64_t>(i), bits[i]);
  }
  void f16Values(std::vector<int64_t> shape, const std::vector<float> &values) {
    StoredTensor &t = ck.add(DType::F16, std::move(shape));
    for (size_t i = 0; i < values.size(); ++i)
      t.setFloat(static_cast<int64_t>(i), values[i]);
  }
};

//===----------------------------------------------------------------------===//
// Hand-worked words
//===----------------------------------------------------------------------===//

TEST(RefAutoRound, GptqFourBitBothZeroConventions) {
  // K = 8, N = 8, group_size -1 (G = 1): qweight [1, 8], qzeros [1, 1].
  //   column 0: 0x01234567, fields LSB first q[k] = 7 - k;
  //   column 1: 0xF0F0F0F0, q = 0, 15, 0, 15, ...; other columns 0.
  //   qzeros 0x77777777: the field 7 for all eight columns.
  //   scales: column 0 0.25, column 1 2, the rest 1.
  std::vector<uint32_t> qweight = {0x01234567, 0xF0F0F0F0, 0, 0, 0, 0, 0, 0};
  std::vector<uint32_t> qzeros = {0x77777777};
  std::vector<uint16_t> scales =
      halves({0.25f, 2.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f});
  std::vector<TensorView> packed = {viewOf(qweight, DType::I32, {1, 8}),
                                    viewOf(qzeros, DType::I32, {1, 8 / 8}),
                                    viewOf(scales, DType::F16, {1, 8})};
  std::vector<float> w;
  std::string error;

  // auto_round:auto_gptq / auto_round:gptq (symmetric export): the stored 7
  // is zero - 1, z = 8.
  ASSERT_TRUE(dequantizeAutoRoundGptq(packed, 8, 8, argsOf(4, -1, true, false),
                                      w, error))
      << error;
  // W[0, k] = 0.25 * ((7 - k) - 8) = -0.25 * (k + 1): -0.25, -0.5, ..., -2.
  for (int k = 0; k < 8; ++k)
    EXPECT_EQ(w[k], -0.25f * float(k + 1)) << k;
  // W[1, k] = 2 * (0 - 8) = -16 for even k, 2 * (15 - 8) = 14 for odd k.
  for (int k = 0; k < 8; ++k)
    EXPECT_EQ(w[8 + k], k % 2 ? 14.0f : -16.0f) << k;
  // W[2, k] = 1 * (0 - 8).
  EXPECT_EQ(w[2 * 8 + 5], -8.0f);

  // The native auto_round format (and auto_round:gptqmodel) stores the zero
  // as is: the same words read z = 7.
  ASSERT_TRUE(dequantizeAutoRoundGptq(packed, 8, 8, argsOf(4, -1, false, false),
                                      w, error))
      << error;
  // W[0, k] = 0.25 * ((7 - k) - 7) = -0.25 * k: 0, -0.25, ..., -1.75.
  for (int k = 0; k < 8; ++k)
    EXPECT_EQ(w[k], -0.25f * float(k)) << k;
  // W[1, k] = 2 * (0 - 7) = -14, 2 * (15 - 7) = 16.
  EXPECT_EQ(w[8 + 0], -14.0f);
  EXPECT_EQ(w[8 + 1], 16.0f);
}

TEST(RefAutoRound, GptqThreeBitStraddlingFieldsZeroAsIs) {
  // K = 32, N = 32, 3 bits: qweight [3, 32] (32 values of a column in three
  // words), qzeros [1, 3]. Column 0 holds only q[10] = 7 = 0b111 (bits 30-32
  // of the stream: bits 30, 31 of word 0 and bit 0 of word 1) and q[21] =
  // 5 = 0b101 (bits 63-65: bit 31 of word 1 = 1, bits 0-1 of word 2 = 0b10).
  std::vector<uint32_t> qweight(3 * 32, 0);
  qweight[0 * 32] = 0xC0000000;
  qweight[1 * 32] = 0x80000001;
  qweight[2 * 32] = 0x00000002;
  // Native auto_round (asymmetric, zero as is): column 0's zero is 2 (field
  // 0 of word 0), every other column's 0.
  std::vector<uint32_t> qzeros = {0x00000002, 0, 0};
  std::vector<float> s(32, 1.0f);
  s[0] = 0.5f;
  std::vector<uint16_t> scales = halves(s);
  std::vector<TensorView> packed = {viewOf(qweight, DType::I32, {3, 32}),
                                    viewOf(qzeros, DType::I32, {1, 3}),
                                    viewOf(scales, DType::F16, {1, 32})};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeAutoRoundGptq(packed, 32, 32,
                                      argsOf(3, -1, false, false), w, error))
      << error;
  EXPECT_EQ(w[10], 2.5f); // 0.5 * (7 - 2)
  EXPECT_EQ(w[21], 1.5f); // 0.5 * (5 - 2)
  EXPECT_EQ(w[0], -1.0f); // 0.5 * (0 - 2)
  EXPECT_EQ(w[9], -1.0f);
  EXPECT_EQ(w[22], -1.0f);
  EXPECT_EQ(w[32 + 10], 0.0f); // column 1: 1 * (0 - 0)
}

TEST(RefAutoRound, GptqmodelGroupsWithGIdx) {
  // K = 16, N = 8, group_size 8 (G = 2), 4 bits, zero as is, g_idx [16].
  //   column 0: row 0 = 0x33333333 (k 0..7: q = 3), row 1 = 0x55555555
  //   (k 8..15: q = 5); qzeros group 0 0x11111111 (z = 1), group 1
  //   0x22222222 (z = 2); column 0's scales 1 (group 0) and 0.25 (group 1).
  std::vector<uint32_t> qweight(2 * 8, 0);
  qweight[0] = 0x33333333;
  qweight[8] = 0x55555555;
  std::vector<uint32_t> qzeros = {0x11111111, 0x22222222};
  std::vector<float> s(16, 1.0f);
  s[8] = 0.25f;
  std::vector<uint16_t> scales = halves(s);
  std::vector<int32_t> gIdx(16);
  for (int k = 0; k < 16; ++k)
    gIdx[k] = k / 8; // as auto-round exports it
  std::vector<TensorView> packed = {
      viewOf(qweight, DType::I32, {2, 8}), viewOf(qzeros, DType::I32, {2, 1}),
      viewOf(scales, DType::F16, {2, 8}), viewOf(gIdx, DType::I32, {16})};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeAutoRoundGptq(packed, 8, 16, argsOf(4, 8, false, true),
                                      w, error))
      << error;
  EXPECT_EQ(w[3], 2.0f);        // 1 * (3 - 1)
  EXPECT_EQ(w[12], 0.75f);      // 0.25 * (5 - 2)
  EXPECT_EQ(w[16 + 3], -1.0f);  // column 1: 1 * (0 - 1)
  EXPECT_EQ(w[16 + 12], -2.0f); // column 1: 1 * (0 - 2)

  // g_idx is read: channel 12 moved to group 0 reads 1 * (5 - 1).
  gIdx[12] = 0;
  ASSERT_TRUE(dequantizeAutoRoundGptq(packed, 8, 16, argsOf(4, 8, false, true),
                                      w, error))
      << error;
  EXPECT_EQ(w[12], 4.0f);
  gIdx[12] = 2; // G = 2
  EXPECT_FALSE(dequantizeAutoRoundGptq(packed, 8, 16, argsOf(4, 8, false, true),
                                       w, error));
  EXPECT_NE(error.find("g_idx[12] = 2 is outside [0, 2)"), std::string::npos)
      << error;
}

TEST(RefAutoRound, AwqInterleavedNibbles) {
  // K = 8, N = 8, group_size -1: qweight [8, 1], qzeros [1, 1], scales
  // [1, 8]. Row 0's word 0x76543210: nibble i holds column
  // [0, 2, 4, 6, 1, 3, 5, 7][i], so columns 0..7 of k = 0 have q = 0, 4, 1,
  // 5, 2, 6, 3, 7. qzeros 0x00000003: nibble 0 (column 0) z = 3, the rest 0.
  // Scales 1, except column 1: 0.5.
  std::vector<uint32_t> qweight = {0x76543210, 0, 0, 0, 0, 0, 0, 0};
  std::vector<uint32_t> qzeros = {0x00000003};
  std::vector<uint16_t> scales =
      halves({1.0f, 0.5f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f});
  std::vector<TensorView> packed = {viewOf(qweight, DType::I32, {8, 1}),
                                    viewOf(qzeros, DType::I32, {1, 1}),
                                    viewOf(scales, DType::F16, {1, 8})};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeAutoRoundAwq(packed, 8, 8, argsOf(4, -1, false, false),
                                     w, error))
      << error;
  // W[c, 0] = s_c * (q_c - z_c): -3, 0.5 * 4 = 2, 1, 5, 2, 6, 3, 7.
  const float k0[8] = {-3, 2, 1, 5, 2, 6, 3, 7};
  for (int c = 0; c < 8; ++c)
    EXPECT_EQ(w[c * 8 + 0], k0[c]) << c;
  // Rows k >= 1 hold q = 0: column 0 reads -3, every other column 0.
  EXPECT_EQ(w[0 * 8 + 5], -3.0f);
  EXPECT_EQ(w[6 * 8 + 5], 0.0f);
}

//===----------------------------------------------------------------------===//
// Errors: one message through the ABI, never a crash
//===----------------------------------------------------------------------===//

/// A valid 4-bit GPTQ-packed layer, K = N = 8, group -1.
HandCheckpoint smallGptq(std::vector<double> args) {
  HandCheckpoint h;
  h.ck.args = std::move(args);
  h.words(DType::I32, {1, 8}, std::vector<uint32_t>(8, 0x88888888));
  h.words(DType::I32, {1, 1}, {0x77777777});
  h.f16Values({1, 8}, std::vector<float>(8, 1.0f));
  return h;
}

/// The error `entry` reports on `ck` (K = N = 8, M = 1), or "" on success.
std::string errorOf(LinearEntry entry, const Checkpoint &ck) {
  std::vector<float> y;
  if (runLinear(entry, ck, 1, 8, 8, std::vector<float>(8, 1.0f), {}, y) == 0)
    return "";
  return hfq_kernel_last_error();
}

TEST(RefAutoRound, ErrorsThroughTheAbi) {
  const LinearEntry gptq = _mlir_ciface_hfq_ref_auto_round_gptq_f32;
  const LinearEntry awq = _mlir_ciface_hfq_ref_auto_round_awq_f32;

  // The valid layer runs: every q = 8 = z, so y = 0.
  HandCheckpoint ok = smallGptq({4, -1, 1, 0});
  std::vector<float> y;
  ASSERT_EQ(runLinear(gptq, ok.ck, 1, 8, 8, std::vector<float>(8, 1.0f), {}, y),
            0)
      << hfq_kernel_last_error();
  EXPECT_EQ(y, std::vector<float>(8, 0.0f));

  // Bits auto-round never packs (AutoRoundConfig allows 5, 6, 7).
  EXPECT_EQ(errorOf(gptq, smallGptq({5, -1, 1, 0}).ck),
            "hfq_ref_auto_round_gptq: GPTQ bits must be 2, 3, 4 or 8, got 5");
  // Args: the count, integrality, bools.
  EXPECT_EQ(errorOf(gptq, smallGptq({4, -1, 1}).ck),
            "hfq_ref_auto_round_gptq: expected 4 arguments (bits, group_size, "
            "zero_stored_minus_one, g_idx), got 3");
  EXPECT_NE(errorOf(gptq, smallGptq({4.5, -1, 1, 0}).ck).find("bits"),
            std::string::npos);
  EXPECT_NE(
      errorOf(gptq, smallGptq({4, -1, 2, 0}).ck).find("zero_stored_minus_one"),
      std::string::npos);
  EXPECT_NE(errorOf(gptq, smallGptq({4, 0, 1, 0}).ck).find("group_size"),
            std::string::npos);
  // g_idx announced but not passed.
  EXPECT_EQ(errorOf(gptq, smallGptq({4, -1, 0, 1}).ck),
            "hfq_ref_auto_round_gptq: expected 4 packed tensors (qweight, "
            "qzeros, scales, g_idx), got 3");
  // Wrong dtype and shape.
  HandCheckpoint f32Scales = smallGptq({4, -1, 1, 0});
  f32Scales.ck.tensors[2].reset(DType::F32, {1, 8});
  EXPECT_EQ(errorOf(gptq, f32Scales.ck),
            "hfq_ref_auto_round_gptq: scales must be f16[1, 8], got f32[1, 8]");
  HandCheckpoint transposed = smallGptq({4, -1, 1, 0});
  transposed.ck.tensors[0].reset(DType::I32, {8, 1});
  EXPECT_NE(errorOf(gptq, transposed.ck).find("qweight must be i32[1, 8]"),
            std::string::npos);

  // The AWQ packing: 4 bits only, no zero offset, no g_idx.
  HandCheckpoint awqOk;
  awqOk.ck.args = {4, -1, 0, 0};
  awqOk.words(DType::I32, {8, 1}, std::vector<uint32_t>(8, 0x88888888));
  awqOk.words(DType::I32, {1, 1}, {0x88888888});
  awqOk.f16Values({1, 8}, std::vector<float>(8, 1.0f));
  EXPECT_EQ(errorOf(awq, awqOk.ck), "");
  awqOk.ck.args = {8, -1, 0, 0};
  EXPECT_EQ(errorOf(awq, awqOk.ck), "hfq_ref_auto_round_awq: AWQ checkpoints "
                                    "hold 4-bit weights, got bits = 8");
  awqOk.ck.args = {4, -1, 1, 0};
  EXPECT_NE(errorOf(awq, awqOk.ck).find("stores the zero as is"),
            std::string::npos);
  awqOk.ck.args = {4, 3, 0, 0}; // K = 8 is not a multiple of 3
  EXPECT_NE(errorOf(awq, awqOk.ck).find("multiple of group_size (3)"),
            std::string::npos);
  // GPTQ words given to the AWQ kernel: qweight [1, 8] is not [8, 1].
  EXPECT_NE(errorOf(awq, smallGptq({4, -1, 0, 0}).ck)
                .find("qweight must be i32[8, 1]"),
            std::string::npos);

  // auto-round is pre-quantized only.
  std::vector<float> wt(64, 0.0f);
  auto wm = memref2d(wt.data(), 8, 8);
  AbiOperands abi(ok.ck);
  EXPECT_NE(_mlir_ciface_hfq_ref_auto_round_gptq_quantize_f32(&wm, &abi.argsRef,
                                                              &abi.tableRef),
            0);
  EXPECT_NE(std::string(hfq_kernel_last_error()).find("calibration data"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// The linear: dequantize-then-matmul, and the gptq / awq references
//===----------------------------------------------------------------------===//

/// y = x·Wᵀ + bias, accumulated in double.
std::vector<float> denseLinear(const std::vector<float> &x,
                               const std::vector<float> &w,
                               const std::vector<float> &bias, int64_t m,
                               int64_t n, int64_t k) {
  std::vector<float> y(static_cast<size_t>(m * n));
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < n; ++c) {
      double acc = bias.empty() ? 0.0 : bias[c];
      for (int64_t i = 0; i < k; ++i)
        acc += double(x[r * k + i]) * double(w[c * k + i]);
      y[static_cast<size_t>(r * n + c)] = static_cast<float>(acc);
    }
  return y;
}

void expectClose(const std::vector<float> &got, const std::vector<float> &want,
                 const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5f * (1.0f + std::fabs(want[i])))
        << what << " [" << i << "]";
}

TEST(RefAutoRound, GptqLinearIsDequantizeThenMatmul) {
  const int64_t m = 3;
  int seed = 0;
  for (int bits : {2, 3, 4, 8})
    for (bool v1 : {true, false})
      for (bool gIdx : {false, true})
        for (int64_t group : {int64_t(-1), int64_t(32)}) {
          const int64_t n = 32, k = 64;
          const std::string what = std::to_string(bits) + " bits, v1 " +
                                   std::to_string(v1) + ", g_idx " +
                                   std::to_string(gIdx) + ", group " +
                                   std::to_string(group);
          Rng rng(static_cast<unsigned>(100 + seed++));
          std::vector<uint8_t> codes;
          std::vector<int> zeros;
          // The gptq checkpoint with its g_idx [K] = k / group_size.
          Checkpoint gptqCk = gptqCheckpoint(
              {bits, v1, false, n, k, group, false}, rng, codes, zeros);
          ASSERT_TRUE(gptqCk.error.empty()) << gptqCk.error;
          // The same words as auto-round's layout passes them.
          Checkpoint ck = gptqCk;
          ck.args = {double(bits), double(group), v1 ? 1.0 : 0.0,
                     gIdx ? 1.0 : 0.0};
          if (!gIdx)
            ck.tensors.pop_back();

          const std::vector<float> x = randomNormal(m * k, 7, 1.0f),
                                   bias = randomNormal(n, 8, 0.1f);
          std::vector<float> y;
          ASSERT_EQ(runLinear(_mlir_ciface_hfq_ref_auto_round_gptq_f32, ck, m,
                              n, k, x, bias, y),
                    0)
              << hfq_kernel_last_error();
          AutoRoundArgs args;
          std::string error;
          ASSERT_TRUE(AutoRoundArgs::decode(ck.args, args, error)) << error;
          std::vector<float> w;
          ASSERT_TRUE(dequantizeAutoRoundGptq(ck.views(), n, k, args, w, error))
              << error;
          expectClose(y, denseLinear(x, w, bias, m, n, k), what);

          // The gptq reference on the same words gives the same y.
          std::vector<float> yGptq;
          ASSERT_EQ(runLinear(_mlir_ciface_hfq_ref_gptq_f32, gptqCk, m, n, k, x,
                              bias, yGptq),
                    0)
              << hfq_kernel_last_error();
          EXPECT_EQ(y, yGptq) << what;
        }
}

TEST(RefAutoRound, AwqLinearIsDequantizeThenMatmul) {
  const int64_t m = 2, n = 16, k = 64;
  for (int64_t group : {int64_t(-1), int64_t(32)}) {
    Rng rng(static_cast<unsigned>(7 + group));
    std::vector<uint8_t> codes;
    Checkpoint awqCk = awqCheckpoint(n, k, group, rng, codes);
    Checkpoint ck = awqCk;
    ck.args = {4, double(group), 0, 0};
    const std::vector<float> x = randomNormal(m * k, 9, 1.0f);
    std::vector<float> y;
    ASSERT_EQ(runLinear(_mlir_ciface_hfq_ref_auto_round_awq_f32, ck, m, n, k, x,
                        {}, y),
              0)
        << hfq_kernel_last_error();
    AutoRoundArgs args;
    std::string error;
    ASSERT_TRUE(AutoRoundArgs::decode(ck.args, args, error)) << error;
    std::vector<float> w;
    ASSERT_TRUE(dequantizeAutoRoundAwq(ck.views(), n, k, args, w, error))
        << error;
    expectClose(y, denseLinear(x, w, {}, m, n, k),
                "group " + std::to_string(group));
    std::vector<float> yAwq;
    ASSERT_EQ(
        runLinear(_mlir_ciface_hfq_ref_awq_f32, awqCk, m, n, k, x, {}, yAwq), 0)
        << hfq_kernel_last_error();
    EXPECT_EQ(y, yAwq) << group;
  }
}

} // namespace
