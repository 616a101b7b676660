//===- RefModelOpsTest.cpp - The model ops' CPU reference -----------------===//
//
// The entry points of kernels/include/hfq_model_ops.h, called as lowered IR
// calls them (memref descriptors, tensor tables), on small cases worked out
// by hand: RMSNorm with an eps that makes the root exact, rotary at
// position 0 (the identity) and 1 (cos 1 / sin 1), attention whose softmax
// weights are 1/4 and 3/4, the GQA head mapping, causal and sliding-window
// masks, the 16-bit roundings (ties to even), and every error path (status,
// message, outputs untouched).
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/ModelOps.h"

#include "CheckpointBuilders.h"
#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>

using namespace hfq::kernels;
using namespace hfq::kernels::builders;
using hfq::kernels::testing::randomNormal;

namespace {

//===----------------------------------------------------------------------===//
// Operands
//===----------------------------------------------------------------------===//

/// A tensor table of one float tensor of `dtype` and `shape` holding
/// `values` (rounded to the dtype).
struct WeightTable {
  Checkpoint ckpt;
  std::unique_ptr<AbiOperands> abi;

  WeightTable(DType dtype, std::vector<int64_t> shape,
              const std::vector<float> &values) {
    StoredTensor &t = ckpt.add(dtype, std::move(shape));
    for (size_t i = 0; i < values.size(); ++i)
      t.setFloat(static_cast<int64_t>(i), values[i]);
    abi = std::make_unique<AbiOperands>(ckpt);
  }
  StridedMemRefType<int64_t, 2> *table() { return &abi->tableRef; }
};

/// Args as a memref over values it owns.
struct Args {
  std::vector<double> values;
  StridedMemRefType<double, 1> ref;
  explicit Args(std::vector<double> v) : values(std::move(v)) {
    ref = memref1d(values.data(), static_cast<int64_t>(values.size()));
  }
  Args(const Args &) = delete;
  Args &operator=(const Args &) = delete;
  StridedMemRefType<double, 1> *get() { return &ref; }
};

template <typename T>
StridedMemRefType<T, 2> rows(std::vector<T> &data, int64_t cols) {
  return memref2d(data.data(), static_cast<int64_t>(data.size()) / cols, cols);
}

/// The KV cache [L, 2, S, KV, D], contiguous.
template <typename T> struct Cache {
  std::vector<T> data;
  StridedMemRefType<T, 5> ref;
  Cache(int64_t l, int64_t s, int64_t kv, int64_t d)
      : data(static_cast<size_t>(l * 2 * s * kv * d), T(0)) {
    ref = {data.data(),
           data.data(),
           0,
           {l, 2, s, kv, d},
           {2 * s * kv * d, s * kv * d, kv * d, d, 1}};
  }
  T at(int64_t l, int64_t which, int64_t pos, int64_t h, int64_t i) const {
    const int64_t *st = ref.strides;
    return data[static_cast<size_t>(l * st[0] + which * st[1] + pos * st[2] +
                                    h * st[3] + i * st[4])];
  }
};

/// A call refused: non-zero status, `message` in the last error and `y`
/// still `before`.
template <typename T>
void expectRefused(int32_t status, const std::string &message,
                   const std::vector<T> &y, const std::vector<T> &before) {
  EXPECT_NE(status, 0);
  EXPECT_NE(std::string(hfq_kernel_last_error()).find(message),
            std::string::npos)
      << hfq_kernel_last_error();
  EXPECT_EQ(y, before) << message;
}

std::vector<uint16_t> toBf16(const std::vector<float> &v) {
  std::vector<uint16_t> out;
  for (float f : v)
    out.push_back(floatToBf16(f));
  return out;
}

//===----------------------------------------------------------------------===//
// RMSNorm
//===----------------------------------------------------------------------===//

TEST(RefModelOps, RmsNormByHand) {
  // eps = 3: mean(x^2) + eps is 4, 4 and 16, so rsqrt is 1/2, 1/2, 1/4.
  std::vector<float> x = {1, 1, 1, 1, -1, 1, -1, 1, 6, 4, 0, 0};
  std::vector<float> y(12, -7.0f);
  auto xm = rows(x, 4), ym = rows(y, 4);
  WeightTable w(DType::BF16, {4}, {1, 2, 0.5f, -1});
  Args args({3.0});
  ASSERT_EQ(_mlir_ciface_hfq_rms_norm_f32(&ym, &xm, args.get(), w.table()), 0)
      << hfq_kernel_last_error();
  EXPECT_EQ(y, (std::vector<float>{0.5f, 1, 0.25f, -0.5f, -0.5f, 1, -0.25f,
                                   -0.5f, 1.5f, 2, 0, 0}));

  // An eps that leaves the root inexact: x / sqrt(7.5 + 1e-6).
  std::vector<float> x2 = {1, 2, 3, 4}, y2(4);
  auto x2m = rows(x2, 4), y2m = rows(y2, 4);
  WeightTable ones(DType::F32, {4}, {1, 1, 1, 1});
  Args eps({1e-6});
  ASSERT_EQ(_mlir_ciface_hfq_rms_norm_f32(&y2m, &x2m, eps.get(), ones.table()),
            0);
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(y2[i], (i + 1) / std::sqrt(7.5 + 1e-6), 1e-6) << i;
}

TEST(RefModelOps, RmsNormRoundsTheNormalizedValueThenTheProduct) {
  // x = 1, eps = 2: h = 1/sqrt(3) = 0.57735 rounds to bf16 0.578125 first.
  // w = 1.75: 1.75 * 0.578125 = 1.01171875, a tie between 1.0078125 and
  // 1.015625, to even: 1.015625 (unrounded h would give 1.0078125).
  // w = 7: 4.046875, a tie, to 4.0625 (unrounded h: 4.03125).
  std::vector<uint16_t> x = toBf16({1, 1, 1}), y(3, 0);
  auto xm = rows(x, 3), ym = rows(y, 3);
  WeightTable w(DType::F32, {3}, {1.75f, 7, 1});
  Args args({2.0});
  ASSERT_EQ(_mlir_ciface_hfq_rms_norm_bf16(&ym, &xm, args.get(), w.table()), 0)
      << hfq_kernel_last_error();
  EXPECT_EQ(bf16ToFloat(y[0]), 1.015625f);
  EXPECT_EQ(bf16ToFloat(y[1]), 4.0625f);
  EXPECT_EQ(bf16ToFloat(y[2]), 0.578125f);
}

TEST(RefModelOps, RmsNormErrors) {
  std::vector<float> x(8, 1.0f), y(8, 9.0f), y3(6, 9.0f);
  const std::vector<float> before = y;
  auto xm = rows(x, 4), ym = rows(y, 4), y3m = rows(y3, 3);
  WeightTable w(DType::F32, {4}, {1, 1, 1, 1});
  WeightTable wrongSize(DType::F32, {3}, {1, 1, 1});
  WeightTable wrongDtype(DType::I8, {4}, {});
  Args eps({1e-6}), none({}), nan({NAN}), negative({-1.0});
  expectRefused(
      _mlir_ciface_hfq_rms_norm_f32(nullptr, &xm, eps.get(), w.table()),
      "hfq_rms_norm: y is a null memref descriptor", y, before);
  expectRefused(_mlir_ciface_hfq_rms_norm_f32(&y3m, &xm, eps.get(), w.table()),
                "y has sizes [2, 3], expected [2, 4]", y3,
                std::vector<float>(6, 9.0f));
  expectRefused(_mlir_ciface_hfq_rms_norm_f32(&ym, &xm, none.get(), w.table()),
                "expected 1 arguments (eps), got 0", y, before);
  expectRefused(_mlir_ciface_hfq_rms_norm_f32(&ym, &xm, nan.get(), w.table()),
                "eps must be a finite number", y, before);
  expectRefused(
      _mlir_ciface_hfq_rms_norm_f32(&ym, &xm, negative.get(), w.table()),
      "eps must not be negative", y, before);
  expectRefused(
      _mlir_ciface_hfq_rms_norm_f32(&ym, &xm, eps.get(), wrongSize.table()),
      "weight must be f16, bf16 or f32[4], got f32[3]", y, before);
  expectRefused(
      _mlir_ciface_hfq_rms_norm_f32(&ym, &xm, eps.get(), wrongDtype.table()),
      "weight must be f16, bf16 or f32[4], got i8[4]", y, before);
  expectRefused(_mlir_ciface_hfq_rms_norm_f32(&ym, &xm, eps.get(), nullptr),
                "the tensor table must have 8 columns", y, before);
}

//===----------------------------------------------------------------------===//
// Rotary embedding
//===----------------------------------------------------------------------===//

TEST(RefModelOps, RotaryByHand) {
  // Two heads of D = 4; inv_freq = [1, 0.5]. Token 0 at position 0, token 1
  // at position 1.
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<float> y(16), invFreq = {1.0f, 0.5f};
  std::vector<int64_t> positions = {0, 1};
  auto xm = rows(x, 8), ym = rows(y, 8);
  auto pm = memref1d(positions.data(), 2);
  auto fm = memref1d(invFreq.data(), 2);
  Args args({4, 1.0});
  ASSERT_EQ(_mlir_ciface_hfq_rotary_f32(&ym, &xm, &pm, &fm, args.get()), 0)
      << hfq_kernel_last_error();
  // Position 0: cos = 1, sin = 0, the identity.
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(y[i], x[i]) << i;
  // Position 1: angles 1 and 0.5; y = x cos + rotate_half(x) sin with
  // rotate_half([a, b, c, d]) = [-c, -d, a, b].
  const double c1 = std::cos(1.0), s1 = std::sin(1.0);
  const double c2 = std::cos(0.5), s2 = std::sin(0.5);
  for (int head = 0; head < 2; ++head) {
    const float *in = x.data() + 8 + 4 * head;
    const float *out = y.data() + 8 + 4 * head;
    EXPECT_NEAR(out[0], in[0] * c1 - in[2] * s1, 1e-5) << head;
    EXPECT_NEAR(out[1], in[1] * c2 - in[3] * s2, 1e-5) << head;
    EXPECT_NEAR(out[2], in[2] * c1 + in[0] * s1, 1e-5) << head;
    EXPECT_NEAR(out[3], in[3] * c2 + in[1] * s2, 1e-5) << head;
  }
  EXPECT_NEAR(y[8], 1 * c1 - 3 * s1, 1e-6); // -1.98411...

  // attention_scaling multiplies cos and sin: at position 0, y = 2x.
  Args scaled({4, 2.0});
  ASSERT_EQ(_mlir_ciface_hfq_rotary_f32(&ym, &xm, &pm, &fm, scaled.get()), 0);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(y[i], 2 * x[i]) << i;
}

TEST(RefModelOps, RotaryErrors) {
  std::vector<float> x(8, 1.0f), y(8, 3.0f), invFreq = {1, 1};
  const std::vector<float> before = y;
  std::vector<int64_t> positions = {0, 1}, one = {0};
  auto xm = rows(x, 4), ym = rows(y, 4);
  auto pm = memref1d(positions.data(), 2), p1 = memref1d(one.data(), 1);
  auto fm = memref1d(invFreq.data(), 2), f1 = memref1d(invFreq.data(), 1);
  Args good({4, 1.0}), odd({3, 1.0}), fraction({4.5, 1.0}), count({4});
  Args wide({8, 1.0});
  expectRefused(_mlir_ciface_hfq_rotary_f32(&ym, &xm, &p1, &fm, good.get()),
                "hfq_rotary: positions has sizes [1], expected [2]", y, before);
  expectRefused(_mlir_ciface_hfq_rotary_f32(&ym, &xm, &pm, &f1, good.get()),
                "inv_freq has sizes [1], expected [2]", y, before);
  expectRefused(_mlir_ciface_hfq_rotary_f32(&ym, &xm, &pm, &fm, odd.get()),
                "head_dim must be even, got 3", y, before);
  expectRefused(_mlir_ciface_hfq_rotary_f32(&ym, &xm, &pm, &fm, fraction.get()),
                "head_dim must be an integer", y, before);
  expectRefused(_mlir_ciface_hfq_rotary_f32(&ym, &xm, &pm, &fm, count.get()),
                "expected 2 arguments (head_dim, attention_scaling), got 1", y,
                before);
  std::vector<float> invFreq4 = {1, 1, 1, 1};
  auto f4 = memref1d(invFreq4.data(), 4);
  expectRefused(_mlir_ciface_hfq_rotary_f32(&ym, &xm, &pm, &f4, wide.get()),
                "x has 4 columns, not a multiple of head_dim 8", y, before);
  expectRefused(_mlir_ciface_hfq_rotary_f32(&ym, &xm, &pm, nullptr, good.get()),
                "inv_freq is a null memref descriptor", y, before);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// One attention call over float activations [T, *] of a cache.
struct AttentionCall {
  int64_t heads, kvHeads, headDim;
  double scaling = 1.0;
  int64_t window = 0, layer = 0;

  int32_t run(std::vector<float> &out, std::vector<float> &q,
              std::vector<float> &k, std::vector<float> &v,
              std::vector<int64_t> &positions, Cache<float> &cache) const {
    auto om = rows(out, heads * headDim), qm = rows(q, heads * headDim);
    auto km = rows(k, kvHeads * headDim), vm = rows(v, kvHeads * headDim);
    auto pm =
        memref1d(positions.data(), static_cast<int64_t>(positions.size()));
    Args args({double(layer), double(heads), double(kvHeads), double(headDim),
               scaling, double(window)});
    return _mlir_ciface_hfq_attention_f32(&om, &qm, &km, &vm, &pm, &cache.ref,
                                          args.get());
  }
};

TEST(RefModelOps, AttentionOfOneCachedPositionIsV) {
  // T = 1 at position 0: the softmax has one term, out = v for every head.
  AttentionCall call{2, 1, 2};
  Cache<float> cache(1, 4, 1, 2);
  std::vector<float> q = {3, -1, 0.5f, 2}, k = {7, 8}, v = {0.25f, -4};
  std::vector<float> out(4, 0.0f);
  std::vector<int64_t> positions = {0};
  ASSERT_EQ(call.run(out, q, k, v, positions, cache), 0)
      << hfq_kernel_last_error();
  EXPECT_EQ(out, (std::vector<float>{0.25f, -4, 0.25f, -4}));
  EXPECT_EQ(cache.at(0, 0, 0, 0, 0), 7.0f);
  EXPECT_EQ(cache.at(0, 1, 0, 0, 1), -4.0f);
}

TEST(RefModelOps, AttentionWeightsByHand) {
  // Layer 1 of 2; H = KV = 1, D = 2. Keys e0, e1; token 1's query
  // [0, ln 3] scores them 0 and ln 3: softmax 1/4, 3/4.
  AttentionCall call{1, 1, 2};
  call.layer = 1;
  Cache<float> cache(2, 4, 1, 2);
  std::vector<float> q = {5, 5, 0, std::log(3.0f)}, k = {1, 0, 0, 1};
  std::vector<float> v = {4, 0, 0, 8}, out(4);
  std::vector<int64_t> positions = {0, 1};
  ASSERT_EQ(call.run(out, q, k, v, positions, cache), 0)
      << hfq_kernel_last_error();
  EXPECT_EQ(out[0], 4.0f); // token 0 sees only key 0 (causal)
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_NEAR(out[2], 1.0f, 1e-6);
  EXPECT_NEAR(out[3], 6.0f, 1e-6);
  // k and v went to layer 1's rows of positions 0 and 1; layer 0 untouched.
  EXPECT_EQ(cache.at(1, 0, 1, 0, 1), 1.0f);
  EXPECT_EQ(cache.at(1, 1, 1, 0, 1), 8.0f);
  for (float f :
       std::vector<float>(cache.data.begin(), cache.data.begin() + 2 * 4 * 2))
    EXPECT_EQ(f, 0.0f);

  // scaling multiplies the scores: with scaling 2 on [0, ln 3 / 2] the same.
  call.scaling = 2.0;
  std::vector<float> q2 = {0, std::log(3.0f) / 2};
  std::vector<float> k2 = {0, 1}, v2 = {0, 8}, out2(2);
  std::vector<int64_t> at1 = {1};
  ASSERT_EQ(call.run(out2, q2, k2, v2, at1, cache), 0);
  EXPECT_NEAR(out2[0], 1.0f, 1e-6);
  EXPECT_NEAR(out2[1], 6.0f, 1e-6);
}

TEST(RefModelOps, AttentionGroupsQueryHeadsOntoKvHeads) {
  // H = 4, KV = 2, D = 1: heads 0, 1 read KV head 0, heads 2, 3 KV head 1.
  AttentionCall call{4, 2, 1};
  Cache<float> cache(1, 2, 2, 1);
  std::vector<float> q = {1, 2, 3, 4}, k = {1, 1}, v = {10, 20}, out(4);
  std::vector<int64_t> positions = {0};
  ASSERT_EQ(call.run(out, q, k, v, positions, cache), 0)
      << hfq_kernel_last_error();
  EXPECT_EQ(out, (std::vector<float>{10, 10, 20, 20}));

  // Decode at position 1 with equal scores: each head averages its KV
  // head's two values.
  std::vector<float> q1 = {0, 0, 0, 0}, k1 = {5, 5}, v1 = {30, 60}, out1(4);
  std::vector<int64_t> next = {1};
  ASSERT_EQ(call.run(out1, q1, k1, v1, next, cache), 0);
  EXPECT_EQ(out1, (std::vector<float>{20, 20, 40, 40}));
}

TEST(RefModelOps, PrefillEqualsDecodeBitForBit) {
  AttentionCall call{2, 1, 4};
  call.scaling = 0.5;
  const auto q = randomNormal(3 * 8, 5, 1.0f), k = randomNormal(3 * 4, 6, 1.0f),
             v = randomNormal(3 * 4, 7, 1.0f);
  Cache<float> prefill(1, 8, 1, 4), decode(1, 8, 1, 4);
  std::vector<float> qs = q, ks = k, vs = v, out(3 * 8);
  std::vector<int64_t> positions = {0, 1, 2};
  ASSERT_EQ(call.run(out, qs, ks, vs, positions, prefill), 0)
      << hfq_kernel_last_error();
  for (int64_t t = 0; t < 3; ++t) {
    std::vector<float> qt(q.begin() + 8 * t, q.begin() + 8 * (t + 1));
    std::vector<float> kt(k.begin() + 4 * t, k.begin() + 4 * (t + 1));
    std::vector<float> vt(v.begin() + 4 * t, v.begin() + 4 * (t + 1));
    std::vector<float> ot(8);
    std::vector<int64_t> pt = {t};
    ASSERT_EQ(call.run(ot, qt, kt, vt, pt, decode), 0);
    EXPECT_EQ(std::memcmp(ot.data(), out.data() + 8 * t, 8 * sizeof(float)), 0)
        << "token " << t;
  }
  EXPECT_EQ(prefill.data, decode.data);
  // Causal: token 0 sees only itself, so its output is v[0] for both heads.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(out[i], v[i]);
    EXPECT_EQ(out[4 + i], v[i]);
  }
}

TEST(RefModelOps, SlidingWindow) {
  // D = 1, zero keys: uniform weights over the visible positions.
  AttentionCall call{1, 1, 1};
  call.window = 2;
  Cache<float> windowed(1, 4, 1, 1), full(1, 4, 1, 1);
  std::vector<float> q(4, 0.0f), k(4, 0.0f), v = {1, 2, 4, 8}, out(4);
  std::vector<int64_t> positions = {0, 1, 2, 3};
  ASSERT_EQ(call.run(out, q, k, v, positions, windowed), 0)
      << hfq_kernel_last_error();
  // Position p sees p - 1 < j <= p.
  EXPECT_EQ(out, (std::vector<float>{1, 1.5f, 3, 6}));
  call.window = 0;
  ASSERT_EQ(call.run(out, q, k, v, positions, full), 0);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 1.5f);
  EXPECT_NEAR(out[2], 7.0 / 3.0, 1e-6);
  EXPECT_EQ(out[3], 3.75f);
}

TEST(RefModelOps, AttentionBf16RoundsOutputOnce) {
  // One position: out = v exactly, stored as given; the cache holds the
  // bf16 bits of k and v.
  Cache<uint16_t> cache(1, 2, 1, 2);
  std::vector<uint16_t> q = toBf16({1, 1}), k = toBf16({1.5f, 2}),
                        v = toBf16({1.0078125f, -3}), out(2, 0);
  std::vector<int64_t> positions = {0};
  auto om = rows(out, 2), qm = rows(q, 2), km = rows(k, 2), vm = rows(v, 2);
  auto pm = memref1d(positions.data(), 1);
  Args args({0, 1, 1, 2, 1.0, 0});
  ASSERT_EQ(_mlir_ciface_hfq_attention_bf16(&om, &qm, &km, &vm, &pm, &cache.ref,
                                            args.get()),
            0)
      << hfq_kernel_last_error();
  EXPECT_EQ(out, v);
  EXPECT_EQ(cache.at(0, 0, 0, 0, 0), floatToBf16(1.5f));
  EXPECT_EQ(cache.at(0, 1, 0, 0, 1), floatToBf16(-3.0f));
}

TEST(RefModelOps, AttentionErrors) {
  AttentionCall call{2, 1, 2};
  Cache<float> cache(1, 4, 1, 2);
  const std::vector<float> clean = cache.data;
  std::vector<float> q(4, 1.0f), k(2, 1.0f), v(2, 1.0f), out(4, 5.0f);
  const std::vector<float> before = out;
  std::vector<int64_t> positions = {4};
  auto expectCacheClean = [&] { EXPECT_EQ(cache.data, clean); };

  expectRefused(call.run(out, q, k, v, positions, cache),
                "hfq_attention: positions[0] = 4 is outside the cache's [0, 4)",
                out, before);
  positions = {-1};
  expectRefused(call.run(out, q, k, v, positions, cache), "positions[0] = -1",
                out, before);
  positions = {0};
  AttentionCall uneven{3, 2, 2};
  std::vector<float> q3(6, 1.0f), out3(6, 5.0f), k2(4), v2(4);
  expectRefused(uneven.run(out3, q3, k2, v2, positions, cache),
                "num_heads (3) must be a multiple of num_kv_heads (2)", out3,
                std::vector<float>(6, 5.0f));
  AttentionCall wrongLayer = call;
  wrongLayer.layer = 1;
  expectRefused(wrongLayer.run(out, q, k, v, positions, cache),
                "layer 1 is outside the cache's [0, 1)", out, before);
  AttentionCall wideHeads{2, 1, 4};
  std::vector<float> q8(8), o8(8, 5.0f), k4(4), v4(4);
  expectRefused(wideHeads.run(o8, q8, k4, v4, positions, cache),
                "cache has sizes [1, 2, 4, 1, 2], expected [1, 2, 4, 1, 4]", o8,
                std::vector<float>(8, 5.0f));
  std::vector<float> twoRows(4);
  expectRefused(call.run(out, q, twoRows, v, positions, cache),
                "k has sizes [2, 2], expected [1, 2]", out, before);
  expectCacheClean();

  // Args: count, NaN, negative, fractions.
  auto om = rows(out, 4), qm = rows(q, 4), km = rows(k, 2), vm = rows(v, 2);
  auto pm = memref1d(positions.data(), 1);
  const std::vector<std::pair<std::vector<double>, std::string>> bad = {
      {{0, 2, 1, 2, 1.0}, "expected 6 arguments"},
      {{0, 2, 1, 2, NAN, 0}, "scaling must be a finite number"},
      {{-1, 2, 1, 2, 1.0, 0}, "layer must be an integer"},
      {{0, 2, 1, 2, 1.0, -1}, "sliding_window must be an integer"},
      {{0, 2.5, 1, 2, 1.0, 0}, "num_heads must be an integer"},
      {{0, 2, 0, 2, 1.0, 0}, "num_kv_heads must be an integer"},
      {{0, 2, 1, NAN, 1.0, 0}, "head_dim must be an integer"},
  };
  for (const auto &[values, message] : bad) {
    Args args(values);
    expectRefused(_mlir_ciface_hfq_attention_f32(&om, &qm, &km, &vm, &pm,
                                                 &cache.ref, args.get()),
                  message, out, before);
  }
  Args good({0, 2, 1, 2, 1.0, 0});
  expectRefused(_mlir_ciface_hfq_attention_f32(&om, &qm, &km, &vm, &pm, nullptr,
                                               good.get()),
                "cache is a null memref descriptor", out, before);
  expectCacheClean();
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

TEST(RefModelOps, EmbeddingGathersRows) {
  WeightTable table(DType::BF16, {3, 2}, {1, 2, 3, 4, 5, 6});
  std::vector<int64_t> ids = {2, 0, 2};
  std::vector<float> y(6);
  auto ym = rows(y, 2);
  auto im = memref1d(ids.data(), 3);
  ASSERT_EQ(_mlir_ciface_hfq_embedding_f32(&ym, &im, table.table()), 0)
      << hfq_kernel_last_error();
  EXPECT_EQ(y, (std::vector<float>{5, 6, 1, 2, 5, 6}));

  // An f32 table with bf16 activations rounds on the way out: 1 + 2^-8 is
  // a tie between 1 and 1 + 2^-7, to even (1).
  WeightTable fine(DType::F32, {1, 2}, {1.00390625f, 1.01171875f});
  std::vector<int64_t> zero = {0};
  std::vector<uint16_t> yb(2);
  auto ybm = rows(yb, 2);
  auto zm = memref1d(zero.data(), 1);
  ASSERT_EQ(_mlir_ciface_hfq_embedding_bf16(&ybm, &zm, fine.table()), 0);
  EXPECT_EQ(yb[0], 0x3F80); // 1.0
  EXPECT_EQ(yb[1], 0x3F82); // 1.015625 (tie, to even)
}

TEST(RefModelOps, EmbeddingErrors) {
  WeightTable table(DType::F16, {3, 2}, {1, 2, 3, 4, 5, 6});
  std::vector<int64_t> ids = {0, 3};
  std::vector<float> y(4, 8.0f);
  const std::vector<float> before = y;
  auto ym = rows(y, 2);
  auto im = memref1d(ids.data(), 2);
  expectRefused(_mlir_ciface_hfq_embedding_f32(&ym, &im, table.table()),
                "hfq_embedding: ids[1] = 3 is outside [0, 3)", y, before);
  ids[1] = -1;
  expectRefused(_mlir_ciface_hfq_embedding_f32(&ym, &im, table.table()),
                "ids[1] = -1 is outside [0, 3)", y, before);
  ids[1] = 1;
  auto im1 = memref1d(ids.data(), 1);
  expectRefused(_mlir_ciface_hfq_embedding_f32(&ym, &im1, table.table()),
                "ids has sizes [1], expected [2]", y, before);
  WeightTable narrow(DType::F16, {3, 3}, {});
  expectRefused(_mlir_ciface_hfq_embedding_f32(&ym, &im, narrow.table()),
                "the embedding table must be [V, 2], got [3, 3]", y, before);
  WeightTable ints(DType::I32, {3, 2}, {});
  expectRefused(_mlir_ciface_hfq_embedding_f32(&ym, &im, ints.table()),
                "the embedding table must be f16, bf16 or f32[3, 2]", y,
                before);
  expectRefused(_mlir_ciface_hfq_embedding_f32(&ym, nullptr, table.table()),
                "ids is a null memref descriptor", y, before);
}

//===----------------------------------------------------------------------===//
// SiLU-gated product, residual add
//===----------------------------------------------------------------------===//

TEST(RefModelOps, SiluMulByHand) {
  std::vector<float> gate = {0, 1, -1, 2}, up = {1, 2, 3, 0.5f}, y(4);
  auto gm = rows(gate, 2), um = rows(up, 2), ym = rows(y, 2);
  ASSERT_EQ(_mlir_ciface_hfq_silu_mul_f32(&ym, &gm, &um), 0);
  // silu(g) = g / (1 + e^-g).
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_NEAR(y[1], 2 * 0.7310585786, 1e-6);
  EXPECT_NEAR(y[2], 3 * -0.2689414214, 1e-6);
  EXPECT_NEAR(y[3], 0.5 * 1.7615941560, 1e-6);

  // bf16: silu(1) = 0.73106 rounds to 0.73046875 before the product:
  // times 2.25 = 1.6435546875, bf16 1.640625 (without that rounding,
  // 2.25 * 0.73106 = 1.64488 would give 1.6484375).
  std::vector<uint16_t> g16 = toBf16({1, 1}), u16 = toBf16({1, 2.25f}), y16(2);
  auto g16m = rows(g16, 2), u16m = rows(u16, 2), y16m = rows(y16, 2);
  ASSERT_EQ(_mlir_ciface_hfq_silu_mul_bf16(&y16m, &g16m, &u16m), 0);
  EXPECT_EQ(bf16ToFloat(y16[0]), 0.73046875f);
  EXPECT_EQ(bf16ToFloat(y16[1]), 1.640625f);
}

TEST(RefModelOps, AddRoundsToEven) {
  // bf16: 1 + 2^-8 ties to 1; (1 + 2^-7) + 2^-8 ties to 1 + 2^-6.
  std::vector<uint16_t> a = toBf16({1.0f, 1.0078125f}),
                        b = toBf16({0.00390625f, 0.00390625f}), y(2);
  auto am = rows(a, 2), bm = rows(b, 2), ym = rows(y, 2);
  ASSERT_EQ(_mlir_ciface_hfq_add_bf16(&ym, &am, &bm), 0);
  EXPECT_EQ(y, (std::vector<uint16_t>{0x3F80, 0x3F82}));
  // f16: 1 + 2^-11 ties to 1; (1 + 2^-10) + 2^-11 ties to 1 + 2^-9.
  std::vector<uint16_t> ha = {0x3C00, 0x3C01}, hb = {0x1000, 0x1000}, hy(2);
  auto ham = rows(ha, 2), hbm = rows(hb, 2), hym = rows(hy, 2);
  ASSERT_EQ(_mlir_ciface_hfq_add_f16(&hym, &ham, &hbm), 0);
  EXPECT_EQ(hy, (std::vector<uint16_t>{0x3C00, 0x3C02}));
}

TEST(RefModelOps, StridedOperands) {
  // y [2, 3] inside a [2, 5] buffer at offset 1; a read transposed from a
  // [3, 2] buffer (strides 1, 2); b contiguous.
  std::vector<float> buffer(10, -1.0f), aT = {1, 4, 2, 5, 3, 6};
  std::vector<float> b = {10, 20, 30, 40, 50, 60};
  StridedMemRefType<float, 2> ym = {
      buffer.data(), buffer.data(), 1, {2, 3}, {5, 1}};
  StridedMemRefType<float, 2> am = {aT.data(), aT.data(), 0, {2, 3}, {1, 2}};
  auto bm = rows(b, 3);
  ASSERT_EQ(_mlir_ciface_hfq_add_f32(&ym, &am, &bm), 0);
  EXPECT_EQ(buffer,
            (std::vector<float>{-1, 11, 22, 33, -1, -1, 44, 55, 66, -1}));
}

TEST(RefModelOps, ElementwiseErrors) {
  std::vector<float> a(4, 1.0f), b(6, 1.0f), y(4, 2.0f);
  const std::vector<float> before = y;
  auto am = rows(a, 2), bm = rows(b, 3), ym = rows(y, 2);
  expectRefused(_mlir_ciface_hfq_add_f32(&ym, &am, &bm),
                "hfq_add: b has sizes [2, 3], expected [2, 2]", y, before);
  expectRefused(_mlir_ciface_hfq_silu_mul_f32(&ym, &bm, &am),
                "hfq_silu_mul: gate has sizes [2, 3], expected [2, 2]", y,
                before);
  expectRefused(_mlir_ciface_hfq_silu_mul_f32(&ym, &am, nullptr),
                "up is a null memref descriptor", y, before);
  StridedMemRefType<float, 2> negative = {
      a.data(), a.data(), 0, {-1, 2}, {2, 1}};
  expectRefused(_mlir_ciface_hfq_add_f32(&ym, &negative, &am),
                "a has invalid sizes [-1, 2]", y, before);
  StridedMemRefType<float, 2> noData = {nullptr, nullptr, 0, {2, 2}, {2, 1}};
  expectRefused(_mlir_ciface_hfq_add_f32(&ym, &noData, &am), "a has no data", y,
                before);
}

//===----------------------------------------------------------------------===//
// The unquantized linear
//===----------------------------------------------------------------------===//

TEST(RefModelOps, LinearWithBiasByHand) {
  // x [2, 3] · W [2, 3]ᵀ + bias: W rows [1, 0, -1] and [0.5, 2, 1].
  WeightTable w(DType::F16, {2, 3}, {1, 0, -1, 0.5f, 2, 1});
  std::vector<float> x = {1, 2, 3, -2, 0.5f, 4}, bias = {10, -1}, y(4);
  auto xm = rows(x, 3), ym = rows(y, 2);
  auto bm = memref1d(bias.data(), 2);
  Args none({});
  ASSERT_EQ(_mlir_ciface_hfq_linear_f32(&ym, &xm, &bm, none.get(), w.table()),
            0)
      << hfq_kernel_last_error();
  // Row 0: 1 - 3 + 10 = 8; 0.5 + 4 + 3 - 1 = 6.5.
  // Row 1: -2 - 4 + 10 = 4; -1 + 1 + 4 - 1 = 3.
  EXPECT_EQ(y, (std::vector<float>{8, 6.5f, 4, 3}));

  // bf16, no bias: 1.0078125 * 1 + 2^-8 * 1 = 1.01171875, rounded once to
  // 1.015625 (a tie, to even).
  WeightTable ones(DType::BF16, {1, 2}, {1, 1});
  std::vector<uint16_t> xb = toBf16({1.0078125f, 0.00390625f}), yb(1);
  uint16_t noBias = 0;
  auto xbm = rows(xb, 2), ybm = rows(yb, 1);
  auto nbm = memref1d(&noBias, 0);
  ASSERT_EQ(
      _mlir_ciface_hfq_linear_bf16(&ybm, &xbm, &nbm, none.get(), ones.table()),
      0);
  EXPECT_EQ(yb[0], 0x3F82);
}

TEST(RefModelOps, LinearErrors) {
  WeightTable w(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  WeightTable transposed(DType::F32, {3, 2}, {1, 2, 3, 4, 5, 6});
  WeightTable fp8(DType::F8E4M3FN, {2, 3}, {1, 2, 3, 4, 5, 6});
  std::vector<float> x(3, 1.0f), y(2, 4.0f), bias(3);
  const std::vector<float> before = y;
  auto xm = rows(x, 3), ym = rows(y, 2);
  auto nb = memref1d(bias.data(), 0), b3 = memref1d(bias.data(), 3);
  Args none({}), one({1.0});
  expectRefused(
      _mlir_ciface_hfq_linear_f32(&ym, &xm, &nb, one.get(), w.table()),
      "hfq_linear: takes no args, got 1", y, before);
  expectRefused(_mlir_ciface_hfq_linear_f32(&ym, &xm, &nb, none.get(),
                                            transposed.table()),
                "weight must be f16, bf16 or f32[2, 3], got f32[3, 2]", y,
                before);
  expectRefused(
      _mlir_ciface_hfq_linear_f32(&ym, &xm, &nb, none.get(), fp8.table()),
      "weight must be f16, bf16 or f32[2, 3], got f8E4M3FN[2, 3]", y, before);
  expectRefused(
      _mlir_ciface_hfq_linear_f32(&ym, &xm, &b3, none.get(), w.table()),
      "bias has 3 elements, expected 0 or N = 2", y, before);
}

//===----------------------------------------------------------------------===//
// The float math's args decoders
//===----------------------------------------------------------------------===//

TEST(RefModelOps, ArgsDecoders) {
  AttentionParams p;
  std::string error;
  ASSERT_TRUE(decodeAttentionArgs({1, 8, 2, 64, 0.125, 4096}, p, error))
      << error;
  EXPECT_EQ(p.layer, 1);
  EXPECT_EQ(p.numHeads, 8);
  EXPECT_EQ(p.numKvHeads, 2);
  EXPECT_EQ(p.headDim, 64);
  EXPECT_EQ(p.scaling, 0.125f);
  EXPECT_EQ(p.slidingWindow, 4096);
  EXPECT_FALSE(decodeAttentionArgs({0, 8, 3, 64, 0.125, 0}, p, error));
  EXPECT_EQ(error, "num_heads (8) must be a multiple of num_kv_heads (3)");
  EXPECT_FALSE(decodeAttentionArgs({0, 8, 2, 64, INFINITY, 0}, p, error));
  EXPECT_NE(error.find("scaling must be a finite number"), std::string::npos);

  RotaryParams r;
  ASSERT_TRUE(decodeRotaryArgs({128, 1.5}, r, error)) << error;
  EXPECT_EQ(r.headDim, 128);
  EXPECT_EQ(r.attentionScaling, 1.5f);
  EXPECT_FALSE(decodeRotaryArgs({0, 1.0}, r, error));
  EXPECT_NE(error.find("head_dim must be an integer in [2,"), std::string::npos)
      << error;

  float eps = 0;
  ASSERT_TRUE(decodeRmsNormArgs({1e-5}, eps, error));
  EXPECT_EQ(eps, 1e-5f);
  EXPECT_FALSE(decodeRmsNormArgs({1e-5, 1}, eps, error));
}

} // namespace
