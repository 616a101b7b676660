//===- RepackTest.cpp - Checkpoint -> QuantWeight against the reference ---===//
//
// For every format quantWeightFromCheckpoint covers: random codes, scales
// and zeros (a fixed-seed mt19937 per test) packed into checkpoint tensors
// exactly as the layout stores them (test/unit/CheckpointBuilders.h, shared
// with the CUDA entry-point test), odd-but-legal N and K; the reference
// weight comes from the method's CPU reference entry point through the
// kernel ABI (y = I·Wᵀ for the K×K identity, which referenceLinear returns
// exactly: one non-zero product per output), so the converter is checked
// against what the reference kernel receives and computes, arguments
// included. Integer / Symmetric conversions must match bit for bit, Offset
// ones to a relative 1e-6. Then QuantWeight's own formulas and invariants,
// and the refusals and malformed inputs.
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/FromCheckpoint.h"
#include "kernels/repack/QuantWeight.h"

#include "kernels/include/hfq_kernels.h"
#include "kernels/ref/Bitsandbytes.h"
#include "kernels/ref/Quanto.h"
#include "kernels/abi/StoredTensor.h"
#include "test/unit/CheckpointBuilders.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

using namespace hfq::kernels;
using namespace hfq::kernels::builders;

using RefEntry = int32_t (*)(StridedMemRefType<float, 2> *,
                             StridedMemRefType<float, 2> *,
                             StridedMemRefType<float, 1> *,
                             StridedMemRefType<double, 1> *,
                             StridedMemRefType<int64_t, 2> *);

#define HFQ_DECLARE_REF_ENTRY(kernel)                                          \
  extern "C" int32_t _mlir_ciface_##kernel##_f32(                              \
      StridedMemRefType<float, 2> *, StridedMemRefType<float, 2> *,            \
      StridedMemRefType<float, 1> *, StridedMemRefType<double, 1> *,           \
      StridedMemRefType<int64_t, 2> *);

HFQ_DECLARE_REF_ENTRY(hfq_ref_gptq)
HFQ_DECLARE_REF_ENTRY(hfq_ref_awq)
HFQ_DECLARE_REF_ENTRY(hfq_ref_compressed_tensors)
HFQ_DECLARE_REF_ENTRY(hfq_ref_hqq)
HFQ_DECLARE_REF_ENTRY(hfq_ref_torchao)
HFQ_DECLARE_REF_ENTRY(hfq_ref_quanto)
HFQ_DECLARE_REF_ENTRY(hfq_ref_eetq)

namespace {

//===----------------------------------------------------------------------===//
// Checkpoints and the reference entry points
//===----------------------------------------------------------------------===//

/// W [n, k] as the reference entry point computes it: the linear of the
/// K×K identity is y[i, c] = W[c, i], exactly.
bool referenceWeight(RefEntry entry, const Checkpoint &ckpt, int64_t n,
                     int64_t k, std::vector<float> &w, std::string &error) {
  if (!ckpt.error.empty()) {
    error = "building the checkpoint: " + ckpt.error;
    return false;
  }
  std::vector<float> x(static_cast<size_t>(k * k), 0.0f);
  for (int64_t i = 0; i < k; ++i)
    x[static_cast<size_t>(i * k + i)] = 1.0f;
  std::vector<float> y(static_cast<size_t>(k * n), 0.0f);
  float noBias = 0.0f;
  AbiOperands abi(ckpt);
  StridedMemRefType<float, 2> ym = memref2d(y.data(), k, n);
  StridedMemRefType<float, 2> xm = memref2d(x.data(), k, k);
  StridedMemRefType<float, 1> bm = memref1d(&noBias, 0);
  if (entry(&ym, &xm, &bm, &abi.argsRef, &abi.tableRef) != 0) {
    error = hfq_kernel_last_error();
    return false;
  }
  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t c = 0; c < n; ++c)
      w[static_cast<size_t>(c * k + i)] = y[static_cast<size_t>(i * n + c)];
  return true;
}

/// Converts `ckpt` (must succeed and verify).
QuantWeight convert(const std::string &method, const Checkpoint &ckpt,
                    int64_t n, int64_t k) {
  EXPECT_EQ(ckpt.error, "");
  QuantWeight out;
  std::string error;
  EXPECT_TRUE(quantWeightFromCheckpoint(method, ckpt.args, ckpt.views(), n, k,
                                        out, error))
      << error;
  std::string why;
  EXPECT_TRUE(out.verify(why)) << why;
  return out;
}

/// The conversion's error (the conversion must fail).
std::string convertError(const std::string &method, const Checkpoint &ckpt,
                         int64_t n, int64_t k) {
  EXPECT_EQ(ckpt.error, "");
  QuantWeight out;
  std::string error;
  EXPECT_FALSE(quantWeightFromCheckpoint(method, ckpt.args, ckpt.views(), n, k,
                                         out, error));
  EXPECT_FALSE(error.empty());
  return error;
}

#define EXPECT_HAS(haystack, needle)                                           \
  do {                                                                         \
    const std::string hfqMessage = (haystack);                                 \
    EXPECT_NE(hfqMessage.find(needle), std::string::npos)                      \
        << "message: " << hfqMessage;                                          \
  } while (0)

/// Every element equal (as floats: +0 == -0).
void expectSameWeight(const std::vector<float> &got,
                      const std::vector<float> &want) {
  ASSERT_EQ(got.size(), want.size());
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(got[i] == want[i]) && bad++ == 0)
      first = i;
  EXPECT_EQ(bad, 0u) << "first difference at " << first << ": "
                     << (bad ? got[first] : 0.0f) << " vs "
                     << (bad ? want[first] : 0.0f);
}

/// Offset weights: |got - want| <= 1e-6 * max(|want|, |zero'|) (zero' the
/// element's additive zero, which bounds what cancellation can leave). With
/// `mostlyExact`, more than half of the elements must also be bit-exact.
void expectCloseWeight(const QuantWeight &qw, const std::vector<float> &want,
                       bool mostlyExact = true) {
  const std::vector<float> got = qw.dequantize();
  ASSERT_EQ(got.size(), want.size());
  size_t bad = 0, first = 0, exact = 0;
  for (int64_t nn = 0; nn < qw.n; ++nn)
    for (int64_t kk = 0; kk < qw.k; ++kk) {
      const size_t i = static_cast<size_t>(nn * qw.k + kk);
      const float z =
          qw.zero.empty()
              ? 0.0f
              : qw.zero[static_cast<size_t>(qw.groupOf(kk) * qw.n + nn)];
      const float tol = 1e-6f * std::max(std::fabs(want[i]), std::fabs(z));
      exact += got[i] == want[i];
      if (!(std::fabs(got[i] - want[i]) <= tol) && bad++ == 0)
        first = i;
    }
  EXPECT_EQ(bad, 0u) << "first difference at " << first << ": "
                     << (bad ? got[first] : 0.0f) << " vs "
                     << (bad ? want[first] : 0.0f);
  // Not a tolerance in disguise: most elements must be exact anyway.
  if (mostlyExact)
    EXPECT_GT(exact, got.size() / 2);
}

std::vector<float> refOrFail(RefEntry entry, const Checkpoint &ckpt, int64_t n,
                             int64_t k) {
  std::vector<float> w;
  std::string error;
  EXPECT_TRUE(referenceWeight(entry, ckpt, n, k, w, error)) << error;
  return w;
}

//===----------------------------------------------------------------------===//
// QuantWeight
//===----------------------------------------------------------------------===//

QuantWeight tiny(ZeroKind kind) {
  // n = 2, k = 4, two groups of 2.
  QuantWeight w;
  w.bits = 4;
  w.n = 2;
  w.k = 4;
  w.groupSize = 2;
  w.zeroKind = kind;
  w.q = {0, 1, 2, 15, 8, 9, 10, 7};
  w.scale = {0.5f, 2.0f, 0.25f, -1.0f}; // [g][n]
  if (kind != ZeroKind::Symmetric)
    w.zero = {1.0f, 3.0f, 15.0f, 0.0f};
  return w;
}

TEST(RepackQuantWeight, FormulasByHand) {
  std::string error;
  QuantWeight sym = tiny(ZeroKind::Symmetric);
  ASSERT_TRUE(sym.verify(error)) << error;
  // (q - 8) * scale[g][n]
  EXPECT_EQ(sym.dequantize(), (std::vector<float>{-4.0f, -3.5f, -1.5f, 1.75f,
                                                  0.0f, 2.0f, -2.0f, 1.0f}));
  QuantWeight integer = tiny(ZeroKind::Integer);
  ASSERT_TRUE(integer.verify(error)) << error;
  // (q - zero[g][n]) * scale[g][n]
  EXPECT_EQ(integer.dequantize(),
            (std::vector<float>{-0.5f, 0.0f, -3.25f, 0.0f, 10.0f, 12.0f, -10.0f,
                                -7.0f}));
  QuantWeight offset = tiny(ZeroKind::Offset);
  ASSERT_TRUE(offset.verify(error)) << error;
  // q * scale[g][n] + zero[g][n]
  EXPECT_EQ(offset.dequantize(),
            (std::vector<float>{1.0f, 1.5f, 15.5f, 18.75f, 19.0f, 21.0f, -10.0f,
                                -7.0f}));
  EXPECT_EQ(offset.weight(1, 2), -10.0f);

  // Act order: k = 0, 3 in group 1; k = 1, 2 in group 0.
  integer.gIdx = {1, 0, 0, 1};
  ASSERT_TRUE(integer.verify(error)) << error;
  EXPECT_EQ(integer.groupOf(0), 1);
  EXPECT_EQ(integer.weight(0, 0), (0.0f - 15.0f) * 0.25f);
  EXPECT_EQ(integer.weight(0, 1), (1.0f - 1.0f) * 0.5f);
  EXPECT_EQ(integer.weight(1, 3), (7.0f - 0.0f) * -1.0f);
}

TEST(RepackQuantWeight, VerifyNamesEachBrokenInvariant) {
  struct Case {
    const char *expect;
    void (*breakIt)(QuantWeight &);
  };
  const Case cases[] = {
      {"bits must be in [2, 8], got 9", [](QuantWeight &w) { w.bits = 9; }},
      {"bits must be in [2, 8], got 1", [](QuantWeight &w) { w.bits = 1; }},
      {"n and k must be", [](QuantWeight &w) { w.n = 0; }},
      {"groupSize (3)", [](QuantWeight &w) { w.groupSize = 3; }},
      {"groupSize (0)", [](QuantWeight &w) { w.groupSize = 0; }},
      {"q has 7 codes", [](QuantWeight &w) { w.q.pop_back(); }},
      {"scale has 5 values", [](QuantWeight &w) { w.scale.push_back(1); }},
      {"zero has 4 values, expected 0",
       [](QuantWeight &w) { w.zeroKind = ZeroKind::Symmetric; }},
      {"zero has 0 values",
       [](QuantWeight &w) {
         w.zeroKind = ZeroKind::Offset;
         w.zero.clear();
       }},
      {"gIdx has 3 entries",
       [](QuantWeight &w) {
         w.gIdx = {0, 1, 0};
       }},
      {"gIdx[1] = 2",
       [](QuantWeight &w) {
         w.gIdx = {0, 2, 1, 1};
       }},
      {"group 0 has 3 input channels",
       [](QuantWeight &w) {
         w.gIdx = {0, 0, 1, 0};
       }},
      {"code 16 at [1, 2]", [](QuantWeight &w) { w.q[6] = 16; }},
      {"Integer zero[1][0] = 2.5", [](QuantWeight &w) { w.zero[2] = 2.5f; }},
      {"Integer zero[0][1] = 16", [](QuantWeight &w) { w.zero[1] = 16.0f; }},
      {"Integer zero[0][0] = -1", [](QuantWeight &w) { w.zero[0] = -1.0f; }},
      {"scale[1][1] is not finite",
       [](QuantWeight &w) { w.scale[3] = INFINITY; }},
      {"zero[0][1] is not finite", [](QuantWeight &w) { w.zero[1] = NAN; }},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.expect);
    QuantWeight w = tiny(ZeroKind::Integer);
    std::string error;
    ASSERT_TRUE(w.verify(error)) << error;
    c.breakIt(w);
    EXPECT_FALSE(w.verify(error));
    EXPECT_HAS(error, c.expect);
  }
  // 8-bit codes may use the whole byte.
  QuantWeight w = tiny(ZeroKind::Integer);
  w.bits = 8;
  w.q[0] = 255;
  w.zero[0] = 255.0f;
  std::string error;
  EXPECT_TRUE(w.verify(error)) << error;
}

//===----------------------------------------------------------------------===//
// gptq
//===----------------------------------------------------------------------===//

void checkGptq(const GptqCase &c, unsigned seed) {
  SCOPED_TRACE("bits " + std::to_string(c.bits) + (c.v1 ? " v1" : " v2") +
               (c.sym ? " sym" : " asym") + " N " + std::to_string(c.n) +
               " K " + std::to_string(c.k) + " g " +
               std::to_string(c.groupSize) + (c.actOrder ? " act-order" : ""));
  Rng rng(seed);
  std::vector<uint8_t> codes;
  std::vector<int> zeros;
  Checkpoint ck = gptqCheckpoint(c, rng, codes, zeros);
  QuantWeight qw = convert("gptq", ck, c.n, c.k);
  EXPECT_EQ(qw.bits, c.bits);
  EXPECT_EQ(qw.groupSize, c.groupSize == -1 ? c.k : c.groupSize);
  EXPECT_EQ(qw.zeroKind, c.sym ? ZeroKind::Symmetric : ZeroKind::Integer);
  EXPECT_EQ(qw.q, codes);
  EXPECT_EQ(qw.gIdx.empty(), !c.actOrder);
  if (!c.sym)
    for (size_t i = 0; i < zeros.size(); ++i)
      ASSERT_EQ(qw.zero[i], float(zeros[i])) << i;
  expectSameWeight(qw.dequantize(),
                   refOrFail(_mlir_ciface_hfq_ref_gptq_f32, ck, c.n, c.k));
}

TEST(RepackGptq, FourAndEightBitBothZeroConventions) {
  unsigned seed = 100;
  for (int bits : {4, 8})
    for (bool v1 : {true, false})
      for (bool sym : {false, true}) {
        // N and K: multiples of the 32/b packing, otherwise awkward.
        checkGptq({bits, v1, sym, 24, 96, 32, false}, seed++);
        checkGptq({bits, v1, sym, 40, 72, -1, false}, seed++);
        checkGptq({bits, v1, sym, 8, 56, 8, false}, seed++);
      }
  checkGptq({8, true, false, 12, 60, 20, false}, seed++);
  checkGptq({8, false, false, 4, 12, 4, false}, seed++);
}

TEST(RepackGptq, TwoAndThreeBitMatchTheReference) {
  // Read like 4/8-bit (3-bit fields straddle words); packForKernel widens
  // them for hfq_gptq_generic.
  unsigned seed = 200;
  for (int bits : {2, 3})
    for (bool v1 : {true, false}) {
      checkGptq({bits, v1, false, 32, 128, 32, false}, seed++);
      checkGptq({bits, v1, true, 64, 96, -1, false}, seed++);
      checkGptq({bits, v1, false, 32, 256, 64, true}, seed++);
    }
}

TEST(RepackGptq, ActOrderPermutationIsKeptAndMatches) {
  checkGptq({4, true, false, 16, 128, 32, true}, 7);
  checkGptq({4, false, false, 24, 96, 16, true}, 8);
  checkGptq({8, true, true, 12, 40, 8, true}, 9);
}

TEST(RepackGptq, TrivialGIdxIsDropped) {
  Rng rng(11);
  std::vector<uint8_t> codes;
  std::vector<int> zeros;
  GptqCase c{4, true, false, 8, 64, 16, false};
  Checkpoint ck = gptqCheckpoint(c, rng, codes, zeros);
  QuantWeight qw = convert("gptq", ck, c.n, c.k);
  EXPECT_TRUE(qw.gIdx.empty());
  // A g_idx with neither data nor shape is what the reference reads as
  // k / group_size too.
  std::vector<TensorView> views = ck.views();
  views[3] = TensorView();
  QuantWeight bare;
  std::string error;
  ASSERT_TRUE(
      quantWeightFromCheckpoint("gptq", ck.args, views, c.n, c.k, bare, error))
      << error;
  EXPECT_EQ(bare.q, qw.q);
  EXPECT_EQ(bare.zero, qw.zero);
  EXPECT_TRUE(bare.gIdx.empty());
}

TEST(RepackGptq, V1OverflowZeroBecomesExactOffset) {
  // v1 stores zero - 1; a stored 15 reads back as zero 16, outside the
  // 4-bit code range: the weight becomes Offset (zero' = -16 * s), still
  // bit-exact against the reference.
  Rng rng(12);
  std::vector<uint8_t> codes;
  std::vector<int> zeros;
  GptqCase c{4, true, false, 16, 64, 32, false};
  Checkpoint ck = gptqCheckpoint(c, rng, codes, zeros);
  ck.tensors[1].setBits(0, ck.tensors[1].bitsAt(0) | 0xfu); // column 0
  QuantWeight qw = convert("gptq", ck, c.n, c.k);
  EXPECT_EQ(qw.zeroKind, ZeroKind::Offset);
  EXPECT_EQ(qw.zero[0], -16.0f * qw.scale[0]);
  expectSameWeight(qw.dequantize(),
                   refOrFail(_mlir_ciface_hfq_ref_gptq_f32, ck, c.n, c.k));
}

TEST(RepackGptq, GroupWithWrongMemberCountIsRefused) {
  Rng rng(13);
  std::vector<uint8_t> codes;
  std::vector<int> zeros;
  GptqCase c{4, false, false, 8, 64, 16, true};
  Checkpoint ck = gptqCheckpoint(c, rng, codes, zeros);
  // Move channel 5 to another group: one group gets 17 members, one 15.
  // Every entry is still a valid group, so the reference accepts it.
  const uint32_t old = ck.tensors[3].bitsAt(5);
  ck.tensors[3].setBits(5, (old + 1) % 4);
  std::vector<float> w;
  std::string refError;
  EXPECT_TRUE(
      referenceWeight(_mlir_ciface_hfq_ref_gptq_f32, ck, c.n, c.k, w, refError))
      << refError;
  std::string error = convertError("gptq", ck, c.n, c.k);
  EXPECT_HAS(error, "gptq: QuantWeight: act-order group");
  EXPECT_HAS(error, "expected groupSize = 16");
}

TEST(RepackGptq, Refusals) {
  Rng rng(14);
  std::vector<uint8_t> codes;
  std::vector<int> zeros;
  const GptqCase base{4, true, false, 16, 64, 32, false};
  const Checkpoint good = gptqCheckpoint(base, rng, codes, zeros);
  convert("gptq", good, 16, 64);

  // 3-bit: K and N must fill whole words (32 fields in three).
  Checkpoint three = gptqCheckpoint({3, true, false, 32, 64, 32, false}, rng, codes, zeros);
  EXPECT_HAS(convertError("gptq", three, 32, 48),
             "K (48) must be a multiple of 32 to pack 3-bit GPTQ weights");
  Checkpoint ck = good;
  ck.args = {4, 32};
  EXPECT_HAS(convertError("gptq", ck, 16, 64),
             "expected 3 arguments (bits, group_size, zero_stored_minus_one)");
  ck.args = {4.5, 32, 1};
  EXPECT_HAS(convertError("gptq", ck, 16, 64), "bits must be an integer");
  ck.args = {NAN, 32, 1};
  EXPECT_HAS(convertError("gptq", ck, 16, 64), "bits must be an integer");
  ck.args = {4, 0, 1};
  EXPECT_HAS(convertError("gptq", ck, 16, 64), "group_size must be positive");
  ck.args = {4, 32, 2};
  EXPECT_HAS(convertError("gptq", ck, 16, 64), "zero_stored_minus_one");

  ck = good;
  ck.tensors.pop_back();
  EXPECT_HAS(convertError("gptq", ck, 16, 64), "expected 4 packed tensors");
  ck = good;
  ck.tensors[2].reset(DType::F32, {2, 16});
  EXPECT_HAS(convertError("gptq", ck, 16, 64),
             "scales must be f16[2, 16], got f32[2, 16]");
  ck = good;
  ck.tensors[1].reset(DType::I32, {2, 1});
  EXPECT_HAS(convertError("gptq", ck, 16, 64), "qzeros must be i32[2, 2]");
  // N not a multiple of the zero packing.
  EXPECT_HAS(convertError("gptq", good, 12, 64), "N (12) must be a multiple");
  ck = good;
  ck.tensors[3].setBits(7, 2);
  EXPECT_HAS(convertError("gptq", ck, 16, 64), "g_idx[7] = 2 is outside");
  ck = good;
  ck.tensors[2].setFloat(3, INFINITY);
  EXPECT_HAS(convertError("gptq", ck, 16, 64), "scale[0][3] is not finite");

  // K = 72 with group_size 32: three groups, the last short. The reference
  // serves it; the repacked layout needs whole groups.
  ck = gptqCheckpoint({4, false, false, 8, 72, 32, false}, rng, codes, zeros);
  std::vector<float> w;
  std::string refError;
  EXPECT_TRUE(
      referenceWeight(_mlir_ciface_hfq_ref_gptq_f32, ck, 8, 72, w, refError))
      << refError;
  EXPECT_HAS(convertError("gptq", ck, 8, 72),
             "K (72) must be a multiple of group_size (32)");
}

//===----------------------------------------------------------------------===//
// awq
//===----------------------------------------------------------------------===//

TEST(RepackAwq, GemmMatchesReference) {
  Rng rng(20);
  for (auto [n, k, g] : {std::tuple<int64_t, int64_t, int64_t>{24, 96, 32},
                         {40, 48, -1},
                         {8, 200, 40}}) {
    SCOPED_TRACE("N " + std::to_string(n) + " K " + std::to_string(k));
    std::vector<uint8_t> codes;
    Checkpoint ck = awqCheckpoint(n, k, g, rng, codes);
    QuantWeight qw = convert("awq", ck, n, k);
    EXPECT_EQ(qw.zeroKind, ZeroKind::Integer);
    EXPECT_EQ(qw.q, codes);
    expectSameWeight(qw.dequantize(),
                     refOrFail(_mlir_ciface_hfq_ref_awq_f32, ck, n, k));
  }
}

TEST(RepackAwq, Refusals) {
  Rng rng(21);
  std::vector<uint8_t> codes;
  const Checkpoint good = awqCheckpoint(16, 64, 32, rng, codes);
  Checkpoint ck = good;
  ck.args[2] = 1;
  EXPECT_HAS(convertError("awq", ck, 16, 64), "AWQ gemv");
  ck.args[2] = 2;
  EXPECT_HAS(convertError("awq", ck, 16, 64), "gemv_fast");
  ck.args[2] = 3;
  EXPECT_HAS(convertError("awq", ck, 16, 64), "version must be an integer");
  ck = good;
  ck.args[0] = 8;
  EXPECT_HAS(convertError("awq", ck, 16, 64), "4-bit weights, got bits = 8");
  ck = good;
  ck.tensors[0].reset(DType::I32, {64, 16});
  EXPECT_HAS(convertError("awq", ck, 16, 64), "qweight must be i32[64, 2]");
  ck = good;
  ck.args = {4, 32, 0, 0};
  EXPECT_HAS(convertError("awq", ck, 16, 64), "expected 3 arguments");
}

//===----------------------------------------------------------------------===//
// compressed-tensors
//===----------------------------------------------------------------------===//

void checkCt(const CtCase &c, unsigned seed) {
  static const char *strategies[] = {"tensor", "channel", "group"};
  SCOPED_TRACE(std::string(c.format == CtPacked ? "pack" : "int") + " " +
               std::to_string(c.bits) + "-bit " + strategies[c.strategy] +
               (c.asym ? " asym" : " sym") + " N " + std::to_string(c.n) +
               " K " + std::to_string(c.k) + (c.actOrder ? " act-order" : ""));
  Rng rng(seed);
  std::vector<uint8_t> codes;
  Checkpoint ck = ctCheckpoint(c, rng, codes);
  QuantWeight qw = convert("compressed-tensors", ck, c.n, c.k);
  EXPECT_EQ(qw.bits, c.bits);
  EXPECT_EQ(qw.groupSize, c.strategy == CtGroup ? c.groupSize : c.k);
  EXPECT_EQ(qw.q, codes);
  EXPECT_EQ(qw.gIdx.empty(), !c.actOrder);
  // An asymmetric scheme whose zero points all happen to be 0 would be
  // Symmetric; with random zero points that does not happen here.
  EXPECT_EQ(qw.zeroKind, c.asym ? ZeroKind::Integer : ZeroKind::Symmetric);
  expectSameWeight(
      qw.dequantize(),
      refOrFail(_mlir_ciface_hfq_ref_compressed_tensors_f32, ck, c.n, c.k));
}

TEST(RepackCompressedTensors, PackQuantizedMatchesReference) {
  unsigned seed = 300;
  for (int bits : {4, 8})
    for (bool asym : {false, true}) {
      checkCt({CtPacked, bits, CtGroup, asym, 20, 96, 32, false}, seed++);
      checkCt({CtPacked, bits, CtGroup, asym, 13, 60, 12, false}, seed++);
      checkCt({CtPacked, bits, CtChannel, asym, 11, 70, 0, false}, seed++);
      checkCt({CtPacked, bits, CtTensor, asym, 9, 37, 0, false}, seed++);
      checkCt({CtPacked, bits, CtGroup, asym, 7, 64, 16, true}, seed++);
    }
}

TEST(RepackCompressedTensors, IntQuantizedMatchesReference) {
  unsigned seed = 400;
  for (CtFormat format : {CtInt, CtNaive})
    for (bool asym : {false, true}) {
      checkCt({format, 8, CtChannel, asym, 19, 45, 0, false}, seed++);
      checkCt({format, 8, CtGroup, asym, 6, 96, 24, false}, seed++);
      checkCt({format, 8, CtTensor, asym, 5, 33, 0, false}, seed++);
      checkCt({format, 4, CtGroup, asym, 10, 64, 32, true}, seed++);
    }
}

TEST(RepackCompressedTensors, MinusOneGIdxMeansColumnOrder) {
  Rng rng(410);
  std::vector<uint8_t> codes;
  CtCase c{CtPacked, 4, CtGroup, false, 8, 64, 16, true};
  Checkpoint ck = ctCheckpoint(c, rng, codes);
  ck.tensors[2].setBits(9, 0xffffffffu); // weight_g_idx[9] = -1
  QuantWeight qw = convert("compressed-tensors", ck, c.n, c.k);
  EXPECT_TRUE(qw.gIdx.empty());
  expectSameWeight(
      qw.dequantize(),
      refOrFail(_mlir_ciface_hfq_ref_compressed_tensors_f32, ck, c.n, c.k));
}

TEST(RepackCompressedTensors, Refusals) {
  Rng rng(420);
  std::vector<uint8_t> codes;
  const Checkpoint good =
      ctCheckpoint({CtInt, 8, CtChannel, false, 8, 32, 0, false}, rng, codes);
  convert("compressed-tensors", good, 8, 32);

  // W8A8 with dynamic int activations: the reference runs it; there is no
  // weight-only layout for it.
  Checkpoint ck = good;
  ck.args[8] = 1;
  std::vector<float> w;
  std::string refError;
  EXPECT_TRUE(referenceWeight(_mlir_ciface_hfq_ref_compressed_tensors_f32, ck,
                              8, 32, w, refError))
      << refError;
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 32),
             "activation-quantized schemes (input_activations, input_mode 1)");
  ck.args[8] = 2;
  ck.add(DType::BF16, {1}).setFloat(0, 1.0f);
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 32), "input_mode 2");

  // fp8 float-quantized.
  ck = Checkpoint();
  ck.args = {0, 0, 3, 8, 1, 0, 0, 0, 0};
  ck.add(DType::F8E4M3FN, {8, 32});
  ck.add(DType::BF16, {8, 1});
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 32),
             "float-quantized (fp8) weights");

  ck = good;
  ck.args[4] = 3;
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 32), "block strategy");
  ck = ctCheckpoint({CtPacked, 2, CtChannel, false, 8, 32, 0, false}, rng,
                    codes);
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 32),
             "num_bits=2 is served by the generic kernel");
  ck = ctCheckpoint({CtPacked, 4, CtGroup, true, 8, 64, 16, false}, rng, codes);
  ck.tensors[3].setBits(1, 65);
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 64),
             "weight_shape is [8, 65], expected [8, 64]");
  ck = good;
  ck.args = {0, 0, 1, 8, 1, 0, 0, 0};
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 32),
             "expected 9 arguments");
  ck = good;
  ck.args[7] = 1; // g_idx with the channel strategy
  ck.add(DType::I32, {32});
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 32),
             "weight_g_idx is only used with the group strategy");
  ck = ctCheckpoint({CtInt, 4, CtChannel, false, 8, 32, 0, false}, rng, codes);
  ck.tensors[0].setBits(5, static_cast<uint32_t>(-128) & 0xffu);
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 32),
             "weight value -128 at 5 is outside the signed 4-bit range");
  ck = good;
  ck.tensors[1].reset(DType::I32, {8, 1});
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 32),
             "weight_scale must be f16, bf16 or f32[8, 1], got i32[8, 1]");
  // A short last group: the reference serves it, the kernels do not.
  ck =
      ctCheckpoint({CtPacked, 4, CtGroup, false, 8, 40, 16, false}, rng, codes);
  EXPECT_TRUE(referenceWeight(_mlir_ciface_hfq_ref_compressed_tensors_f32, ck,
                              8, 40, w, refError))
      << refError;
  EXPECT_HAS(convertError("compressed-tensors", ck, 8, 40),
             "K (40) must be a multiple of group_size (16)");
}

//===----------------------------------------------------------------------===//
// hqq
//===----------------------------------------------------------------------===//

TEST(RepackHqq, AxisOneMatchesReference) {
  Rng rng(500);
  struct Case {
    int nbits;
    int64_t n, k, g;
    bool vaf;
  };
  for (const Case &c : {Case{4, 10, 96, 32, false}, Case{4, 6, 40, 0, false},
                        Case{4, 6, 128, 64, true}, Case{8, 9, 48, 16, false},
                        Case{8, 5, 22, 0, true}, Case{6, 3, 64, 32, false},
                        Case{5, 4, 30, 10, false}}) {
    SCOPED_TRACE("nbits " + std::to_string(c.nbits) + " N " +
                 std::to_string(c.n) + " K " + std::to_string(c.k) + " g " +
                 std::to_string(c.g));
    std::vector<uint8_t> codes;
    Checkpoint ck = hqqCheckpoint(c.nbits, c.n, c.k, c.g, c.vaf, rng, codes);
    QuantWeight qw = convert("hqq", ck, c.n, c.k);
    EXPECT_EQ(qw.bits, c.nbits == 4 ? 4 : 8);
    EXPECT_EQ(qw.zeroKind, ZeroKind::Offset);
    EXPECT_EQ(qw.groupSize, c.g == 0 ? c.k : c.g);
    EXPECT_EQ(qw.q, codes);
    // zero' = -zero * scale, from the stored f16 values (an exact product).
    // qw.zero[1] is group 0 of row 1: grouped row K / g.
    const int64_t m = qw.k / qw.groupSize;
    EXPECT_EQ(qw.zero[1],
              -(ck.tensors[2].view().at(m) * ck.tensors[1].view().at(m)));
    expectCloseWeight(qw,
                      refOrFail(_mlir_ciface_hfq_ref_hqq_f32, ck, c.n, c.k));
  }
}

TEST(RepackHqq, Refusals) {
  Rng rng(510);
  std::vector<uint8_t> codes;
  const Checkpoint good = hqqCheckpoint(4, 8, 64, 32, false, rng, codes);
  Checkpoint ck = good;
  ck.args[2] = 0;
  EXPECT_HAS(convertError("hqq", ck, 8, 64), "HQQ axis=0");
  for (double nbits : {3.0, 2.0, 1.58, 1.0}) {
    ck = good;
    ck.args[0] = nbits;
    EXPECT_HAS(convertError("hqq", ck, 8, 64), "generic kernel");
  }
  ck = good;
  ck.args[0] = 7;
  EXPECT_HAS(convertError("hqq", ck, 8, 64), "nbits must be one of");
  ck = good;
  ck.tensors[2].reset(DType::I32, {16, 1});
  EXPECT_HAS(convertError("hqq", ck, 8, 64),
             "zero must be f16, bf16 or f32[16, 1], got i32[16, 1]");
  ck = good;
  ck.tensors[0].dtype = DType::I32;
  EXPECT_HAS(convertError("hqq", ck, 8, 64), "W_q must be ui8");
  // group_size 48 divides N*K = 8*24 but not K = 24: a group straddles two
  // output rows. The reference serves it.
  ck = hqqCheckpoint(4, 8, 48, 0, false, rng, codes);
  ck.args[1] = 32;
  ck.tensors[0].reset(DType::U8, {6, 32});
  ck.tensors[1].reset(DType::F16, {12, 1});
  ck.tensors[2].reset(DType::F16, {12, 1});
  std::vector<float> w;
  std::string refError;
  EXPECT_TRUE(
      referenceWeight(_mlir_ciface_hfq_ref_hqq_f32, ck, 8, 48, w, refError))
      << refError;
  EXPECT_HAS(convertError("hqq", ck, 8, 48),
             "HQQ group_size (32) must divide K (48)");
}

//===----------------------------------------------------------------------===//
// torchao
//===----------------------------------------------------------------------===//

TEST(RepackTorchao, Int4TilePackedMatchesReference) {
  Rng rng(600);
  for (auto [n, k, g] : {std::tuple<int64_t, int64_t, int64_t>{20, 192, 64},
                         {8, 256, 256},
                         {13, 96, 32}}) {
    SCOPED_TRACE("N " + std::to_string(n) + " K " + std::to_string(k));
    std::vector<uint8_t> codes;
    Checkpoint ck = torchaoInt4TilePacked(n, k, g, rng, codes);
    ASSERT_EQ(ck.error, "");
    const StoredTensor &sz = ck.tensors[1];
    QuantWeight qw = convert("torchao", ck, n, k);
    EXPECT_EQ(qw.zeroKind, ZeroKind::Offset);
    EXPECT_EQ(qw.groupSize, g);
    EXPECT_EQ(qw.q, codes);
    EXPECT_EQ(qw.zero[0], sz.view().at(1) - 8.0f * sz.view().at(0));
    expectCloseWeight(qw,
                      refOrFail(_mlir_ciface_hfq_ref_torchao_f32, ck, n, k));
  }
}

TEST(RepackTorchao, Int4PlainMatchesReference) {
  Rng rng(610);
  for (auto [n, k, g] :
       {std::tuple<int64_t, int64_t, int64_t>{12, 96, 32}, {5, 70, 14}}) {
    SCOPED_TRACE("N " + std::to_string(n) + " K " + std::to_string(k));
    std::vector<uint8_t> codes;
    Checkpoint ck = torchaoInt4Plain(n, k, g, rng, codes);
    QuantWeight qw = convert("torchao", ck, n, k);
    EXPECT_EQ(qw.zeroKind, ZeroKind::Offset);
    EXPECT_EQ(qw.q, codes);
    expectCloseWeight(qw,
                      refOrFail(_mlir_ciface_hfq_ref_torchao_f32, ck, n, k));
  }
}

TEST(RepackTorchao, Int8WeightOnlyMatchesReference) {
  Rng rng(620);
  for (bool perTensor : {false, true}) {
    const int64_t n = 11, k = 29;
    std::vector<uint8_t> codes;
    Checkpoint ck = torchaoInt8(n, k, perTensor, rng, codes);
    QuantWeight qw = convert("torchao", ck, n, k);
    EXPECT_EQ(qw.bits, 8);
    EXPECT_EQ(qw.zeroKind, ZeroKind::Symmetric);
    EXPECT_EQ(qw.groupSize, k);
    EXPECT_EQ(qw.q, codes);
    expectSameWeight(qw.dequantize(),
                     refOrFail(_mlir_ciface_hfq_ref_torchao_f32, ck, n, k));
    // A non-zero zero point (an asymmetric Int8Tensor): integer zero codes
    // zp + 128.
    StoredTensor &zp = ck.tensors[2];
    for (int64_t i = 0; i < zp.numel(); ++i)
      zp.setBits(i, static_cast<uint32_t>(i % 5 - 2));
    qw = convert("torchao", ck, n, k);
    EXPECT_EQ(qw.zeroKind, ZeroKind::Integer);
    EXPECT_EQ(qw.zero[perTensor ? 5 : 1], perTensor ? 126.0f : 127.0f);
    expectSameWeight(qw.dequantize(),
                     refOrFail(_mlir_ciface_hfq_ref_torchao_f32, ck, n, k));
  }
}

TEST(RepackTorchao, Refusals) {
  Checkpoint ck;
  ck.args = {4, 0, 0};
  ck.add(DType::I8, {8, 16});
  ck.add(DType::F32, {8, 1});
  ck.add(DType::I8, {8, 1});
  EXPECT_HAS(convertError("torchao", ck, 8, 16),
             "Int8DynamicActivationInt8WeightConfig");
  ck.args = {3, 0, 0};
  ck.tensors[2].reset(DType::I8, {1, 1});
  EXPECT_HAS(convertError("torchao", ck, 8, 16),
             "_weight_zero_point must be i8[8, 1], got i8[1, 1]");
  ck.tensors[2].reset(DType::I8, {8, 1});
  ck.tensors[0].reset(DType::U8, {8, 16});
  EXPECT_HAS(convertError("torchao", ck, 8, 16),
             "_weight_qdata must be i8[8, 16], got ui8[8, 16]");
  ck.tensors.pop_back();
  for (double format : {5.0, 6.0}) {
    ck.args[0] = format;
    ck.tensors[0].reset(DType::F8E4M3FN, {8, 16});
    EXPECT_HAS(convertError("torchao", ck, 8, 16), "torchao float8 weights");
  }
  ck.args = {7, 0, 0};
  EXPECT_HAS(convertError("torchao", ck, 8, 16), "format must be an integer");
  ck.args = {2, 0, 0};
  EXPECT_HAS(convertError("torchao", ck, 8, 16),
             "int4 layouts need a positive group_size");
  // Tile-packed with K = 96 and group 64: the padding fills the second
  // group; the kernels' groups must be whole.
  Checkpoint tiled;
  tiled.args = {1, 64, 0};
  tiled.add(DType::I32, {1, 8, 32, 4});
  tiled.add(DType::BF16, {16, 8, 2});
  EXPECT_HAS(convertError("torchao", tiled, 8, 96),
             "K (96) must be a multiple of group_size (64)");
  tiled.args[1] = 48;
  EXPECT_HAS(convertError("torchao", tiled, 8, 96),
             "tinygemm int4 group_size must be 32, 64, 128 or 256");
}

//===----------------------------------------------------------------------===//
// quanto
//===----------------------------------------------------------------------===//

TEST(RepackQuanto, Int8MatchesReference) {
  Rng rng(700);
  const int64_t n = 7, k = 45;
  std::vector<uint8_t> codes;
  Checkpoint ck = quantoInt8(n, k, rng, codes);
  QuantWeight qw = convert("quanto", ck, n, k);
  EXPECT_EQ(qw.zeroKind, ZeroKind::Symmetric);
  EXPECT_EQ(qw.q, codes);
  expectSameWeight(qw.dequantize(),
                   refOrFail(_mlir_ciface_hfq_ref_quanto_f32, ck, n, k));
}

TEST(RepackQuanto, Int4MatchesReference) {
  Rng rng(710);
  // quanto's group: K = 96 -> 96 (one group); K = 288 -> 96; K = 320 -> 64.
  // N * K / g odd for (5, 96) and (3, 288): the last plane is partial.
  for (auto [n, k] : {std::pair<int64_t, int64_t>{5, 96}, {3, 288}, {6, 320}}) {
    SCOPED_TRACE("N " + std::to_string(n) + " K " + std::to_string(k));
    std::vector<uint8_t> codes;
    Checkpoint ck = quantoInt4(n, k, DType::F16, rng, codes);
    QuantWeight qw = convert("quanto", ck, n, k);
    EXPECT_EQ(qw.zeroKind, ZeroKind::Offset);
    EXPECT_EQ(qw.groupSize, quantoGroupSize(k));
    EXPECT_EQ(qw.q, codes);
    // s*q - shift and q*s + (-shift) are the same operation: exact.
    expectSameWeight(qw.dequantize(),
                     refOrFail(_mlir_ciface_hfq_ref_quanto_f32, ck, n, k));
  }
}

TEST(RepackQuanto, Int4IntegerShiftMatchesReference) {
  Rng rng(720);
  std::vector<uint8_t> codes;
  Checkpoint ck = quantoInt4(4, 256, DType::U8, rng, codes);
  QuantWeight qw = convert("quanto", ck, 4, 256);
  EXPECT_EQ(qw.zeroKind, ZeroKind::Integer);
  EXPECT_EQ(qw.q, codes);
  expectSameWeight(qw.dequantize(),
                   refOrFail(_mlir_ciface_hfq_ref_quanto_f32, ck, 4, 256));
  // A signed shift outside [0, 16) turns the weight into an exact Offset.
  ck = quantoInt4(4, 256, DType::I8, rng, codes);
  ck.tensors[2].setBits(3, static_cast<uint32_t>(-3) & 0xffu);
  qw = convert("quanto", ck, 4, 256);
  EXPECT_EQ(qw.zeroKind, ZeroKind::Offset);
  expectSameWeight(qw.dequantize(),
                   refOrFail(_mlir_ciface_hfq_ref_quanto_f32, ck, 4, 256));
}

TEST(RepackQuanto, Refusals) {
  Checkpoint ck;
  ck.args = {1, 8, 0};
  ck.add(DType::F8E4M3FN, {4, 16});
  ck.add(DType::F16, {4, 1});
  addQuantoActivationScales(ck);
  EXPECT_HAS(convertError("quanto", ck, 4, 16), "quanto float8 weights");
  ck.args = {0, 8, 0};
  EXPECT_HAS(convertError("quanto", ck, 4, 16),
             "weight._data must be i8[4, 16], got f8E4M3FN[4, 16]");
  ck.args = {2, 8, 0};
  EXPECT_HAS(convertError("quanto", ck, 4, 16), "is not one of int8");
  ck = Checkpoint();
  ck.args = {3, 2, 16};
  ck.add(DType::U8, {1, 16});
  ck.add(DType::F16, {4, 1});
  ck.add(DType::F16, {4, 1});
  addQuantoActivationScales(ck);
  EXPECT_HAS(convertError("quanto", ck, 4, 16),
             "quanto int2 is served by the generic kernel");
  Rng rng(730);
  std::vector<uint8_t> codes;
  ck = quantoInt4(4, 64, DType::F16, rng, codes);
  ck.tensors[3].reset(DType::F16, {1});
  EXPECT_HAS(convertError("quanto", ck, 4, 64), "input_scale must be");
}

//===----------------------------------------------------------------------===//
// eetq
//===----------------------------------------------------------------------===//

TEST(RepackEetq, UnpreprocessedWeightMatchesReference) {
  Rng rng(800);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{64, 128}, {192, 64}}) {
    SCOPED_TRACE("N " + std::to_string(n) + " K " + std::to_string(k));
    std::vector<uint8_t> codes;
    Checkpoint ck = eetqCheckpoint(n, k, rng, codes);
    QuantWeight qw = convert("eetq", ck, n, k);
    EXPECT_EQ(qw.zeroKind, ZeroKind::Symmetric);
    EXPECT_EQ(qw.groupSize, k);
    EXPECT_EQ(qw.q, codes);
    expectSameWeight(qw.dequantize(),
                     refOrFail(_mlir_ciface_hfq_ref_eetq_f32, ck, n, k));
  }
}

TEST(RepackEetq, Refusals) {
  Checkpoint ck;
  ck.add(DType::I8, {64, 32});
  ck.add(DType::F16, {32});
  EXPECT_HAS(convertError("eetq", ck, 32, 64), "N (32) must be a multiple");
  ck.args = {1};
  EXPECT_HAS(convertError("eetq", ck, 32, 64), "expected 0 arguments");
}

//===----------------------------------------------------------------------===//
// bitsandbytes_8bit
//===----------------------------------------------------------------------===//

TEST(RepackBnb8, WeightMatchesReferenceDequantizer) {
  // The reference forward is LLM.int8()'s mixed decomposition, which rounds
  // through the activation dtype; the weight is compared with the
  // reference dequantizer instead. It rounds CB * SCB / 127 once from
  // double, the converter's scale SCB / 127 is a float: up to an ulp apart.
  Rng rng(900);
  const int64_t n = 13, k = 50;
  std::vector<uint8_t> codes;
  Checkpoint ck = bnb8Checkpoint(n, k, 6.0, rng, codes);
  const StoredTensor &cb = ck.tensors[0], &scb = ck.tensors[1];
  QuantWeight qw = convert("bitsandbytes_8bit", ck, n, k);
  EXPECT_EQ(qw.zeroKind, ZeroKind::Symmetric);
  EXPECT_EQ(qw.groupSize, k);
  EXPECT_EQ(qw.q, codes);
  EXPECT_EQ(qw.scale[4], scb.view().at(4) / 127.0f);
  std::vector<float> want;
  std::string error;
  ASSERT_TRUE(dequantizeBnbInt8(cb.view(), scb.view(), n, k, want, error))
      << error;
  expectCloseWeight(qw, want, /*mostlyExact=*/false);
}

TEST(RepackBnb8, Refusals) {
  Checkpoint ck;
  ck.args = {-1.0};
  ck.add(DType::I8, {4, 8});
  ck.add(DType::F32, {4});
  EXPECT_HAS(convertError("bitsandbytes_8bit", ck, 4, 8),
             "llm_int8_threshold must be finite and non-negative");
  ck.args = {0.0};
  ck.tensors[1].reset(DType::F16, {4});
  EXPECT_HAS(convertError("bitsandbytes_8bit", ck, 4, 8),
             "SCB must be f32[4], got f16[4]");
}

//===----------------------------------------------------------------------===//
// Methods without an integer weight-only layout
//===----------------------------------------------------------------------===//

TEST(RepackMethods, OtherMethodsAreRefused) {
  Checkpoint ck;
  ck.add(DType::I8, {4, 8});
  for (const char *key :
       {"bitsandbytes_4bit", "aqlm", "bitnet", "fp8", "GPTQ", "", "awq-gemm"}) {
    QuantWeight out;
    std::string error;
    EXPECT_FALSE(
        quantWeightFromCheckpoint(key, {}, ck.views(), 4, 8, out, error));
    EXPECT_EQ(error, std::string("no integer weight-only kernel layout for "
                                 "method '") +
                         key + "'");
  }
}

TEST(RepackMethods, BadMatrixShapeIsAnError) {
  QuantWeight out;
  std::string error;
  EXPECT_FALSE(quantWeightFromCheckpoint("eetq", {}, {}, 0, 64, out, error));
  EXPECT_HAS(error, "N and K must be in [1, 2^31)");
  EXPECT_FALSE(
      quantWeightFromCheckpoint("gptq", {4, 32, 1}, {}, 64, -8, out, error));
  EXPECT_HAS(error, "gptq: the weight: N and K");
}

} // namespace
