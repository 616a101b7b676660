//===- Fp8Gemm.cu - fine-grained FP8 block-scaled GEMM on wgmma -----------===//
//
// The prefill path of the FP8 weights (Fp8.h): the kernel (fp8GemmKernel)
// and its launcher (detail::fp8LaunchGemm). y[M, N] = x8 . W8ᵀ with the
// 1 x 128 activation scales and 128 x 128 weight scales applied per 128-K
// block, as DeepGEMM does on Hopper:
//
//  * A block computes a BM x 128 tile of y (BM = 64 WG: WG = 1 warpgroup for
//    M <= 64, 2 above), one warpgroup per 64 rows; the tiles start at
//    multiples of 128, so a tile has one weight scale per 128-K block (the
//    last tile may be partial, N % 16 == 0: its rows past N load as zeros
//    and are not stored).
//  * Stages: each 128-K block of the x8 tile (BM rows) and the W tile (128
//    rows) is copied by every thread with cp.async (16 bytes each, rows past
//    M zero-filled) into shared memory in the 128-byte swizzle
//    (Sm90Async.cuh: row r at 128 r, chunk c at c ^ (r % 8)), kStages deep.
//    A stage is waited for (cp.async.wait_group), fenced to the async proxy
//    (the tensor cores read it through a descriptor), then one barrier; the
//    next load goes into the stage the previous block's wgmma finished
//    reading.
//  * MMA: per 128-K block, four wgmma.m64n128k32 e4m3 (K slices of 32
//    bytes: the descriptor's start address + 32 s) into 64 f32 registers
//    per thread, the first from zero.
//  * Promotion: after wgmma.wait_group 0, each accumulator is scaled,
//    (d * sx[row, kb]) * sw[tile, kb] (two roundings, as the reference), and
//    added into a second set of 64 f32 registers. Hopper's FP8 MMA keeps
//    fewer than 32 bits while it sums; this bounds that error to one
//    128-K block. The two warpgroups overlap one's promotion with the
//    other's MMA.
//  * Epilogue: + bias, rounded to f16 / bf16, two columns per 4-byte store.
//
// Needs sm_90a (wgmma); elsewhere the kernel is empty and the launcher is
// never reached (fp8Linear refuses other devices).
//
// kernels/cuda/NOTES.md ("Fine-grained FP8") has the prediction.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Fp8.h"
#include "kernels/cuda/Internal.h"
#include "kernels/cuda/Sm90Async.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace hfq::cuda {

namespace {

constexpr int kBlockK = 128; // bytes of K per stage = one scale block
constexpr int kBlockN = 128;

template <int WG> struct GemmShape {
  static constexpr int kThreads = 128 * WG;
  static constexpr int kBlockM = 64 * WG;
  static constexpr int kStages = WG == 1 ? 6 : 4;
  static constexpr int kStageBytes = (kBlockM + kBlockN) * kBlockK;
  static constexpr int kSharedBytes = kStages * kStageBytes + 1024; // + align
};

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
/// d (+)= A (64 x 32, descriptor) . B (32 x 128, descriptor), e4m3 -> f32:
/// one wgmma.m64n128k32 of the warpgroup; `accumulate` 0 overwrites d.
__device__ __forceinline__ void wgmmaE4m3(float (&d)[64], uint64_t descA,
                                          uint64_t descB, int accumulate) {
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, "
      "%30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, "
      "%46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, "
      "%62, %63}, "
      "%64, %65, p, 1, 1;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]),
        "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]),
        "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]),
        "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]),
        "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]),
        "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]),
        "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]),
        "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]),
        "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]),
        "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]),
        "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(descA), "l"(descB), "r"(accumulate));
}
#endif

template <bool Bf16> __device__ uint32_t narrow2(float lo, float hi) {
  if constexpr (Bf16) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t *>(&v);
  } else {
    const __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t *>(&v);
  }
}
template <bool Bf16> __device__ float widen(uint16_t h) {
  if constexpr (Bf16)
    return __uint_as_float(static_cast<uint32_t>(h) << 16);
  else
    return __half2float(__ushort_as_half(h));
}

template <int WG, bool Bf16>
__global__ void __launch_bounds__(GemmShape<WG>::kThreads, 1)
    fp8GemmKernel(const detail::Fp8GemmArgs a) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using S = GemmShape<WG>;
  extern __shared__ uint8_t sharedRaw[];
  // 1024-byte alignment for the swizzle atoms.
  const uint32_t rawAddr = sm90::sharedAddress(sharedRaw);
  const uint32_t base = (rawAddr + 1023) & ~1023u;

  const int tid = threadIdx.x;
  const int m0 = blockIdx.x * S::kBlockM, n0 = blockIdx.y * kBlockN;
  const int kBlocks = a.k / kBlockK;
  const size_t k = static_cast<size_t>(a.k);

  auto load = [&](int kb, int stage) {
    const uint32_t aTile = base + stage * S::kStageBytes;
    const uint32_t bTile = aTile + S::kBlockM * kBlockK;
    const size_t kOff = static_cast<size_t>(kb) * kBlockK;
#pragma unroll
    for (int i = 0; i < S::kBlockM * 8 / S::kThreads; ++i) {
      const int idx = tid + i * S::kThreads, row = idx / 8, chunk = idx % 8;
      const bool valid = m0 + row < a.m;
      const uint8_t *src =
          a.x8 + (valid ? (m0 + row) * k : 0) + kOff + chunk * 16;
      sm90::cpAsync16(aTile + sm90::swizzled128(row, chunk), src, valid);
    }
#pragma unroll
    for (int i = 0; i < kBlockN * 8 / S::kThreads; ++i) {
      const int idx = tid + i * S::kThreads, row = idx / 8, chunk = idx % 8;
      const bool valid = n0 + row < a.n;
      const uint8_t *src =
          a.w + (valid ? (n0 + row) * k : 0) + kOff + chunk * 16;
      sm90::cpAsync16(bTile + sm90::swizzled128(row, chunk), src, valid);
    }
  };

#pragma unroll
  for (int s = 0; s < S::kStages - 1; ++s) {
    if (s < kBlocks)
      load(s, s);
    sm90::cpAsyncCommit();
  }

  // This thread's rows of the tile (accumulator layout of m64nNk32: warp w
  // of the warpgroup has rows 16 w .. 16 w + 15; lane g = lane / 4 rows g
  // and g + 8, columns 8 j + 2 (lane % 4) + {0, 1}).
  const int wg = tid / 128, warp = (tid % 128) / 32, lane = tid % 32;
  const int rowA = m0 + wg * 64 + warp * 16 + lane / 4, rowB = rowA + 8;
  const float *sxA =
      a.xScales + static_cast<size_t>(rowA < a.m ? rowA : 0) * a.xScaleCols;
  const float *sxB =
      a.xScales + static_cast<size_t>(rowB < a.m ? rowB : 0) * a.xScaleCols;
  const float *sw = a.wScales + (n0 / kBlockN) * a.wScaleRow;
  const int sxStep = a.xScaleCols == 1 ? 0 : 1;

  float acc[64], d[64];
#pragma unroll
  for (int i = 0; i < 64; ++i)
    acc[i] = d[i] = 0.0f;

  for (int kb = 0; kb < kBlocks; ++kb) {
    sm90::cpAsyncWait<S::kStages - 2>();
    sm90::fenceProxyAsync();
    __syncthreads();
    const int next = kb + S::kStages - 1;
    if (next < kBlocks)
      load(next, next % S::kStages);
    sm90::cpAsyncCommit();

    const uint32_t aTile = base + (kb % S::kStages) * S::kStageBytes;
    const uint32_t bTile = aTile + S::kBlockM * kBlockK;
    const uint64_t descA = sm90::descriptor128(aTile + wg * 64 * kBlockK);
    const uint64_t descB = sm90::descriptor128(bTile);
#pragma unroll
    for (int i = 0; i < 64; ++i)
      sm90::fenceOperand(d[i]);
    sm90::wgmmaFence();
#pragma unroll
    for (int s = 0; s < kBlockK / 32; ++s)
      wgmmaE4m3(d, descA + 2 * s, descB + 2 * s, s); // +32 bytes per slice
    sm90::wgmmaCommit();
    // The scales load while the tensor cores run.
    const float scaleW = sw[kb * a.wScaleCol];
    const float scaleA = rowA < a.m ? sxA[kb * sxStep] : 0.0f;
    const float scaleB = rowB < a.m ? sxB[kb * sxStep] : 0.0f;
    sm90::wgmmaWait<0>();
#pragma unroll
    for (int i = 0; i < 64; ++i)
      sm90::fenceOperand(d[i]);
#pragma unroll
    for (int i = 0; i < 64; ++i)
      acc[i] = __fadd_rn(
          acc[i],
          __fmul_rn(__fmul_rn(d[i], (i & 2) ? scaleB : scaleA), scaleW));
  }
  sm90::cpAsyncWait<0>();

  auto *y = static_cast<uint16_t *>(a.y);
  const auto *bias = static_cast<const uint16_t *>(a.bias);
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    const int col = n0 + 8 * j + 2 * (lane % 4);
    if (col >= a.n)
      break; // N % 16 == 0: both columns are in or out
    float b0 = 0.0f, b1 = 0.0f;
    if (bias) {
      b0 = widen<Bf16>(bias[col]);
      b1 = widen<Bf16>(bias[col + 1]);
    }
    if (rowA < a.m)
      *reinterpret_cast<uint32_t *>(y + static_cast<size_t>(rowA) * a.n + col) =
          narrow2<Bf16>(acc[4 * j] + b0, acc[4 * j + 1] + b1);
    if (rowB < a.m)
      *reinterpret_cast<uint32_t *>(y + static_cast<size_t>(rowB) * a.n + col) =
          narrow2<Bf16>(acc[4 * j + 2] + b0, acc[4 * j + 3] + b1);
  }
#else
  (void)a;
#endif
}

template <int WG, bool Bf16>
bool launch(const detail::Fp8GemmArgs &a, cudaStream_t stream,
            std::string &error) {
  using S = GemmShape<WG>;
  const void *fn = reinterpret_cast<const void *>(fp8GemmKernel<WG, Bf16>);
  if (!detail::allowSharedMemory(fn, S::kSharedBytes, error))
    return false;
  const dim3 grid(static_cast<unsigned>((a.m + S::kBlockM - 1) / S::kBlockM),
                  static_cast<unsigned>((a.n + kBlockN - 1) / kBlockN));
  fp8GemmKernel<WG, Bf16><<<grid, S::kThreads, S::kSharedBytes, stream>>>(a);
  HFQ_LAUNCH_CHECK("the FP8 wgmma GEMM");
  return true;
}

} // namespace

namespace detail {

bool fp8LaunchGemm(const Fp8GemmArgs &a, cudaStream_t stream,
                   std::string &error) {
  if (a.m < 1 || a.n % 16 != 0 || a.k % kBlockK != 0 ||
      a.n / kBlockN >= 65535) {
    error = "the FP8 GEMM takes M >= 1, N % 16 == 0 (N < 2^23) and K % 128 "
            "== 0";
    return false;
  }
  if (a.m <= 64)
    return a.bf16 ? launch<1, true>(a, stream, error)
                  : launch<1, false>(a, stream, error);
  return a.bf16 ? launch<2, true>(a, stream, error)
                : launch<2, false>(a, stream, error);
}

} // namespace detail

} // namespace hfq::cuda
