//===- ModelOpsEntry.cu - The CUDA model ops behind the model-op ABI ------===//
//
// The entry points of kernels/include/hfq_model_ops.h for f32, f16 and bf16
// activations, in libhfq_model_ops_cuda.so, with device-resident operands
// (kernels/cuda/ModelOps.md, "Where each operand lives"). Each one
//   1. checks every descriptor, size, weight and arg on the host, from the
//      descriptors, the tensor table and the args alone (same messages as the
//      CPU reference, kernels/ref/ModelOpsEntry.cpp; the arg decoders are the
//      reference's own, kernels/ref/ModelOps.cpp compiled in), and returns
//      non-zero before anything is launched if one is wrong;
//   2. launches on the library's stream (hfq_cuda_model_ops_stream) and
//      returns without waiting: no synchronization, no copy to the host.
// What only the device can see (an id or position out of range) goes to
// the fault word; hfq_cuda_model_ops_check reports it.
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Abi.h"
#include "kernels/abi/StoredTensor.h"
#include "kernels/cuda/ModelOps.h"
#include "kernels/cuda/ModelOpsInternal.h"
#include "kernels/ref/ModelOps.h"

#include <cuda_runtime.h>

#include <array>
#include <mutex>

using namespace hfq::cuda::model_ops;
using hfq::kernels::checkMemRef;
using hfq::kernels::DType;
using hfq::kernels::failKernel;
using hfq::kernels::TensorView;

namespace {

//===----------------------------------------------------------------------===//
// The library's device state
//===----------------------------------------------------------------------===//

/// The stream, the fault word, the attention scratch and the forced
/// attention path. Never destroyed (nothing runs after the CUDA runtime has
/// shut down).
struct Context {
  std::mutex mutex;
  bool ready = false;
  cudaStream_t own = nullptr, current = nullptr;
  DeviceFault *fault = nullptr;
  int multiprocessors = 0;
  void *scratch = nullptr;
  size_t scratchBytes = 0;
  int attentionPath = 0;
};

Context &context() {
  static Context *state = new Context;
  return *state;
}

/// Initializes the state on first use (under the lock).
bool ready(Context &ctx, std::string &error) {
  if (ctx.ready)
    return true;
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    (void)cudaGetLastError();
    error = "cannot run on the GPU: no CUDA device";
    return false;
  }
  int device = 0;
  if (!cudaOk(cudaGetDevice(&device), "cudaGetDevice", error) ||
      !cudaOk(cudaDeviceGetAttribute(&ctx.multiprocessors,
                                     cudaDevAttrMultiProcessorCount, device),
              "reading the multiprocessor count", error) ||
      !cudaOk(cudaStreamCreateWithFlags(&ctx.own, cudaStreamNonBlocking),
              "creating the stream", error) ||
      !cudaOk(cudaMalloc(&ctx.fault, sizeof(DeviceFault)),
              "allocating the fault word", error) ||
      !cudaOk(cudaMemset(ctx.fault, 0, sizeof(DeviceFault)),
              "clearing the fault word", error) ||
      // The stream does not wait for the legacy stream's memset.
      !cudaOk(cudaDeviceSynchronize(), "clearing the fault word", error))
    return false;
  if (!ctx.current)
    ctx.current = ctx.own;
  ctx.ready = true;
  return true;
}

/// Runs `launchOp(const Launch &, std::string &)` under the lock on the
/// current stream; the ABI status.
template <typename F> int32_t launchOn(const char *kernel, F &&launchOp) {
  Context &ctx = context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  std::string error;
  if (!ready(ctx, error))
    return failKernel(kernel, error);
  const Launch launch{ctx.current, ctx.fault, ctx.multiprocessors};
  if (!launchOp(launch, ctx.attentionPath, error))
    return failKernel(kernel, error);
  return 0;
}

//===----------------------------------------------------------------------===//
// Descriptors
//===----------------------------------------------------------------------===//

template <size_t N> std::string sizesString(const int64_t (&sizes)[N]) {
  return hfq::kernels::shapeString(std::vector<int64_t>(sizes, sizes + N));
}

/// `m` has exactly `sizes` (the reference's message).
template <typename T, int N>
bool expectSizes(const StridedMemRefType<T, N> &m, const char *name,
                 const std::array<int64_t, N> &sizes, std::string &error) {
  if (std::equal(sizes.begin(), sizes.end(), m.sizes))
    return true;
  error = std::string(name) + " has sizes " + sizesString(m.sizes) +
          ", expected " +
          hfq::kernels::shapeString(
              std::vector<int64_t>(sizes.begin(), sizes.end()));
  return false;
}

template <typename T> Matrix matrixOf(const StridedMemRefType<T, 2> &m) {
  return {m.data + m.offset, m.sizes[0], m.sizes[1], m.strides[0],
          m.strides[1]};
}

Indices indicesOf(const StridedMemRefType<int64_t, 1> &m) {
  return {m.data + m.offset, m.sizes[0], m.strides[0]};
}

/// The bytes of a decoded (contiguous) weight.
size_t viewBytes(const TensorView &view) {
  return static_cast<size_t>(view.numel()) *
         hfq::kernels::dtypeSize(view.dtype);
}

/// A float weight's element type (expectFloatView has checked it).
WeightType weightTypeOf(const TensorView &view) {
  return view.dtype == DType::F16    ? WeightType::F16
         : view.dtype == DType::BF16 ? WeightType::BF16
                                     : WeightType::F32;
}

/// The one float weight of `table`, of `shape` (the reference's checks and
/// messages; nothing read through its address).
bool oneWeight(const StridedMemRefType<int64_t, 2> *table,
               const std::vector<int64_t> &shape, TensorView &out,
               std::string &error) {
  std::vector<TensorView> views;
  if (!hfq::kernels::decodeTable(table, views, error) ||
      !hfq::kernels::expectTensorCount(views.size(), 1, "weight", error) ||
      !hfq::kernels::expectFloatView(views[0], "weight", shape, error))
    return false;
  out = views[0];
  return true;
}

bool args(const StridedMemRefType<double, 1> *descriptor,
          std::vector<double> &out, std::string &error) {
  return hfq::kernels::decodeArgs(descriptor, out, error);
}

//===----------------------------------------------------------------------===//
// The ops
//===----------------------------------------------------------------------===//

template <Act A, typename S>
int32_t embeddingEntry(StridedMemRefType<S, 2> *y,
                       StridedMemRefType<int64_t, 1> *ids,
                       StridedMemRefType<int64_t, 2> *table) {
  constexpr const char *kKernel = "hfq_embedding";
  std::string error;
  std::vector<TensorView> views;
  if (!checkMemRef(y, "y", error) || !checkMemRef(ids, "ids", error) ||
      !expectSizes(*ids, "ids", {y->sizes[0]}, error) ||
      !hfq::kernels::decodeTable(table, views, error) ||
      !hfq::kernels::expectTensorCount(views.size(), 1, "weight", error))
    return failKernel(kKernel, error);
  const TensorView &w = views[0];
  const int64_t hidden = y->sizes[1];
  const int64_t vocab = w.shape.empty() ? 0 : w.shape[0];
  if (w.shape.size() != 2 || w.shape[1] != hidden)
    return failKernel(kKernel, "the embedding table must be [V, " +
                                   std::to_string(hidden) + "], got " +
                                   hfq::kernels::shapeString(w.shape));
  if (!hfq::kernels::expectFloatView(w, "the embedding table", {vocab, hidden},
                                     error))
    return failKernel(kKernel, error);
  if (y->sizes[0] * hidden == 0)
    return 0;
  return launchOn(kKernel, [&](const Launch &launch, int, std::string &e) {
    const void *table = nullptr;
    return residentWeight(w.data, viewBytes(w), table, e) &&
           launchEmbedding(A, matrixOf(*y), indicesOf(*ids), table,
                           weightTypeOf(w), vocab, launch, e);
  });
}

template <Act A, typename S>
int32_t rmsNormEntry(StridedMemRefType<S, 2> *y, StridedMemRefType<S, 2> *x,
                     StridedMemRefType<double, 1> *argv,
                     StridedMemRefType<int64_t, 2> *table) {
  constexpr const char *kKernel = "hfq_rms_norm";
  std::string error;
  std::vector<double> values;
  float eps = 0.0f;
  TensorView w;
  if (!checkMemRef(y, "y", error) || !checkMemRef(x, "x", error) ||
      !expectSizes(*y, "y", {x->sizes[0], x->sizes[1]}, error) ||
      !args(argv, values, error) ||
      !hfq::kernels::decodeRmsNormArgs(values, eps, error) ||
      !oneWeight(table, {x->sizes[1]}, w, error))
    return failKernel(kKernel, error);
  if (x->sizes[0] == 0)
    return 0;
  return launchOn(kKernel, [&](const Launch &launch, int, std::string &e) {
    const void *weight = nullptr;
    return residentWeight(w.data, viewBytes(w), weight, e) &&
           launchRmsNorm(A, matrixOf(*y), matrixOf(*x), eps, weight,
                         weightTypeOf(w), launch, e);
  });
}

template <Act A, typename S>
int32_t rotaryEntry(StridedMemRefType<S, 2> *y, StridedMemRefType<S, 2> *x,
                    StridedMemRefType<int64_t, 1> *positions,
                    StridedMemRefType<float, 1> *invFreq,
                    StridedMemRefType<double, 1> *argv) {
  constexpr const char *kKernel = "hfq_rotary";
  std::string error;
  std::vector<double> values;
  hfq::kernels::RotaryParams p;
  if (!checkMemRef(y, "y", error) || !checkMemRef(x, "x", error) ||
      !checkMemRef(positions, "positions", error) ||
      !checkMemRef(invFreq, "inv_freq", error) ||
      !expectSizes(*y, "y", {x->sizes[0], x->sizes[1]}, error) ||
      !expectSizes(*positions, "positions", {x->sizes[0]}, error) ||
      !args(argv, values, error) ||
      !hfq::kernels::decodeRotaryArgs(values, p, error) ||
      !expectSizes(*invFreq, "inv_freq", {p.headDim / 2}, error))
    return failKernel(kKernel, error);
  if (x->sizes[1] % p.headDim != 0)
    return failKernel(kKernel, "x has " + std::to_string(x->sizes[1]) +
                                   " columns, not a multiple of head_dim " +
                                   std::to_string(p.headDim));
  if (p.headDim / 2 > kMaxRotaryHalf)
    return failKernel(kKernel, "head_dim " + std::to_string(p.headDim) +
                                   " is over the CUDA rotary's limit of " +
                                   std::to_string(2 * kMaxRotaryHalf));
  if (x->sizes[0] * x->sizes[1] == 0)
    return 0;
  // inv_freq is host memory: read here, passed to the kernel by value.
  std::vector<float> frequencies(static_cast<size_t>(p.headDim / 2));
  for (size_t i = 0; i < frequencies.size(); ++i)
    frequencies[i] =
        invFreq->data[invFreq->offset + int64_t(i) * invFreq->strides[0]];
  return launchOn(kKernel, [&](const Launch &launch, int, std::string &e) {
    return launchRotary(A, matrixOf(*y), matrixOf(*x), indicesOf(*positions),
                        frequencies.data(), p.headDim, p.attentionScaling,
                        launch, e);
  });
}

template <Act A, typename S>
int32_t attentionEntry(StridedMemRefType<S, 2> *out, StridedMemRefType<S, 2> *q,
                       StridedMemRefType<S, 2> *k, StridedMemRefType<S, 2> *v,
                       StridedMemRefType<int64_t, 1> *positions,
                       StridedMemRefType<S, 5> *cache,
                       StridedMemRefType<double, 1> *argv) {
  constexpr const char *kKernel = "hfq_attention";
  std::string error;
  std::vector<double> values;
  hfq::kernels::AttentionParams p;
  if (!args(argv, values, error) ||
      !hfq::kernels::decodeAttentionArgs(values, p, error) ||
      !checkMemRef(out, "out", error) || !checkMemRef(q, "q", error) ||
      !checkMemRef(k, "k", error) || !checkMemRef(v, "v", error) ||
      !checkMemRef(positions, "positions", error) ||
      !checkMemRef(cache, "cache", error))
    return failKernel(kKernel, error);
  const int64_t t = q->sizes[0], kvWidth = p.numKvHeads * p.headDim;
  const int64_t *c = cache->sizes;
  if (!expectSizes(*q, "q", {t, p.numHeads * p.headDim}, error) ||
      !expectSizes(*out, "out", {t, p.numHeads * p.headDim}, error) ||
      !expectSizes(*k, "k", {t, kvWidth}, error) ||
      !expectSizes(*v, "v", {t, kvWidth}, error) ||
      !expectSizes(*positions, "positions", {t}, error) ||
      !expectSizes(*cache, "cache", {c[0], 2, c[2], p.numKvHeads, p.headDim},
                   error))
    return failKernel(kKernel, error);
  if (p.layer >= c[0])
    return failKernel(kKernel, "layer " + std::to_string(p.layer) +
                                   " is outside the cache's [0, " +
                                   std::to_string(c[0]) + ")");
  const std::string shape = attentionShapeProblem(A, p.headDim);
  if (!shape.empty())
    return failKernel(kKernel, shape);
  // The kernels read cache rows with 16-byte loads along head_dim.
  const int64_t vec = 16 / int64_t(sizeof(S));
  S *layer = cache->data + cache->offset + p.layer * cache->strides[0];
  const bool aligned = reinterpret_cast<uintptr_t>(layer) % 16 == 0 &&
                       cache->strides[4] == 1 && cache->strides[1] % vec == 0 &&
                       cache->strides[2] % vec == 0 &&
                       cache->strides[3] % vec == 0;
  if (!aligned)
    return failKernel(kKernel,
                      "the cache must have unit stride along head_dim and "
                      "16-byte aligned rows (strides " +
                          sizesString(cache->strides) + ")");
  if (t == 0)
    return 0;
  AttentionCall call;
  call.out = matrixOf(*out);
  call.q = matrixOf(*q);
  call.k = matrixOf(*k);
  call.v = matrixOf(*v);
  call.positions = indicesOf(*positions);
  call.cache = layer;
  for (int d = 0; d < 3; ++d)
    call.cacheStrides[d] = cache->strides[d + 1];
  call.capacity = c[2];
  call.numHeads = p.numHeads;
  call.numKvHeads = p.numKvHeads;
  call.headDim = p.headDim;
  call.slidingWindow = p.slidingWindow;
  call.scaling = p.scaling;
  return launchOn(kKernel, [&](const Launch &launch, int path, std::string &e) {
    return launchAttention(A, call, path, launch, e);
  });
}

template <Act A, typename S>
int32_t elementwiseEntry(const char *kernel, Elementwise op,
                         StridedMemRefType<S, 2> *y, StridedMemRefType<S, 2> *a,
                         const char *aName, StridedMemRefType<S, 2> *b,
                         const char *bName) {
  std::string error;
  if (!checkMemRef(y, "y", error) || !checkMemRef(a, aName, error) ||
      !checkMemRef(b, bName, error) ||
      !expectSizes(*a, aName, {y->sizes[0], y->sizes[1]}, error) ||
      !expectSizes(*b, bName, {y->sizes[0], y->sizes[1]}, error))
    return failKernel(kernel, error);
  if (y->sizes[0] * y->sizes[1] == 0)
    return 0;
  return launchOn(kernel, [&](const Launch &launch, int, std::string &e) {
    return launchElementwise(A, op, matrixOf(*y), matrixOf(*a), matrixOf(*b),
                             launch, e);
  });
}

/// cuBLAS reads x and writes y as row-major blocks: unit stride along a
/// row and a row stride of at least the row (any for one row).
template <typename S>
bool blasLayout(const StridedMemRefType<S, 2> &m, const char *name,
                std::string &error) {
  if ((m.sizes[1] <= 1 || m.strides[1] == 1) &&
      (m.sizes[0] <= 1 || m.strides[0] >= m.sizes[1]))
    return true;
  error = std::string(name) +
          " must be row-major with unit stride along its rows for cuBLAS "
          "(strides " +
          sizesString(m.strides) + ")";
  return false;
}

template <Act A, typename S>
int32_t linearEntry(StridedMemRefType<S, 2> *y, StridedMemRefType<S, 2> *x,
                    StridedMemRefType<S, 1> *bias,
                    StridedMemRefType<double, 1> *argv,
                    StridedMemRefType<int64_t, 2> *table) {
  constexpr const char *kKernel = "hfq_linear";
  std::string error;
  if (!checkMemRef(y, "y", error) || !checkMemRef(x, "x", error) ||
      !checkMemRef(bias, "bias", error))
    return failKernel(kKernel, error);
  const int64_t m = x->sizes[0], k = x->sizes[1], n = y->sizes[1];
  if (y->sizes[0] != m)
    return failKernel(kKernel, "y has " + std::to_string(y->sizes[0]) +
                                   " rows but x has " + std::to_string(m));
  if (bias->sizes[0] != 0 && bias->sizes[0] != n)
    return failKernel(kKernel,
                      "bias has " + std::to_string(bias->sizes[0]) +
                          " elements, expected 0 or N = " + std::to_string(n));
  std::vector<double> values;
  TensorView w;
  if (!args(argv, values, error))
    return failKernel(kKernel, error);
  if (!values.empty())
    return failKernel(kKernel,
                      "takes no args, got " + std::to_string(values.size()));
  for (auto [name, size] : {std::pair{"M", m}, {"N", n}, {"K", k}})
    if (size > hfq::kernels::kMaxKernelDim)
      return failKernel(kKernel,
                        std::string(name) + " = " + std::to_string(size) +
                            " is over the kernels' limit of " +
                            std::to_string(hfq::kernels::kMaxKernelDim));
  if (!oneWeight(table, {n, k}, w, error) || !blasLayout(*x, "x", error) ||
      !blasLayout(*y, "y", error))
    return failKernel(kKernel, error);
  if (n == 0 || k == 0)
    return failKernel(kKernel,
                      "N and K must be positive, got N = " + std::to_string(n) +
                          ", K = " + std::to_string(k));
  if (m == 0)
    return 0;
  LinearCall call;
  call.y = matrixOf(*y);
  call.x = matrixOf(*x);
  if (bias->sizes[0]) {
    call.bias = bias->data + bias->offset;
    call.biasStride = bias->strides[0];
  }
  call.weight = w.data;
  call.weightType = weightTypeOf(w);
  call.n = n;
  call.k = k;
  const size_t biasBytes =
      bias->sizes[0] ? static_cast<size_t>((n - 1) * bias->strides[0] + 1) *
                           sizeof(S)
                     : 0;
  return launchOn(kKernel, [&](const Launch &launch, int, std::string &e) {
    return residentWeight(w.data, viewBytes(w), call.weight, e) &&
           (!call.bias || residentWeight(call.bias, biasBytes, call.bias, e)) &&
           launchLinear(A, call, launch, e);
  });
}

} // namespace

//===----------------------------------------------------------------------===//
// The library's own functions (ModelOps.h)
//===----------------------------------------------------------------------===//

namespace hfq::cuda::model_ops {

bool cudaOk(cudaError_t status, const char *what, std::string &error) {
  if (status == cudaSuccess)
    return true;
  error = std::string(what) + ": " + cudaGetErrorString(status);
  return false;
}

bool launched(const char *what, std::string &error) {
  return cudaOk(cudaGetLastError(), (std::string("launching ") + what).c_str(),
                error);
}

bool scratch(size_t bytes, const Launch &launch, void *&out,
             std::string &error) {
  // Called under the context's lock (from launchOn).
  Context &ctx = context();
  if (bytes > ctx.scratchBytes) {
    if (ctx.scratch && !cudaOk(cudaFreeAsync(ctx.scratch, launch.stream),
                               "freeing the attention scratch", error))
      return false;
    ctx.scratch = nullptr;
    ctx.scratchBytes = 0;
    if (!cudaOk(cudaMallocAsync(&ctx.scratch, bytes, launch.stream),
                "allocating the attention scratch", error))
      return false;
    ctx.scratchBytes = bytes;
  }
  out = ctx.scratch;
  return true;
}

} // namespace hfq::cuda::model_ops

extern "C" void *hfq_cuda_model_ops_stream(void) {
  Context &ctx = context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  std::string error;
  if (!ready(ctx, error)) {
    failKernel("hfq_cuda_model_ops_stream", error);
    return nullptr;
  }
  return ctx.current;
}

extern "C" int32_t hfq_cuda_model_ops_set_stream(void *stream) {
  Context &ctx = context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  std::string error;
  if (!ready(ctx, error))
    return failKernel("hfq_cuda_model_ops_set_stream", error);
  ctx.current = stream ? static_cast<cudaStream_t>(stream) : ctx.own;
  return 0;
}

extern "C" int32_t hfq_cuda_model_ops_check(void) {
  Context &ctx = context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  if (!ctx.ready)
    return 0;
  std::string error;
  DeviceFault fault{};
  if (!cudaOk(cudaStreamSynchronize(ctx.current), "running the model ops",
              error) ||
      !cudaOk(
          cudaMemcpy(&fault, ctx.fault, sizeof fault, cudaMemcpyDeviceToHost),
          "reading the fault word", error))
    return failKernel("hfq_cuda_model_ops_check", error);
  if (fault.op == kNoFault)
    return 0;
  cudaMemsetAsync(ctx.fault, 0, sizeof fault, ctx.current);
  if (fault.op == kEmbeddingId)
    return failKernel("hfq_embedding",
                      "ids[" + std::to_string(fault.index) + "] = " +
                          std::to_string(fault.value) + " is outside [0, " +
                          std::to_string(fault.bound) + ")");
  return failKernel("hfq_attention", "positions[" +
                                         std::to_string(fault.index) +
                                         "] = " + std::to_string(fault.value) +
                                         " is outside the cache's [0, " +
                                         std::to_string(fault.bound) + ")");
}

extern "C" void hfq_cuda_model_ops_release_weights(void) {
  releaseLinearWeights();
  releaseResidentWeights();
}

extern "C" void hfq_cuda_model_ops_force_attention_path(int32_t path) {
  Context &ctx = context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  ctx.attentionPath = path;
}

//===----------------------------------------------------------------------===//
// The entry points (declared in kernels/ref/ModelOps.h, same signatures)
//===----------------------------------------------------------------------===//

/// The model ops of activation `A`, for HFQ_DEFINE_MODEL_OP_ENTRY
/// (kernels/abi/ModelOpEntries.h holds the signatures).
template <Act A> struct CudaModelOps {
  template <typename... T> static int32_t embedding(T *...a) {
    return embeddingEntry<A>(a...);
  }
  template <typename... T> static int32_t rmsNorm(T *...a) {
    return rmsNormEntry<A>(a...);
  }
  template <typename... T> static int32_t rotary(T *...a) {
    return rotaryEntry<A>(a...);
  }
  template <typename... T> static int32_t attention(T *...a) {
    return attentionEntry<A>(a...);
  }
  template <typename Y> static int32_t siluMul(Y *y, Y *gate, Y *up) {
    return elementwiseEntry<A>("hfq_silu_mul", Elementwise::SiluMul, y, gate,
                               "gate", up, "up");
  }
  template <typename Y> static int32_t add(Y *y, Y *a, Y *b) {
    return elementwiseEntry<A>("hfq_add", Elementwise::Add, y, a, "a", b, "b");
  }
};

/// The model ops and the unquantized linear of activation `A`, suffix `act`.
#define HFQ_DEFINE_CUDA_MODEL_OPS(act, A, S)                                   \
  HFQ_MODEL_OP_SIGNATURES(HFQ_DEFINE_MODEL_OP_ENTRY, act, S)                   \
  extern "C" int32_t _mlir_ciface_hfq_linear_##act(                            \
      StridedMemRefType<S, 2> *y, StridedMemRefType<S, 2> *x,                  \
      StridedMemRefType<S, 1> *bias, StridedMemRefType<double, 1> *args,       \
      StridedMemRefType<int64_t, 2> *packed) {                                 \
    return linearEntry<A>(y, x, bias, args, packed);                           \
  }

#define HFQ_MODEL_OP_IMPL CudaModelOps<Act::F32>
HFQ_DEFINE_CUDA_MODEL_OPS(f32, Act::F32, float)
#undef HFQ_MODEL_OP_IMPL
#define HFQ_MODEL_OP_IMPL CudaModelOps<Act::F16>
HFQ_DEFINE_CUDA_MODEL_OPS(f16, Act::F16, uint16_t)
#undef HFQ_MODEL_OP_IMPL
#define HFQ_MODEL_OP_IMPL CudaModelOps<Act::BF16>
HFQ_DEFINE_CUDA_MODEL_OPS(bf16, Act::BF16, uint16_t)
#undef HFQ_MODEL_OP_IMPL
