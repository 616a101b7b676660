//===- ModelOpsElementwise.cu - Embedding, RMSNorm, rotary, SiLU·mul, add -===//
//
// The memory-bound model ops, each one kernel over strided device operands,
// computing in f32 and rounding to the activation type exactly where the CPU
// reference does (kernels/ref/ModelOps.cpp), with the same f32 operations:
// products and sums are __fmul_rn / __fadd_rn, so nvcc's FMA contraction
// cannot move a result off the reference's by a last bit. Where the
// reference sums in double (RMSNorm's squares) so does the kernel, and
// rotary's cos / sin are computed in double and rounded to f32 once: the
// reference's glibc cosf / sinf are within about half an ulp, so the two
// f32 values nearly always agree, where CUDA's cosf / sinf (2 ulp) would
// often not.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/ModelOpsAct.cuh"

namespace hfq::cuda::model_ops {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ int64_t at(const Matrix &m, int64_t r, int64_t c) {
  return r * m.rowStride + c * m.colStride;
}

//===----------------------------------------------------------------------===//
// Embedding: y[t] = table[ids[t]]
//===----------------------------------------------------------------------===//

template <typename A>
__global__ void embeddingKernel(Matrix y, Indices ids, const void *table,
                                WeightType type, int64_t vocab,
                                DeviceFault *fault) {
  using S = typename A::Storage;
  S *out = static_cast<S *>(y.data);
  const int64_t count = y.rows * y.cols;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / y.cols, c = i - t * y.cols;
    const int64_t id = ids.data[t * ids.stride];
    float v;
    if (id < 0 || id >= vocab) {
      if (c == 0)
        recordFault(fault, kEmbeddingId, t, id, vocab);
      v = quietNaN();
    } else {
      v = loadWeight(table, type, id * y.cols + c);
    }
    out[at(y, t, c)] = A::store(v);
  }
}

//===----------------------------------------------------------------------===//
// RMSNorm: one block per row
//===----------------------------------------------------------------------===//

template <typename A>
__global__ void __launch_bounds__(kThreads)
    rmsNormKernel(Matrix y, Matrix x, float eps, const void *w,
                  WeightType wType) {
  using S = typename A::Storage;
  const S *in = static_cast<const S *>(x.data);
  S *out = static_cast<S *>(y.data);
  const int64_t r = blockIdx.x, d = x.cols;
  double squares = 0.0;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    const double v = A::load(in[at(x, r, j)]);
    squares += v * v;
  }
  __shared__ double partial[kThreads / 32];
  for (int offset = 16; offset > 0; offset /= 2)
    squares += __shfl_xor_sync(0xffffffffu, squares, offset);
  if (threadIdx.x % 32 == 0)
    partial[threadIdx.x / 32] = squares;
  __syncthreads();
  __shared__ float inverse;
  if (threadIdx.x == 0) {
    double total = 0.0;
    for (int i = 0; i < kThreads / 32; ++i)
      total += partial[i];
    const float variance = static_cast<float>(total / double(d));
    inverse = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(variance, eps)));
  }
  __syncthreads();
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    const float h = A::round(__fmul_rn(A::load(in[at(x, r, j)]), inverse));
    out[at(y, r, j)] = A::store(__fmul_rn(loadWeight(w, wType, j), h));
  }
}

//===----------------------------------------------------------------------===//
// Rotary: one block per token; cos / sin once per token in shared memory
//===----------------------------------------------------------------------===//

struct InvFreq {
  float v[kMaxRotaryHalf];
};

template <typename A>
__global__ void __launch_bounds__(kThreads)
    rotaryKernel(Matrix y, Matrix x, Indices positions, InvFreq invFreq,
                 int half, float scaling) {
  using S = typename A::Storage;
  const S *in = static_cast<const S *>(x.data);
  S *out = static_cast<S *>(y.data);
  const int64_t t = blockIdx.x;
  __shared__ float cosines[kMaxRotaryHalf], sines[kMaxRotaryHalf];
  const float position =
      static_cast<float>(positions.data[t * positions.stride]);
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    const float angle = __fmul_rn(position, invFreq.v[i]);
    cosines[i] =
        A::round(__fmul_rn(static_cast<float>(cos(double(angle))), scaling));
    sines[i] =
        A::round(__fmul_rn(static_cast<float>(sin(double(angle))), scaling));
  }
  __syncthreads();
  const int64_t pairs = x.cols / 2, headDim = 2 * int64_t(half);
  for (int64_t p = threadIdx.x; p < pairs; p += blockDim.x) {
    const int64_t head = p / half, i = p - head * half;
    const int64_t loCol = head * headDim + i, hiCol = loCol + half;
    const float lo = A::load(in[at(x, t, loCol)]),
                hi = A::load(in[at(x, t, hiCol)]);
    // rotate_half(x) = cat(-x[D/2:], x[:D/2]).
    out[at(y, t, loCol)] =
        A::store(__fsub_rn(__fmul_rn(lo, cosines[i]), __fmul_rn(hi, sines[i])));
    out[at(y, t, hiCol)] =
        A::store(__fadd_rn(__fmul_rn(hi, cosines[i]), __fmul_rn(lo, sines[i])));
  }
}

//===----------------------------------------------------------------------===//
// SiLU·mul and the residual add
//===----------------------------------------------------------------------===//

template <typename A, Elementwise Op>
__global__ void elementwiseKernel(Matrix y, Matrix a, Matrix b) {
  using S = typename A::Storage;
  const S *left = static_cast<const S *>(a.data);
  const S *right = static_cast<const S *>(b.data);
  S *out = static_cast<S *>(y.data);
  const int64_t count = y.rows * y.cols;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / y.cols, c = i - r * y.cols;
    const float u = A::load(left[at(a, r, c)]), v = A::load(right[at(b, r, c)]);
    float result;
    if constexpr (Op == Elementwise::SiluMul) {
      const float silu = A::round(__fdiv_rn(u, __fadd_rn(1.0f, expf(-u))));
      result = __fmul_rn(silu, v);
    } else {
      result = __fadd_rn(u, v);
    }
    out[at(y, r, c)] = A::store(result);
  }
}

/// Grid-stride kernels: enough blocks to fill the chip a few times over.
unsigned gridFor(int64_t count, const Launch &launch) {
  const unsigned cap = static_cast<unsigned>(launch.multiprocessors * 16);
  const unsigned blocks = blocksFor(count, kThreads);
  return blocks < cap ? blocks : cap;
}

} // namespace

bool launchEmbedding(Act act, const Matrix &y, const Indices &ids,
                     const void *table, WeightType tableType, int64_t vocab,
                     const Launch &launch, std::string &error) {
  onAct(act, [&](auto a) {
    embeddingKernel<decltype(a)>
        <<<gridFor(y.rows * y.cols, launch), kThreads, 0, launch.stream>>>(
            y, ids, table, tableType, vocab, launch.fault);
  });
  return launched("the embedding kernel", error);
}

bool launchRmsNorm(Act act, const Matrix &y, const Matrix &x, float eps,
                   const void *w, WeightType wType, const Launch &launch,
                   std::string &error) {
  onAct(act, [&](auto a) {
    rmsNormKernel<decltype(a)>
        <<<static_cast<unsigned>(x.rows), kThreads, 0, launch.stream>>>(
            y, x, eps, w, wType);
  });
  return launched("the RMSNorm kernel", error);
}

bool launchRotary(Act act, const Matrix &y, const Matrix &x,
                  const Indices &positions, const float *invFreq,
                  int64_t headDim, float attentionScaling, const Launch &launch,
                  std::string &error) {
  InvFreq table{};
  const int half = static_cast<int>(headDim / 2);
  for (int i = 0; i < half; ++i)
    table.v[i] = invFreq[i];
  onAct(act, [&](auto a) {
    rotaryKernel<decltype(a)>
        <<<static_cast<unsigned>(x.rows), kThreads, 0, launch.stream>>>(
            y, x, positions, table, half, attentionScaling);
  });
  return launched("the rotary kernel", error);
}

bool launchElementwise(Act act, Elementwise op, const Matrix &y,
                       const Matrix &a, const Matrix &b, const Launch &launch,
                       std::string &error) {
  const unsigned grid = gridFor(y.rows * y.cols, launch);
  onAct(act, [&](auto traits) {
    using A = decltype(traits);
    if (op == Elementwise::SiluMul)
      elementwiseKernel<A, Elementwise::SiluMul>
          <<<grid, kThreads, 0, launch.stream>>>(y, a, b);
    else
      elementwiseKernel<A, Elementwise::Add>
          <<<grid, kThreads, 0, launch.stream>>>(y, a, b);
  });
  return launched("the elementwise kernel", error);
}

} // namespace hfq::cuda::model_ops
