//===- WeightOnly.cu - W4A16 / W8A16 tensor-core linear kernels -----------===//
//
// One main loop serves decode (Gemv, M <= 16) and small-batch GEMM (2 or 4
// m16 tiles per warp): every warp owns a 64-column N-tile and streams its
// weights once from HBM, 16 B per lane per 16-deep K-step, into registers
// that already are mma.m16n8k16 B fragments (the layout is made at load by
// kernels/repack/KernelLayout). A code becomes a 16-bit value with one lop3
// (4-bit) or byte_perm (8-bit) and a float magic number, then
//   Symmetric/Integer: w = ((q + magic) - (z + magic)) * s   (sub exact)
//   Offset:            w = ((q + magic) - magic) * s + o     (one fma)
// and eight mma.sync per step accumulate in f32. Weights are prefetched one
// 8-step P-block ahead (a register ring, streaming loads that skip L1), so
// a warp has 8 x 16 B in flight; scales and zeros ride one P-block ahead too.
// K is split across blocks; the last block of each tile sums the partials in
// split order (deterministic) and writes y with the bias. Large M goes to
// Dequant: W -> 16-bit dense scratch, then cuBLAS.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/WeightOnly.h"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <type_traits>

namespace hfq::cuda {

namespace {

#define HFQ_CUDA_TRY(call)                                                     \
  do {                                                                         \
    cudaError_t status_ = (call);                                              \
    if (status_ != cudaSuccess) {                                              \
      error = std::string(#call) + " failed: " + cudaGetErrorString(status_);  \
      return false;                                                            \
    }                                                                          \
  } while (0)

#define HFQ_LAUNCH_CHECK(what)                                                 \
  do {                                                                         \
    cudaError_t status_ = cudaGetLastError();                                  \
    if (status_ != cudaSuccess) {                                              \
      error = std::string("launching ") + (what) +                            \
              " failed: " + cudaGetErrorString(status_);                       \
      return false;                                                            \
    }                                                                          \
  } while (0)

constexpr int kStepsPerBlock = 8; // K-steps of 16 in one P-block (128 K)

struct Params {
  const void *x;
  const void *bias;
  void *y;
  float *partials;
  int *counters;
  const uint4 *q;
  const uint4 *scales;
  const uint4 *zeros;
  const int *perm;
  int m, n, k, np, kp, groupSize;
  int ntiles;     // np / 64
  int ksteps;     // kp / 16
  int pblocks;    // kp / 128
  int pbPerSplit; // P-blocks per split
  int splitK;
  int chunks; // row chunks of 16 * MT
};

template <typename T> struct Vec2;
template <> struct Vec2<__half> {
  using Type = __half2;
  static constexpr uint32_t kMagic4 = 0x64006400u; // 1024 | q
};
template <> struct Vec2<__nv_bfloat16> {
  using Type = __nv_bfloat162;
  static constexpr uint32_t kMagic4 = 0x43004300u; // 128 | q
};

template <typename T> __device__ __forceinline__ float toFloat(T v);
template <> __device__ __forceinline__ float toFloat(__half v) {
  return __half2float(v);
}
template <> __device__ __forceinline__ float toFloat(__nv_bfloat16 v) {
  return __bfloat162float(v);
}
template <typename T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ __half fromFloat(float v) {
  return __float2half_rn(v);
}
template <> __device__ __forceinline__ __nv_bfloat16 fromFloat(float v) {
  return __float2bfloat16_rn(v);
}

template <typename T2> __device__ __forceinline__ T2 asVec(uint32_t v) {
  return *reinterpret_cast<T2 *>(&v);
}
template <typename T2> __device__ __forceinline__ uint32_t asBits(T2 v) {
  return *reinterpret_cast<uint32_t *>(&v);
}

__device__ __forceinline__ uint32_t andOr(uint32_t a, uint32_t mask,
                                          uint32_t bits) {
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(r) : "r"(a), "r"(mask), "r"(bits));
  return r;
}

__device__ __forceinline__ uint4 loadStreaming(const uint4 *p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

template <typename T>
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4],
                                         uint32_t b0, uint32_t b1);
template <>
__device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&c)[4],
                                                        const uint32_t (&a)[4],
                                                        uint32_t b0,
                                                        uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void mma16816<__half>(float (&c)[4],
                                                 const uint32_t (&a)[4],
                                                 uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// Zero kinds as template values (ZeroKind is a host enum class).
enum : int { kSym = 0, kInt = 1, kOff = 2 };

/// The 16-bit bias (as a pair) codes carry after extraction.
template <typename T, int BITS> __device__ __forceinline__ uint32_t magicPair() {
  if constexpr (std::is_same_v<T, __half>)
    return 0x64006400u; // 1024
  else if constexpr (BITS == 4)
    return 0x43004300u; // 128
  else
    return 0u; // bf16 8-bit converts through f32: no bias
}

/// Symmetric zero (magic + 2^(bits-1)) as a pair.
template <typename T, int BITS> __device__ __forceinline__ uint32_t symZeroPair() {
  if constexpr (std::is_same_v<T, __half>)
    return BITS == 4 ? 0x64086408u : 0x64806480u; // 1032, 1152
  else
    return BITS == 4 ? 0x43084308u : 0x43004300u; // 136, 128
}

/// Pair p (0..3) of codes of a 4-bit word, as 16-bit (q + magic) values.
template <typename T>
__device__ __forceinline__ uint32_t codes4(uint32_t word, int p) {
  return andOr(word >> (4 * p), 0x000F000Fu, Vec2<T>::kMagic4);
}

/// Pair p (0: bytes 0,1; 1: bytes 2,3) of an 8-bit word as (q + magic).
template <typename T>
__device__ __forceinline__ uint32_t codes8(uint32_t word, int p) {
  if constexpr (std::is_same_v<T, __half>) {
    return __byte_perm(word, 0x64646464u, p ? 0x4342u : 0x4140u);
  } else {
    float lo = __int_as_float(__byte_perm(word, 0x4B000000u, p ? 0x7542u : 0x7540u)) - 8388608.0f;
    float hi = __int_as_float(__byte_perm(word, 0x4B000000u, p ? 0x7543u : 0x7541u)) - 8388608.0f;
    return asBits(__floats2bfloat162_rn(lo, hi));
  }
}

/// (q + magic) -> weight pair, given the column's scale and zero pairs.
template <typename T, int BITS, int ZK>
__device__ __forceinline__ uint32_t dequantPair(uint32_t qm, uint32_t s2,
                                                uint32_t z2) {
  using T2 = typename Vec2<T>::Type;
  if constexpr (ZK == kOff) {
    T2 q = __hsub2(asVec<T2>(qm), asVec<T2>(magicPair<T, BITS>()));
    return asBits(__hfma2(q, asVec<T2>(s2), asVec<T2>(z2)));
  } else {
    T2 d = __hsub2(asVec<T2>(qm), asVec<T2>(z2));
    return asBits(__hmul2(d, asVec<T2>(s2)));
  }
}

/// Both 16-bit halves set to element j of a uint4 of eight 16-bit values.
__device__ __forceinline__ uint32_t broadcast16(const uint4 &v, int j) {
  uint32_t word = j < 2 ? v.x : j < 4 ? v.y : j < 6 ? v.z : v.w;
  return __byte_perm(word, 0, (j & 1) ? 0x3232u : 0x1010u);
}

__device__ __forceinline__ uint32_t wordOf(const uint4 &v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

/// The main loop. Template: activation type, code width, zero kind, m16
/// tiles per warp, and SPG, the K-steps between scale reloads: 2 for groups
/// of 32 and 64 (64 reloads the same group twice, from L1), 8 for groups
/// that are multiples of 128 (one reload per P-block, skipped within a
/// group). Warps per block (each on its own 64-column tile) and act order
/// (a uniform branch) are run-time.
template <typename T, int BITS, int ZK, int MT, int SPG>
__global__ void __launch_bounds__(256) weightOnlyKernel(const Params p) {
  constexpr int U = BITS == 4 ? 1 : 2;            // uint4 per lane per step
  constexpr int NG = SPG < kStepsPerBlock ? kStepsPerBlock / SPG : 1;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int t = lane & 3, r = lane >> 2;
  const int wn = blockDim.x >> 5;
  // blockIdx.x = row chunk + chunks * tile group: the chunks of one tile
  // group run side by side, so the second reads the weights from L2.
  const int chunk = blockIdx.x % p.chunks, tileGroup = blockIdx.x / p.chunks;
  const int nt = tileGroup * wn + warp;
  const int split = blockIdx.y;
  const int m0 = chunk * 16 * MT;
  const int pb0 = split * p.pbPerSplit;
  const int pb1 = min(pb0 + p.pbPerSplit, p.pblocks);
  const bool active = nt < p.ntiles && pb0 < pb1;
  const T *x = static_cast<const T *>(p.x);

  float acc[MT][8][4];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int c = 0; c < 4; ++c)
        acc[mt][j][c] = 0.0f;

  if (active) {
    const uint4 *qTile = p.q + static_cast<size_t>(nt) * p.ksteps * 32 * U + lane;
    const int groupStride = p.ntiles * 32; // uint4 per group: [nt][r][j]
    const uint4 *sTile = p.scales + static_cast<size_t>(nt) * 32 / 4 + r;
    const uint4 *zTile = p.zeros ? p.zeros + static_cast<size_t>(nt) * 32 / 4 + r : nullptr;
    // Scales are [G][nt][r][8 x 16 bit]: one uint4 per (g, nt, r).
    auto groupOf = [&](int ks) { return (ks * 16) / p.groupSize; };
    auto scaleAt = [&](int g) { return __ldg(sTile + static_cast<size_t>(g) * groupStride / 4); };
    auto zeroAt = [&](int g) { return __ldg(zTile + static_cast<size_t>(g) * groupStride / 4); };

    // Weight ring: D steps ahead (128 B per lane in flight for either
    // width); ring slot i % D holds step ks + D while step ks is computed.
    constexpr int D = kStepsPerBlock / U;
    const int ks0 = pb0 * kStepsPerBlock, ks1 = pb1 * kStepsPerBlock;
    uint4 ring[D][U];
#pragma unroll
    for (int i = 0; i < D; ++i)
#pragma unroll
      for (int h = 0; h < U; ++h)
        ring[i][h] = loadStreaming(qTile + (static_cast<size_t>(ks0 + i) * U + h) * 32);
    // Scale ring: slot gi holds the group of step gi * SPG of the current
    // P-block and is refilled with the next P-block's right after use.
    constexpr int SR = SPG < kStepsPerBlock ? SPG : kStepsPerBlock;
    uint4 sRing[NG], zRing[NG];
#pragma unroll
    for (int gi = 0; gi < NG; ++gi) {
      const int g = groupOf(ks0 + gi * SR);
      sRing[gi] = scaleAt(g);
      if constexpr (ZK != kSym)
        zRing[gi] = zeroAt(g);
    }

    uint32_t s2[8], z2[8];
    for (int pb = pb0; pb < pb1; ++pb) {
      const bool more = pb + 1 < pb1;
#pragma unroll
      for (int i = 0; i < kStepsPerBlock; ++i) {
        const int ks = pb * kStepsPerBlock + i;
        if (i % SR == 0) {
          const int gi = i / SR;
#pragma unroll
          for (int j = 0; j < 8; ++j) {
            s2[j] = broadcast16(sRing[gi], j);
            if constexpr (ZK != kSym)
              z2[j] = broadcast16(zRing[gi], j);
            else
              z2[j] = symZeroPair<T, BITS>();
          }
          if (more) {
            const int g = groupOf(ks + kStepsPerBlock);
            sRing[gi] = scaleAt(g);
            if constexpr (ZK != kSym)
              zRing[gi] = zeroAt(g);
          }
        }
        uint4 wq[U];
#pragma unroll
        for (int h = 0; h < U; ++h) {
          wq[h] = ring[i % D][h];
          if (ks + D < ks1)
            ring[i % D][h] = loadStreaming(qTile + (static_cast<size_t>(ks + D) * U + h) * 32);
        }
        // Activations: rows r and r + 8 of each m16 tile, K positions
        // 16 ks + 4 t .. + 3 (kernel order; with act order through perm).
        const int k0 = ks * 16 + 4 * t;
        uint32_t a[MT][4];
        const bool act = p.perm != nullptr;
        int4 kk = make_int4(0, 0, 0, 0);
        if (act)
          kk = __ldg(reinterpret_cast<const int4 *>(p.perm + k0));
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int half = 0; half < 2; ++half) {
            const int row = m0 + mt * 16 + r + 8 * half;
            uint2 v = make_uint2(0, 0);
            if (row < p.m) {
              const T *xr = x + static_cast<size_t>(row) * p.k;
              if (act) {
                unsigned short e[4];
                const int idx[4] = {kk.x, kk.y, kk.z, kk.w};
#pragma unroll
                for (int c = 0; c < 4; ++c)
                  e[c] = idx[c] < p.k ? __ldg(reinterpret_cast<const unsigned short *>(xr) + idx[c]) : 0;
                v.x = e[0] | (static_cast<uint32_t>(e[1]) << 16);
                v.y = e[2] | (static_cast<uint32_t>(e[3]) << 16);
              } else if (k0 < p.k) {
                v = __ldg(reinterpret_cast<const uint2 *>(xr + k0));
              }
            }
            a[mt][half] = v.x;     // mma k 2t, 2t+1
            a[mt][2 + half] = v.y; // mma k 2t+8, 2t+9
          }
        // Dequantize and multiply: blocks j = 0..7 of the 64-column tile.
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          uint32_t b0, b1;
          if constexpr (BITS == 4) {
            const uint32_t word = wordOf(wq[0], j / 2);
            const int p0 = (j & 1) ? 2 : 0;
            b0 = dequantPair<T, BITS, ZK>(codes4<T>(word, p0), s2[j], z2[j]);
            b1 = dequantPair<T, BITS, ZK>(codes4<T>(word, p0 + 1), s2[j], z2[j]);
          } else {
            const uint32_t word = wordOf(wq[j / 4], j % 4);
            b0 = dequantPair<T, BITS, ZK>(codes8<T>(word, 0), s2[j], z2[j]);
            b1 = dequantPair<T, BITS, ZK>(codes8<T>(word, 1), s2[j], z2[j]);
          }
#pragma unroll
          for (int mt = 0; mt < MT; ++mt)
            mma16816<T>(acc[mt][j], a[mt], b0, b1);
        }
      }
    }
  }

  // Epilogue. acc[mt][j] = rows (r, r+8) x columns (2t, 2t+1) of block j.
  T *y = static_cast<T *>(p.y);
  const T *bias = static_cast<const T *>(p.bias);
  if (p.splitK == 1) {
    if (!active)
      return;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int j = 0; j < 8; ++j)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const int row = m0 + mt * 16 + r + (c >= 2 ? 8 : 0);
          const int col = nt * 64 + j * 8 + 2 * t + (c & 1);
          if (row < p.m && col < p.n) {
            float v = acc[mt][j][c];
            if (bias)
              v += toFloat(bias[col]);
            y[static_cast<size_t>(row) * p.n + col] = fromFloat<T>(v);
          }
        }
    return;
  }
  if (active) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int j = 0; j < 8; ++j)
#pragma unroll
        for (int c = 0; c < 4; c += 2) {
          const int row = m0 + mt * 16 + r + (c >= 2 ? 8 : 0);
          const int col = nt * 64 + j * 8 + 2 * t;
          if (row < p.m)
            __stcg(reinterpret_cast<float2 *>(
                       p.partials + (static_cast<size_t>(split) * p.m + row) * p.np + col),
                   make_float2(acc[mt][j][c], acc[mt][j][c + 1]));
        }
  }
  __threadfence();
  __syncthreads();
  __shared__ int lastBlock;
  const int counter = blockIdx.x;
  if (threadIdx.x == 0)
    lastBlock = atomicAdd(p.counters + counter, 1) == p.splitK - 1;
  __syncthreads();
  if (!lastBlock)
    return;
  __threadfence();
  // The last split of this (row chunk, tile group) sums all splits in order.
  const int rows = min(16 * MT, p.m - m0);
  const int cols = wn * 64;
  const int col0 = tileGroup * wn * 64;
  for (int e = threadIdx.x; e < rows * cols; e += blockDim.x) {
    const int row = m0 + e / cols, col = col0 + e % cols;
    if (col >= p.n)
      continue;
    float v = 0.0f;
    for (int s = 0; s < p.splitK; ++s)
      if (s * p.pbPerSplit < p.pblocks)
        v += __ldcg(p.partials + (static_cast<size_t>(s) * p.m + row) * p.np + col);
    if (bias)
      v += toFloat(bias[col]);
    y[static_cast<size_t>(row) * p.n + col] = fromFloat<T>(v);
  }
  if (threadIdx.x == 0)
    p.counters[counter] = 0; // ready for the next launch
}

/// Dequantize one 64-column tile x 128-deep P-block per warp into a dense
/// [N, K] matrix (kernel K order, or original order through perm).
template <typename T, int BITS, int ZK>
__global__ void __launch_bounds__(32) dequantKernel(const Params p, T *dense,
                                                    bool originalOrder) {
  constexpr int U = BITS == 4 ? 1 : 2;
  __shared__ T tile[64][kStepsPerBlock * 16 + 8];
  const int lane = threadIdx.x, t = lane & 3, r = lane >> 2;
  const int nt = blockIdx.x, pb = blockIdx.y;
  const uint4 *qTile = p.q + static_cast<size_t>(nt) * p.ksteps * 32 * U + lane;
  const int groupStride = p.ntiles * 32;
  const uint4 *sTile = p.scales + static_cast<size_t>(nt) * 8 + r;
  const uint4 *zTile = p.zeros ? p.zeros + static_cast<size_t>(nt) * 8 + r : nullptr;
  for (int i = 0; i < kStepsPerBlock; ++i) {
    const int ks = pb * kStepsPerBlock + i;
    const int g = ks * 16 / p.groupSize;
    const uint4 s = __ldg(sTile + static_cast<size_t>(g) * groupStride / 4);
    uint4 z = make_uint4(0, 0, 0, 0);
    if constexpr (ZK != kSym)
      z = __ldg(zTile + static_cast<size_t>(g) * groupStride / 4);
    uint4 wq[U];
    for (int h = 0; h < U; ++h)
      wq[h] = loadStreaming(qTile + (static_cast<size_t>(ks) * U + h) * 32);
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const uint32_t s2 = broadcast16(s, j);
      const uint32_t z2 = ZK != kSym ? broadcast16(z, j) : symZeroPair<T, BITS>();
      uint32_t b0, b1;
      if constexpr (BITS == 4) {
        const uint32_t word = wordOf(wq[0], j / 2);
        const int p0 = (j & 1) ? 2 : 0;
        b0 = dequantPair<T, BITS, ZK>(codes4<T>(word, p0), s2, z2);
        b1 = dequantPair<T, BITS, ZK>(codes4<T>(word, p0 + 1), s2, z2);
      } else {
        const uint32_t word = wordOf(wq[j / 4], j % 4);
        b0 = dequantPair<T, BITS, ZK>(codes8<T>(word, 0), s2, z2);
        b1 = dequantPair<T, BITS, ZK>(codes8<T>(word, 1), s2, z2);
      }
      T *dst = &tile[j * 8 + r][i * 16 + 4 * t];
      *reinterpret_cast<uint32_t *>(dst) = b0;
      *reinterpret_cast<uint32_t *>(dst + 2) = b1;
    }
  }
  __syncwarp();
  const int kBase = pb * kStepsPerBlock * 16;
  for (int row = 0; row < 64; ++row) {
    const int n = nt * 64 + row;
    if (n >= p.n)
      break;
    const int kk = kBase + 4 * lane;
    if (kk >= p.k)
      continue;
    T *out = dense + static_cast<size_t>(n) * p.k;
    if (originalOrder && p.perm) {
      for (int c = 0; c < 4; ++c)
        out[p.perm[kk + c]] = tile[row][4 * lane + c];
    } else {
      *reinterpret_cast<uint2 *>(out + kk) =
          *reinterpret_cast<const uint2 *>(&tile[row][4 * lane]);
    }
  }
}

/// x[:, perm] for the Dequant path with act order.
template <typename T>
__global__ void permuteColumnsKernel(const T *x, const int *perm, T *out,
                                     int m, int k) {
  const size_t total = static_cast<size_t>(m) * k;
  for (size_t e = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
       e < total; e += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t row = e / k;
    const int col = static_cast<int>(e % k);
    out[e] = x[row * k + perm[col]];
  }
}

template <typename T>
__global__ void broadcastBiasKernel(const T *bias, T *y, int m, int n) {
  const size_t total = static_cast<size_t>(m) * n;
  for (size_t e = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
       e < total; e += static_cast<size_t>(gridDim.x) * blockDim.x)
    y[e] = bias[e % n];
}

//===----------------------------------------------------------------------===//
// Host side
//===----------------------------------------------------------------------===//

bool growBuffer(void *&buffer, size_t &have, size_t need, std::string &error) {
  if (need <= have)
    return true;
  if (buffer)
    HFQ_CUDA_TRY(cudaFree(buffer));
  buffer = nullptr;
  have = 0;
  HFQ_CUDA_TRY(cudaMalloc(&buffer, need));
  have = need;
  return true;
}

Params makeParams(const DeviceWeight &w, const void *x, const void *bias,
                  void *y, int64_t m) {
  Params p{};
  p.x = x;
  p.bias = bias;
  p.y = y;
  p.q = static_cast<const uint4 *>(w.q);
  p.scales = static_cast<const uint4 *>(w.scales);
  p.zeros = static_cast<const uint4 *>(w.zeros);
  p.perm = w.perm;
  p.m = static_cast<int>(m);
  p.n = static_cast<int>(w.n);
  p.k = static_cast<int>(w.k);
  p.np = static_cast<int>(w.np);
  p.kp = static_cast<int>(w.kp);
  p.groupSize = static_cast<int>(w.groupSize);
  p.ntiles = static_cast<int>(w.np / 64);
  p.ksteps = static_cast<int>(w.kp / 16);
  p.pblocks = static_cast<int>(w.kp / (16 * kStepsPerBlock));
  return p;
}

using KernelFn = void (*)(Params);

template <typename T, int BITS, int ZK, int MT> KernelFn pickSpg(int spg) {
  return spg == 2 ? weightOnlyKernel<T, BITS, ZK, MT, 2>
                  : weightOnlyKernel<T, BITS, ZK, MT, 8>;
}
template <typename T, int BITS, int ZK> KernelFn pickMt(int mt, int spg) {
  return mt == 1 ? pickSpg<T, BITS, ZK, 1>(spg) : pickSpg<T, BITS, ZK, 2>(spg);
}
template <typename T, int BITS> KernelFn pickZk(ZeroKind zk, int mt, int spg) {
  switch (zk) {
  case ZeroKind::Symmetric: return pickMt<T, BITS, kSym>(mt, spg);
  case ZeroKind::Integer: return pickMt<T, BITS, kInt>(mt, spg);
  default: return pickMt<T, BITS, kOff>(mt, spg);
  }
}
KernelFn pickKernel(const DeviceWeight &w, int mt) {
  int spg = w.groupSize >= 128 ? 8 : 2;
  if (w.act == ActType::BF16)
    return w.bits == 4 ? pickZk<__nv_bfloat16, 4>(w.zeroKind, mt, spg)
                       : pickZk<__nv_bfloat16, 8>(w.zeroKind, mt, spg);
  return w.bits == 4 ? pickZk<__half, 4>(w.zeroKind, mt, spg)
                     : pickZk<__half, 8>(w.zeroKind, mt, spg);
}

template <typename T, int BITS>
void (*pickDequant(ZeroKind zk))(const Params, T *, bool) {
  switch (zk) {
  case ZeroKind::Symmetric: return dequantKernel<T, BITS, kSym>;
  case ZeroKind::Integer: return dequantKernel<T, BITS, kInt>;
  default: return dequantKernel<T, BITS, kOff>;
  }
}

int smCount() {
  static int count = [] {
    int device = 0, sms = 132;
    if (cudaGetDevice(&device) == cudaSuccess)
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    return sms;
  }();
  return count;
}

bool launchDequant(const DeviceWeight &w, void *dense, bool originalOrder,
                   cudaStream_t stream, std::string &error) {
  Params p = makeParams(w, nullptr, nullptr, nullptr, 0);
  dim3 grid(p.ntiles, p.pblocks);
  if (w.act == ActType::BF16) {
    auto fn = w.bits == 4 ? pickDequant<__nv_bfloat16, 4>(w.zeroKind)
                          : pickDequant<__nv_bfloat16, 8>(w.zeroKind);
    fn<<<grid, 32, 0, stream>>>(p, static_cast<__nv_bfloat16 *>(dense), originalOrder);
  } else {
    auto fn = w.bits == 4 ? pickDequant<__half, 4>(w.zeroKind)
                          : pickDequant<__half, 8>(w.zeroKind);
    fn<<<grid, 32, 0, stream>>>(p, static_cast<__half *>(dense), originalOrder);
  }
  HFQ_LAUNCH_CHECK("the dequantize kernel");
  return true;
}

const char *cublasName(cublasStatus_t s) {
  switch (s) {
  case CUBLAS_STATUS_SUCCESS: return "success";
  case CUBLAS_STATUS_NOT_INITIALIZED: return "not initialized";
  case CUBLAS_STATUS_ALLOC_FAILED: return "allocation failed";
  case CUBLAS_STATUS_INVALID_VALUE: return "invalid value";
  case CUBLAS_STATUS_ARCH_MISMATCH: return "architecture mismatch";
  case CUBLAS_STATUS_EXECUTION_FAILED: return "execution failed";
  case CUBLAS_STATUS_NOT_SUPPORTED: return "not supported";
  default: return "error";
  }
}

bool dequantLinear(const DeviceWeight &w, const void *x, const void *bias,
                   void *y, int64_t m, Workspace &ws, cudaStream_t stream,
                   std::string &error) {
  const size_t elem = 2;
  if (!growBuffer(ws.scratch, ws.scratchBytes, static_cast<size_t>(w.n) * w.k * elem, error))
    return false;
  if (!launchDequant(w, ws.scratch, /*originalOrder=*/false, stream, error))
    return false;
  const void *xin = x;
  if (w.perm) {
    if (!growBuffer(ws.xperm, ws.xpermBytes, static_cast<size_t>(m) * w.k * elem, error))
      return false;
    int blocks = static_cast<int>(std::min<int64_t>((m * w.k + 255) / 256, 65536));
    if (w.act == ActType::BF16)
      permuteColumnsKernel<<<blocks, 256, 0, stream>>>(
          static_cast<const __nv_bfloat16 *>(x), w.perm,
          static_cast<__nv_bfloat16 *>(ws.xperm), static_cast<int>(m), static_cast<int>(w.k));
    else
      permuteColumnsKernel<<<blocks, 256, 0, stream>>>(
          static_cast<const __half *>(x), w.perm, static_cast<__half *>(ws.xperm),
          static_cast<int>(m), static_cast<int>(w.k));
    HFQ_LAUNCH_CHECK("the activation permutation");
    xin = ws.xperm;
  }
  float beta = 0.0f;
  if (bias) {
    int blocks = static_cast<int>(std::min<int64_t>((m * w.n + 255) / 256, 65536));
    if (w.act == ActType::BF16)
      broadcastBiasKernel<<<blocks, 256, 0, stream>>>(
          static_cast<const __nv_bfloat16 *>(bias), static_cast<__nv_bfloat16 *>(y),
          static_cast<int>(m), static_cast<int>(w.n));
    else
      broadcastBiasKernel<<<blocks, 256, 0, stream>>>(
          static_cast<const __half *>(bias), static_cast<__half *>(y),
          static_cast<int>(m), static_cast<int>(w.n));
    HFQ_LAUNCH_CHECK("the bias broadcast");
    beta = 1.0f;
  }
  if (!ws.cublas) {
    cublasHandle_t handle;
    cublasStatus_t s = cublasCreate(&handle);
    if (s != CUBLAS_STATUS_SUCCESS) {
      error = std::string("cublasCreate failed: ") + cublasName(s);
      return false;
    }
    ws.cublas = handle;
  }
  auto handle = static_cast<cublasHandle_t>(ws.cublas);
  cublasStatus_t s = cublasSetStream(handle, stream);
  const float alpha = 1.0f;
  cudaDataType_t type = w.act == ActType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
  if (s == CUBLAS_STATUS_SUCCESS)
    s = cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(w.n),
                     static_cast<int>(m), static_cast<int>(w.k), &alpha,
                     ws.scratch, type, static_cast<int>(w.k), xin, type,
                     static_cast<int>(w.k), &beta, y, type, static_cast<int>(w.n),
                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (s != CUBLAS_STATUS_SUCCESS) {
    error = std::string("cublasGemmEx failed: ") + cublasName(s);
    return false;
  }
  return true;
}

} // namespace

const char *linearPathName(LinearPath path) {
  switch (path) {
  case LinearPath::Auto: return "auto";
  case LinearPath::Gemv: return "gemv";
  case LinearPath::Gemm: return "gemm";
  case LinearPath::Dequant: return "dequant+cublas";
  }
  return "?";
}

bool DeviceWeight::upload(const KernelWeight &kw, std::string &error) {
  release();
  act = kw.act;
  bits = kw.bits;
  n = kw.n;
  k = kw.k;
  np = kw.np;
  kp = kw.kp;
  groupSize = kw.groupSize;
  zeroKind = kw.zeroKind;
  auto put = [&](void *&dst, const void *src, size_t bytes) {
    if (!bytes)
      return true;
    HFQ_CUDA_TRY(cudaMalloc(&dst, bytes));
    HFQ_CUDA_TRY(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
    return true;
  };
  void *permBuffer = nullptr;
  bool ok = put(q, kw.q.data(), kw.q.size()) &&
            put(scales, kw.scales.data(), kw.scales.size() * 2) &&
            put(zeros, kw.zeros.data(), kw.zeros.size() * 2) &&
            put(permBuffer, kw.perm.data(), kw.perm.size() * 4);
  perm = static_cast<int32_t *>(permBuffer);
  if (!ok)
    release();
  return ok;
}

void DeviceWeight::release() {
  for (void *p : {q, scales, zeros, static_cast<void *>(perm)})
    if (p)
      cudaFree(p);
  q = scales = zeros = nullptr;
  perm = nullptr;
}

size_t DeviceWeight::bytes() const {
  size_t groups = groupSize ? static_cast<size_t>(kp / groupSize) : 0;
  size_t perGroup = static_cast<size_t>(np) * 2 * (zeros ? 2 : 1);
  return static_cast<size_t>(np) * kp * bits / 8 + groups * perGroup;
}

void Workspace::release() {
  for (void *p : {partials, static_cast<void *>(counters), scratch, xperm})
    if (p)
      cudaFree(p);
  if (cublas)
    cublasDestroy(static_cast<cublasHandle_t>(cublas));
  *this = Workspace();
}

LinearPath chooseLinearPath(const DeviceWeight &, int64_t m) {
  if (m <= 16)
    return LinearPath::Gemv;
  if (m <= 128)
    return LinearPath::Gemm;
  return LinearPath::Dequant;
}

bool linear(const DeviceWeight &w, const void *x, const void *bias, void *y,
            int64_t m, Workspace &ws, cudaStream_t stream,
            const LaunchConfig &config, std::string &error) {
  if (!w.q) {
    error = "the weight is not on the device";
    return false;
  }
  if (m <= 0 || m > (1 << 30)) {
    error = "M must be in [1, 2^30], got " + std::to_string(m);
    return false;
  }
  LinearPath path = config.path == LinearPath::Auto ? chooseLinearPath(w, m) : config.path;
  if (path == LinearPath::Dequant)
    return dequantLinear(w, x, bias, y, m, ws, stream, error);

  int mt = config.mTiles;
  if (path == LinearPath::Gemv)
    mt = 1;
  else if (mt == 0)
    mt = 2;
  if (mt != 1 && mt != 2) {
    error = "mTiles must be 1 or 2, got " + std::to_string(mt);
    return false;
  }
  int wn = config.warpsN ? config.warpsN : 4;
  if (wn != 4 && wn != 8) {
    error = "warpsN must be 4 or 8, got " + std::to_string(wn);
    return false;
  }
  Params p = makeParams(w, x, bias, y, m);
  const int rowsPerChunk = 16 * mt;
  const int chunks = static_cast<int>((m + rowsPerChunk - 1) / rowsPerChunk);
  const int blocksN = (p.ntiles + wn - 1) / wn;
  int splitK = config.splitK;
  if (splitK <= 0) {
    // Enough warps for ~24 per SM, with at least one P-block each.
    const int64_t targetWarps = static_cast<int64_t>(smCount()) * 24;
    const int64_t have = static_cast<int64_t>(p.ntiles) * chunks;
    splitK = static_cast<int>(std::clamp<int64_t>((targetWarps + have - 1) / have, 1, p.pblocks));
  }
  splitK = std::clamp(splitK, 1, p.pblocks);
  p.pbPerSplit = (p.pblocks + splitK - 1) / splitK;
  p.splitK = (p.pblocks + p.pbPerSplit - 1) / p.pbPerSplit;
  if (static_cast<int64_t>(chunks) * blocksN > (1ll << 31) - 1) {
    error = "M too large for the Gemm path (" + std::to_string(m) + " rows)";
    return false;
  }
  p.chunks = chunks;
  if (p.splitK > 1) {
    if (!growBuffer(ws.partials, ws.partialsBytes,
                    static_cast<size_t>(p.splitK) * m * p.np * sizeof(float), error))
      return false;
    size_t counters = static_cast<size_t>(blocksN) * chunks;
    if (counters > ws.counterCount) {
      void *buffer = ws.counters;
      size_t bytes = ws.counterCount * sizeof(int);
      if (!growBuffer(buffer, bytes, counters * sizeof(int), error))
        return false;
      ws.counters = static_cast<int *>(buffer);
      ws.counterCount = counters;
      HFQ_CUDA_TRY(cudaMemset(ws.counters, 0, counters * sizeof(int)));
    }
    p.partials = static_cast<float *>(ws.partials);
    p.counters = ws.counters;
  }
  KernelFn fn = pickKernel(w, mt);
  fn<<<dim3(blocksN * chunks, p.splitK), wn * 32, 0, stream>>>(p);
  HFQ_LAUNCH_CHECK("the weight-only kernel");
  return true;
}

bool dequantizeToDense(const DeviceWeight &w, void *dense, cudaStream_t stream,
                       std::string &error) {
  if (!w.q) {
    error = "the weight is not on the device";
    return false;
  }
  return launchDequant(w, dense, /*originalOrder=*/true, stream, error);
}

bool deviceAvailable(std::string &why) {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    why = std::string("no usable CUDA device: ") + cudaGetErrorString(status);
    return false;
  }
  if (count == 0) {
    why = "no CUDA device";
    return false;
  }
  return true;
}

} // namespace hfq::cuda
