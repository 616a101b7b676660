//===- ModelOpsEntry.cpp - The model ops through the kernel ABI -----------===//
//
// The entry points of kernels/include/hfq_model_ops.h for f32, f16 and bf16
// activations: one template per op over the activation type (Runner.h's
// F32Activation, ...), which checks every descriptor, size, weight and arg
// before anything is written, converts the activations to f32, runs the
// float math of ModelOps.cpp into a scratch buffer and stores it rounded
// once to the activation type. hfq_linear_<act> is the linear runner's
// (Runner.h) over an unquantized weight.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/ModelOps.h"
#include "kernels/ref/Runner.h"

#include <algorithm>
#include <array>

using namespace hfq::kernels;

namespace {

//===----------------------------------------------------------------------===//
// Descriptors
//===----------------------------------------------------------------------===//

template <size_t N> std::string sizesString(const int64_t (&sizes)[N]) {
  return shapeString(std::vector<int64_t>(sizes, sizes + N));
}

/// `m` is a descriptor with non-negative sizes, an element count that fits
/// int64 and data wherever it has elements.
template <typename T, int N>
bool validMemref(const StridedMemRefType<T, N> *m, const char *name,
                 std::string &error) {
  if (!m) {
    error = std::string(name) + " is a null memref descriptor";
    return false;
  }
  int64_t count = 1;
  for (int d = 0; d < N; ++d)
    if (m->sizes[d] < 0 || __builtin_mul_overflow(count, m->sizes[d], &count)) {
      error = std::string(name) + " has invalid sizes " + sizesString(m->sizes);
      return false;
    }
  if (count > 0 && !m->data) {
    error = std::string(name) + " has no data";
    return false;
  }
  return true;
}

/// `m` has exactly `sizes`.
template <typename T, int N>
bool expectSizes(const StridedMemRefType<T, N> &m, const char *name,
                 const std::array<int64_t, N> &sizes, std::string &error) {
  if (std::equal(sizes.begin(), sizes.end(), m.sizes))
    return true;
  error = std::string(name) + " has sizes " + sizesString(m.sizes) +
          ", expected " +
          shapeString(std::vector<int64_t>(sizes.begin(), sizes.end()));
  return false;
}

/// The element of `m` at `index`.
template <typename T, int N>
T &element(const StridedMemRefType<T, N> &m,
           const std::array<int64_t, N> &index) {
  int64_t at = m.offset;
  for (int d = 0; d < N; ++d)
    at += index[d] * m.strides[d];
  return m.data[at];
}

template <typename T>
std::vector<T> loadVector(const StridedMemRefType<T, 1> &m) {
  std::vector<T> out(static_cast<size_t>(m.sizes[0]));
  for (int64_t i = 0; i < m.sizes[0]; ++i)
    out[static_cast<size_t>(i)] = element(m, {i});
  return out;
}

/// The one float weight of `table` (its tensor table), checked as
/// `shape`.
bool readOneWeight(const StridedMemRefType<int64_t, 2> *table,
                   const std::vector<int64_t> &shape, std::vector<float> &w,
                   std::string &error) {
  std::vector<TensorView> views;
  return decodeTable(table, views, error) &&
         expectTensorCount(views.size(), 1, "weight", error) &&
         readFloatWeight(views[0], shape, "weight", w, error);
}

//===----------------------------------------------------------------------===//
// Embedding, RMSNorm, rotary
//===----------------------------------------------------------------------===//

template <typename Act>
int32_t embeddingEntry(ActMemRef<Act, 2> *y, StridedMemRefType<int64_t, 1> *ids,
                       StridedMemRefType<int64_t, 2> *table) {
  std::string error;
  std::vector<TensorView> views;
  std::vector<float> out;
  if (!validMemref(y, "y", error) || !validMemref(ids, "ids", error) ||
      !expectSizes(*ids, "ids", {y->sizes[0]}, error) ||
      !decodeTable(table, views, error) ||
      !expectTensorCount(views.size(), 1, "weight", error) ||
      !embedding(views[0], loadVector(*ids), y->sizes[1], out, error))
    return failKernel("hfq_embedding", error);
  storeActivations<Act>(out, *y);
  return 0;
}

template <typename Act>
int32_t rmsNormEntry(ActMemRef<Act, 2> *y, ActMemRef<Act, 2> *x,
                     StridedMemRefType<double, 1> *args,
                     StridedMemRefType<int64_t, 2> *table) {
  std::string error;
  float eps = 0.0f;
  std::vector<float> w, out;
  if (!validMemref(y, "y", error) || !validMemref(x, "x", error) ||
      !expectSizes(*y, "y", {x->sizes[0], x->sizes[1]}, error) ||
      !decodeRmsNormArgs(decodeArgs(args), eps, error) ||
      !readOneWeight(table, {x->sizes[1]}, w, error))
    return failKernel("hfq_rms_norm", error);
  rmsNorm(loadActivations<Act>(*x), x->sizes[0], x->sizes[1], eps, w,
          Act::kDType, out);
  storeActivations<Act>(out, *y);
  return 0;
}

template <typename Act>
int32_t rotaryEntry(ActMemRef<Act, 2> *y, ActMemRef<Act, 2> *x,
                    StridedMemRefType<int64_t, 1> *positions,
                    StridedMemRefType<float, 1> *invFreq,
                    StridedMemRefType<double, 1> *args) {
  std::string error;
  RotaryParams p;
  if (!validMemref(y, "y", error) || !validMemref(x, "x", error) ||
      !validMemref(positions, "positions", error) ||
      !validMemref(invFreq, "inv_freq", error) ||
      !expectSizes(*y, "y", {x->sizes[0], x->sizes[1]}, error) ||
      !expectSizes(*positions, "positions", {x->sizes[0]}, error) ||
      !decodeRotaryArgs(decodeArgs(args), p, error) ||
      !expectSizes(*invFreq, "inv_freq", {p.headDim / 2}, error))
    return failKernel("hfq_rotary", error);
  if (x->sizes[1] % p.headDim != 0)
    return failKernel("hfq_rotary",
                      "x has " + std::to_string(x->sizes[1]) +
                          " columns, not a multiple of head_dim " +
                          std::to_string(p.headDim));
  std::vector<float> out;
  rotary(loadActivations<Act>(*x), x->sizes[1], loadVector(*positions),
         loadVector(*invFreq), p, Act::kDType, out);
  storeActivations<Act>(out, *y);
  return 0;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// The operands of one attention call, checked against each other and
/// the args.
template <typename Act> struct AttentionOperands {
  ActMemRef<Act, 2> *out, *q, *k, *v;
  StridedMemRefType<int64_t, 1> *positions;
  ActMemRef<Act, 5> *cache;
};

template <typename Act>
bool checkAttention(const AttentionOperands<Act> &ops, const AttentionParams &p,
                    std::string &error) {
  if (!validMemref(ops.out, "out", error) || !validMemref(ops.q, "q", error) ||
      !validMemref(ops.k, "k", error) || !validMemref(ops.v, "v", error) ||
      !validMemref(ops.positions, "positions", error) ||
      !validMemref(ops.cache, "cache", error))
    return false;
  const int64_t t = ops.q->sizes[0], kvWidth = p.numKvHeads * p.headDim;
  const int64_t *c = ops.cache->sizes;
  if (!expectSizes(*ops.q, "q", {t, p.numHeads * p.headDim}, error) ||
      !expectSizes(*ops.out, "out", {t, p.numHeads * p.headDim}, error) ||
      !expectSizes(*ops.k, "k", {t, kvWidth}, error) ||
      !expectSizes(*ops.v, "v", {t, kvWidth}, error) ||
      !expectSizes(*ops.positions, "positions", {t}, error) ||
      !expectSizes(*ops.cache, "cache",
                   {c[0], 2, c[2], p.numKvHeads, p.headDim}, error))
    return false;
  if (p.layer >= c[0]) {
    error = "layer " + std::to_string(p.layer) +
            " is outside the cache's [0, " + std::to_string(c[0]) + ")";
    return false;
  }
  for (int64_t i = 0; i < t; ++i) {
    const int64_t position = element(*ops.positions, {i});
    if (position < 0 || position >= c[2]) {
      error = "positions[" + std::to_string(i) +
              "] = " + std::to_string(position) +
              " is outside the cache's [0, " + std::to_string(c[2]) + ")";
      return false;
    }
  }
  return true;
}

/// Writes k[t] and v[t] into cache[layer][0 / 1][positions[t]] (as stored,
/// no conversion), then reads the layer's keys and values [P, KV, D] of
/// positions 0..P-1 back as floats.
template <typename Act>
void updateCache(const AttentionOperands<Act> &ops, const AttentionParams &p,
                 const std::vector<int64_t> &positions,
                 std::vector<float> &keys, std::vector<float> &values) {
  const int64_t kv = p.numKvHeads, d = p.headDim;
  for (size_t t = 0; t < positions.size(); ++t)
    for (int64_t h = 0; h < kv; ++h)
      for (int64_t i = 0; i < d; ++i) {
        const int64_t row = static_cast<int64_t>(t), col = h * d + i;
        element(*ops.cache, {p.layer, 0, positions[t], h, i}) =
            element(*ops.k, {row, col});
        element(*ops.cache, {p.layer, 1, positions[t], h, i}) =
            element(*ops.v, {row, col});
      }
  const int64_t count =
      *std::max_element(positions.begin(), positions.end()) + 1;
  keys.resize(static_cast<size_t>(count * kv * d));
  values.resize(keys.size());
  for (int64_t j = 0; j < count; ++j)
    for (int64_t h = 0; h < kv; ++h)
      for (int64_t i = 0; i < d; ++i) {
        const size_t at = static_cast<size_t>((j * kv + h) * d + i);
        keys[at] = Act::load(element(*ops.cache, {p.layer, 0, j, h, i}));
        values[at] = Act::load(element(*ops.cache, {p.layer, 1, j, h, i}));
      }
}

template <typename Act>
int32_t attentionEntry(const AttentionOperands<Act> &ops,
                       StridedMemRefType<double, 1> *args) {
  std::string error;
  AttentionParams p;
  if (!decodeAttentionArgs(decodeArgs(args), p, error) ||
      !checkAttention(ops, p, error))
    return failKernel("hfq_attention", error);
  if (ops.q->sizes[0] == 0)
    return 0;
  std::vector<int64_t> positions = loadVector(*ops.positions);
  std::vector<float> keys, values, out;
  updateCache(ops, p, positions, keys, values);
  attention(loadActivations<Act>(*ops.q), positions, keys, values, p, out);
  storeActivations<Act>(out, *ops.out);
  return 0;
}

//===----------------------------------------------------------------------===//
// Elementwise ops and the unquantized linear
//===----------------------------------------------------------------------===//

/// y = round(combine(a, b)) for three [R, N] operands.
template <typename Act>
int32_t elementwiseEntry(const char *kernel, ActMemRef<Act, 2> *y,
                         ActMemRef<Act, 2> *a, const char *aName,
                         ActMemRef<Act, 2> *b, const char *bName,
                         ElementwiseOp combine) {
  std::string error;
  if (!validMemref(y, "y", error) || !validMemref(a, aName, error) ||
      !validMemref(b, bName, error) ||
      !expectSizes(*a, aName, {y->sizes[0], y->sizes[1]}, error) ||
      !expectSizes(*b, bName, {y->sizes[0], y->sizes[1]}, error))
    return failKernel(kernel, error);
  std::vector<float> out;
  combine(loadActivations<Act>(*a), loadActivations<Act>(*b), Act::kDType, out);
  storeActivations<Act>(out, *y);
  return 0;
}

/// nn.Linear: packed = [weight [N, K]] of any float dtype, no args.
bool unquantizedLinear(const LinearCall &call, std::string &error) {
  if (!call.args.empty()) {
    error = "takes no args, got " + std::to_string(call.args.size());
    return false;
  }
  std::vector<float> w;
  return expectTensorCount(call.packed.size(), 1, "weight", error) &&
         readFloatWeight(call.packed[0], {call.n, call.k}, "weight", w,
                         error) &&
         linearWithWeight(call, w, error);
}

const LinearForward &unquantizedLinearForward() {
  static const LinearForward forward = unquantizedLinear;
  return forward;
}

} // namespace

HFQ_LINEAR_ENTRIES(hfq_linear, unquantizedLinearForward)

/// The model ops of activation type `Act`, for HFQ_DEFINE_MODEL_OP_ENTRY.
template <typename Act> struct RefModelOps {
  template <typename... T> static int32_t embedding(T *...a) {
    return embeddingEntry<Act>(a...);
  }
  template <typename... T> static int32_t rmsNorm(T *...a) {
    return rmsNormEntry<Act>(a...);
  }
  template <typename... T> static int32_t rotary(T *...a) {
    return rotaryEntry<Act>(a...);
  }
  template <typename Y, typename P, typename C, typename A>
  static int32_t attention(Y *out, Y *q, Y *k, Y *v, P *positions, C *cache,
                           A *args) {
    return attentionEntry<Act>({out, q, k, v, positions, cache}, args);
  }
  template <typename Y> static int32_t siluMul(Y *y, Y *gate, Y *up) {
    return elementwiseEntry<Act>("hfq_silu_mul", y, gate, "gate", up, "up",
                                 ::hfq::kernels::siluMul);
  }
  template <typename Y> static int32_t add(Y *y, Y *a, Y *b) {
    return elementwiseEntry<Act>("hfq_add", y, a, "a", b, "b", residualAdd);
  }
};

#define HFQ_MODEL_OP_IMPL RefModelOps<F32Activation>
HFQ_MODEL_OP_SIGNATURES(HFQ_DEFINE_MODEL_OP_ENTRY, f32, float)
#undef HFQ_MODEL_OP_IMPL
#define HFQ_MODEL_OP_IMPL RefModelOps<F16Activation>
HFQ_MODEL_OP_SIGNATURES(HFQ_DEFINE_MODEL_OP_ENTRY, f16, uint16_t)
#undef HFQ_MODEL_OP_IMPL
#define HFQ_MODEL_OP_IMPL RefModelOps<Bf16Activation>
HFQ_MODEL_OP_SIGNATURES(HFQ_DEFINE_MODEL_OP_ENTRY, bf16, uint16_t)
#undef HFQ_MODEL_OP_IMPL
