//===- RefRunnerTest.cpp - The reference entry points' activation types ---===//
//
// Every linear and quantize kernel of the CPU reference has f32, f16 and
// bf16 entry points from one runner (kernels/ref/Runner.h): x and the bias
// converted to f32, the same computation, y rounded once to the activation
// type. Checked on GPTQ (linear) and EETQ (quantize): a 16-bit call equals
// the f32 call on the same values, rounded.
//
//===----------------------------------------------------------------------===//

#include "CheckpointBuilders.h"
#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace hfq::kernels;
using namespace hfq::kernels::builders;
using namespace hfq::kernels::testing;

#define HFQ_DECLARE_ENTRIES(kernel, act, Storage)                              \
  extern "C" int32_t _mlir_ciface_##kernel##_##act(                            \
      StridedMemRefType<Storage, 2> *, StridedMemRefType<Storage, 2> *,        \
      StridedMemRefType<Storage, 1> *, StridedMemRefType<double, 1> *,         \
      StridedMemRefType<int64_t, 2> *);                                        \
  extern "C" int32_t _mlir_ciface_##kernel##_quantize_##act(                   \
      StridedMemRefType<Storage, 2> *, StridedMemRefType<double, 1> *,         \
      StridedMemRefType<int64_t, 2> *);

HFQ_DECLARE_ENTRIES(hfq_ref_gptq, f32, float)
HFQ_DECLARE_ENTRIES(hfq_ref_gptq, f16, uint16_t)
HFQ_DECLARE_ENTRIES(hfq_ref_gptq, bf16, uint16_t)
HFQ_DECLARE_ENTRIES(hfq_ref_eetq, f32, float)
HFQ_DECLARE_ENTRIES(hfq_ref_eetq, f16, uint16_t)
HFQ_DECLARE_ENTRIES(hfq_ref_eetq, bf16, uint16_t)

namespace {

using LinearEntry16 = int32_t (*)(StridedMemRefType<uint16_t, 2> *,
                                  StridedMemRefType<uint16_t, 2> *,
                                  StridedMemRefType<uint16_t, 1> *,
                                  StridedMemRefType<double, 1> *,
                                  StridedMemRefType<int64_t, 2> *);
using QuantizeEntry16 = int32_t (*)(StridedMemRefType<uint16_t, 2> *,
                                    StridedMemRefType<double, 1> *,
                                    StridedMemRefType<int64_t, 2> *);

/// One 16-bit activation type: its entry points and conversions.
struct Act16 {
  const char *name;
  LinearEntry16 linear;
  QuantizeEntry16 quantize;
  uint16_t (*store)(float);
  float (*load)(uint16_t);
};

const Act16 kAct16[] = {
    {"f16", _mlir_ciface_hfq_ref_gptq_f16,
     _mlir_ciface_hfq_ref_eetq_quantize_f16, floatToHalf, halfToFloat},
    {"bf16", _mlir_ciface_hfq_ref_gptq_bf16,
     _mlir_ciface_hfq_ref_eetq_quantize_bf16, floatToBf16, bf16ToFloat},
};

std::vector<uint16_t> store(const Act16 &act, const std::vector<float> &v) {
  std::vector<uint16_t> out;
  for (float f : v)
    out.push_back(act.store(f));
  return out;
}

TEST(RefRunner, SixteenBitLinearIsTheF32LinearRounded) {
  const int64_t m = 3, n = 16, k = 64;
  Rng rng(21);
  std::vector<uint8_t> codes;
  std::vector<int> zeros;
  Checkpoint ck =
      gptqCheckpoint({4, true, false, n, k, 32, false}, rng, codes, zeros);
  ASSERT_TRUE(ck.error.empty()) << ck.error;
  AbiOperands abi(ck);
  const std::vector<float> x = randomNormal(m * k, 3, 1.0f),
                           bias = randomNormal(n, 4, 0.1f);
  for (const Act16 &act : kAct16) {
    SCOPED_TRACE(act.name);
    // The f32 call on exactly the values the 16-bit call receives.
    std::vector<uint16_t> x16 = store(act, x), b16 = store(act, bias);
    std::vector<float> x32, b32, y32(m * n);
    for (uint16_t v : x16)
      x32.push_back(act.load(v));
    for (uint16_t v : b16)
      b32.push_back(act.load(v));
    auto xm = memref2d(x32.data(), m, k), ym = memref2d(y32.data(), m, n);
    auto bm = memref1d(b32.data(), n);
    ASSERT_EQ(_mlir_ciface_hfq_ref_gptq_f32(&ym, &xm, &bm, &abi.argsRef,
                                            &abi.tableRef),
              0)
        << hfq_kernel_last_error();

    std::vector<uint16_t> y16(m * n, 0);
    auto x16m = memref2d(x16.data(), m, k), y16m = memref2d(y16.data(), m, n);
    auto b16m = memref1d(b16.data(), n);
    ASSERT_EQ(act.linear(&y16m, &x16m, &b16m, &abi.argsRef, &abi.tableRef), 0)
        << hfq_kernel_last_error();
    size_t inexact = 0;
    for (size_t i = 0; i < y16.size(); ++i) {
      EXPECT_EQ(y16[i], act.store(y32[i])) << i;
      inexact += act.load(y16[i]) != y32[i];
    }
    EXPECT_GT(inexact, 0u); // the rounding happened
  }
}

TEST(RefRunner, SixteenBitQuantizeIsTheF32QuantizeOfTheSameValues) {
  const int64_t n = 64, k = 64;
  Rng rng(8);
  std::vector<uint8_t> codes;
  for (const Act16 &act : kAct16) {
    SCOPED_TRACE(act.name);
    std::vector<uint16_t> w16 = store(act, randomNormal(n * k, 9, 0.05f));
    std::vector<float> w32;
    for (uint16_t v : w16)
      w32.push_back(act.load(v));
    // Output buffers of the layout's dtypes and shapes, zeroed.
    Checkpoint from32 = eetqCheckpoint(n, k, rng, codes),
               from16 = eetqCheckpoint(n, k, rng, codes);
    for (Checkpoint *ck : {&from32, &from16})
      for (StoredTensor &t : ck->tensors)
        std::fill(t.bytes.begin(), t.bytes.end(), 0);
    AbiOperands abi32(from32), abi16(from16);
    auto w32m = memref2d(w32.data(), n, k);
    auto w16m = memref2d(w16.data(), n, k);
    ASSERT_EQ(_mlir_ciface_hfq_ref_eetq_quantize_f32(&w32m, &abi32.argsRef,
                                                     &abi32.tableRef),
              0)
        << hfq_kernel_last_error();
    ASSERT_EQ(act.quantize(&w16m, &abi16.argsRef, &abi16.tableRef), 0)
        << hfq_kernel_last_error();
    for (size_t t = 0; t < from32.tensors.size(); ++t)
      EXPECT_EQ(from16.tensors[t].bytes, from32.tensors[t].bytes) << t;
    EXPECT_NE(from32.tensors[0].bytes, std::vector<uint8_t>(n * k, 0));
  }
}

TEST(RefRunner, SixteenBitErrorsLeaveYUntouched) {
  Rng rng(2);
  std::vector<uint8_t> codes;
  std::vector<int> zeros;
  Checkpoint ck =
      gptqCheckpoint({4, true, true, 16, 64, -1, false}, rng, codes, zeros);
  AbiOperands abi(ck);
  std::vector<uint16_t> x(2 * 32, 0x3C00), y(2 * 16, 0x1234), bias;
  const std::vector<uint16_t> before = y;
  auto xm = memref2d(x.data(), 2, 32), ym = memref2d(y.data(), 2, 16);
  auto bm = memref1d(bias.data(), 0);
  for (const Act16 &act : kAct16) {
    EXPECT_NE(act.linear(&ym, &xm, &bm, &abi.argsRef, &abi.tableRef), 0);
    EXPECT_NE(std::string(hfq_kernel_last_error()).find("hfq_ref_gptq: "),
              std::string::npos)
        << hfq_kernel_last_error();
    EXPECT_EQ(y, before) << act.name;
    EXPECT_NE(act.linear(nullptr, &xm, &bm, &abi.argsRef, &abi.tableRef), 0);
    EXPECT_STREQ(hfq_kernel_last_error(),
                 "hfq_ref_gptq: null memref descriptor");
  }
}

} // namespace
