//===- Fp8Decode.cu - fine-grained FP8 GEMV for M <= 16 -------------------===//
//
// The decode path of the FP8 weights (Fp8.h): the kernel (fp8DecodeKernel)
// and its launcher (detail::fp8LaunchDecode). Memory-bound: at M = 1 it
// moves 1 byte per weight plus one f32 scale per 128 x 128 block, and the
// already-quantized activations (1 byte per element, from L2).
//
//  * A block owns a 16-row tile of W and all of K; its 8 warps take the
//    128-K blocks kb = warp, warp + 8, ... and reduce in shared memory at
//    the end (no atomics: y is deterministic).
//  * Per 128-K block, lane (g = lane / 4, t = lane % 4) loads 16 bytes of W
//    rows g and g + 8 at K offsets 64 c + 16 t (c = 0, 1): four 128-bit
//    loads, no shared memory. The mma is mma.m16n8k32 e4m3 with the weight
//    as A (16 rows x 32 K) and the activation codes as B (32 K x 8 tokens).
//    Its K positions are a permutation of the block's (the same for A and
//    B, so the dot product is unchanged): for the half h of the lane's 16
//    bytes, a0 / a2 are bytes 8h .. 8h + 3 / 8h + 4 .. 8h + 7 of row g (a1
//    / a3 of row g + 8), and b0 / b1 the same bytes of token g's codes, one
//    16-byte load of x8 per lane and chunk.
//  * Promotion: the four mma of a block accumulate in the mma's f32
//    registers from zero; then each is scaled, (d * sx[token, kb]) *
//    sw[tile, kb] in two roundings as the reference, and added into the
//    lane's running f32 sums.
//  * The next block's weights are loaded before the current one is
//    computed (2 KB in flight per warp), with L1::no_allocate; the scales
//    and codes of x through the L1.
//
// kernels/cuda/NOTES.md ("Fine-grained FP8") has the prediction.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Fp8.h"
#include "kernels/cuda/Internal.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace hfq::cuda {

namespace {

constexpr int kWarps = 8;
constexpr int kTileRows = 16;
constexpr int kBlockK = 128;

__device__ __forceinline__ uint4 loadStreaming(const uint8_t *p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

/// d += A (16 x 32 e4m3) . B (32 x 8 e4m3), in the mma's f32 accumulator.
__device__ __forceinline__ void mmaE4m3(float (&d)[4], uint32_t a0, uint32_t a1,
                                        uint32_t a2, uint32_t a3, uint32_t b0,
                                        uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  asm volatile("mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#else
  // The launcher refuses devices other than sm_90; nothing runs here.
  (void)d, (void)a0, (void)a1, (void)a2, (void)a3, (void)b0, (void)b1;
#endif
}

__device__ __forceinline__ uint32_t word(const uint4 &v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

template <bool Bf16> __device__ uint16_t narrow(float v) {
  if constexpr (Bf16)
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
  else
    return __half_as_ushort(__float2half_rn(v));
}
template <bool Bf16> __device__ float widen(uint16_t h) {
  if constexpr (Bf16)
    return __uint_as_float(static_cast<uint32_t>(h) << 16);
  else
    return __half2float(__ushort_as_half(h));
}

/// NT token tiles of 8 (M <= 8 NT).
template <int NT, bool Bf16>
__global__ void __launch_bounds__(kWarps * 32)
    fp8DecodeKernel(const detail::Fp8GemmArgs a) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;
  const int row0 = blockIdx.x * kTileRows;
  const int kBlocks = a.k / kBlockK;
  const uint8_t *wg = a.w + static_cast<size_t>(row0 + g) * a.k + 16 * t;
  const size_t rowStep = static_cast<size_t>(8) * a.k; // row g -> g + 8
  // This lane's tokens: B column g of each token tile; C columns 2t, 2t + 1.
  const uint8_t *xg[NT];
  bool xValid[NT];
#pragma unroll
  for (int j = 0; j < NT; ++j) {
    xValid[j] = 8 * j + g < a.m;
    xg[j] =
        a.x8 + static_cast<size_t>(xValid[j] ? 8 * j + g : 0) * a.k + 16 * t;
  }
  const float *swRow = a.wScales + (row0 / kBlockK) * a.wScaleRow;

  float acc[NT][4] = {};
  uint4 cur[4] = {}, next[4] = {};
  auto loadW = [&](int kb, uint4(&w)[4]) {
    const uint8_t *p = wg + static_cast<size_t>(kb) * kBlockK;
    w[0] = loadStreaming(p);
    w[1] = loadStreaming(p + rowStep);
    w[2] = loadStreaming(p + 64);
    w[3] = loadStreaming(p + 64 + rowStep);
  };
  int kb = warp;
  if (kb < kBlocks)
    loadW(kb, cur);
  for (; kb < kBlocks; kb += kWarps) {
    if (kb + kWarps < kBlocks)
      loadW(kb + kWarps, next);
    const float sw = swRow[kb * a.wScaleCol];
#pragma unroll
    for (int j = 0; j < NT; ++j) {
      uint4 x[2] = {make_uint4(0, 0, 0, 0), make_uint4(0, 0, 0, 0)};
      if (xValid[j]) {
        x[0] = __ldg(reinterpret_cast<const uint4 *>(xg[j] + kb * kBlockK));
        x[1] =
            __ldg(reinterpret_cast<const uint4 *>(xg[j] + kb * kBlockK + 64));
      }
      float d[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
      for (int c = 0; c < 2; ++c)
#pragma unroll
        for (int h = 0; h < 2; ++h)
          mmaE4m3(d, word(cur[2 * c], 2 * h), word(cur[2 * c + 1], 2 * h),
                  word(cur[2 * c], 2 * h + 1), word(cur[2 * c + 1], 2 * h + 1),
                  word(x[c], 2 * h), word(x[c], 2 * h + 1));
      // C columns 2t, 2t + 1 are tokens 8j + 2t, 8j + 2t + 1.
      float sx[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int token = 8 * j + 2 * t + i;
        sx[i] = token < a.m ? __ldg(a.xScales +
                                    static_cast<size_t>(token) * a.xScaleCols +
                                    (a.xScaleCols == 1 ? 0 : kb))
                            : 0.0f;
      }
#pragma unroll
      for (int e = 0; e < 4; ++e)
        acc[j][e] =
            __fadd_rn(acc[j][e], __fmul_rn(__fmul_rn(d[e], sx[e & 1]), sw));
    }
#pragma unroll
    for (int i = 0; i < 4; ++i)
      cur[i] = next[i];
  }

  // The warps' partial sums, added in warp order by warp 0.
  __shared__ float partial[kWarps][NT * 4][32];
#pragma unroll
  for (int j = 0; j < NT; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e)
      partial[warp][4 * j + e][lane] = acc[j][e];
  __syncthreads();
  if (warp != 0)
    return;
  auto *y = static_cast<uint16_t *>(a.y);
  const auto *bias = static_cast<const uint16_t *>(a.bias);
#pragma unroll
  for (int j = 0; j < NT; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      float sum = partial[0][4 * j + e][lane];
      for (int w = 1; w < kWarps; ++w)
        sum += partial[w][4 * j + e][lane];
      const int token = 8 * j + 2 * t + (e & 1);
      const int row = row0 + g + (e >= 2 ? 8 : 0);
      if (token >= a.m)
        continue;
      if (bias)
        sum += widen<Bf16>(bias[row]);
      y[static_cast<size_t>(token) * a.n + row] = narrow<Bf16>(sum);
    }
}

template <int NT, bool Bf16>
bool launch(const detail::Fp8GemmArgs &a, cudaStream_t stream,
            std::string &error) {
  fp8DecodeKernel<NT, Bf16>
      <<<static_cast<unsigned>(a.n / kTileRows), kWarps * 32, 0, stream>>>(a);
  HFQ_LAUNCH_CHECK("the FP8 decode kernel");
  return true;
}

} // namespace

namespace detail {

bool fp8LaunchDecode(const Fp8GemmArgs &a, cudaStream_t stream,
                     std::string &error) {
  if (a.m < 1 || a.m > 16 || a.n % kTileRows != 0 || a.k % kBlockK != 0) {
    error = "the FP8 decode kernel takes 1 <= M <= 16, N % 16 == 0 and K % "
            "128 == 0";
    return false;
  }
  if (a.m <= 8)
    return a.bf16 ? launch<1, true>(a, stream, error)
                  : launch<1, false>(a, stream, error);
  return a.bf16 ? launch<2, true>(a, stream, error)
                : launch<2, false>(a, stream, error);
}

} // namespace detail

} // namespace hfq::cuda
