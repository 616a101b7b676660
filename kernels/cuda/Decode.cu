//===- Decode.cu - register-streamed W4A16 / W8A16 GEMV for M <= 16 -------===//
//
// The decode path (LinearPath::Gemv): the kernel (decodeKernel) and its
// launcher (detail::decodeLinear). At M <= 16 the weight stream is the
// whole cost, so the loop is built to keep HBM busy with as few
// instructions per byte as possible:
//
//  * The product is computed transposed: the weight tile is the mma A
//    operand (16 columns x 16 K) and the activations are B (K x 8 rows).
//    A lane's 16 bytes of codes per K-step (TileLayout.h) are exactly the
//    A fragments of four mma.m16n8k16 covering its warp's 64 columns, so a
//    4-bit step is one 16-byte load, 16 lop3 (+ 12 shifts) and 4 mma (+ 1
//    against ones for sum(x)) per rows-of-8, and the accumulators are a
//    quarter of the x-as-A form's.
//  * Codes go from HBM straight into registers (ld.global.nc, L1 bypassed),
//    a ring of D steps ahead; no shared memory and no barrier in the loop,
//    so occupancy is bounded by registers only.
//  * Activations are read from global memory through L1 (every warp of the
//    SM reads the same few KB), two to four steps ahead; the layout's K order inside
//    a step (4 t .. 4 t + 3 in one lane) makes that one 8-byte load.
//  * Scales and zeros are applied per group in f32 as in Gemm.cu:
//    y += s * acc + b * sum(x); the next group's are prefetched into L2.
//  * A block is 4 or 8 warps on one 64-column tile, splitting its K range;
//    they reduce through shared memory. Blocks may further split K
//    (gridDim.y) and then add into an f32 accumulator with atomics, the last
//    one writing y.
//
// kernels/cuda/NOTES.md has the measurements behind it.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Dispatch.cuh"
#include "kernels/cuda/Fragments.cuh"
#include "kernels/cuda/Internal.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>

namespace hfq::cuda {
namespace {

using namespace frag;
using tile::Codes;
using tile::Groups;

struct DecodeParams {
  const void *x;
  int64_t xStride; // elements between rows of x
  const void *bias;
  void *y;
  float *partials;
  int *counters;
  const uint4 *q;
  const uint4 *scales;
  const uint4 *zeros;
  int m, n, k, np, groupSize;
  int ntiles, pblocks, pbPerSplit, splitK;
  int pbPerGroup; // P-blocks per group (groups of 128 and more)
};

/// The A operand (16 columns x 16 K) of 16-column block b from one lane's
/// codes: rows r and r + 8 are the layout's 8-column blocks 2b and 2b + 1
/// (a0, a2: row r, K pairs 0 and 1; a1, a3: row r + 8). 4-bit: both blocks
/// sit in one word. 8-bit bf16 needs two operands (low and high nibble, see
/// codesOfBlock).
template <typename T, int BITS>
__device__ __forceinline__ void weightOperand(const uint4 (&wq)[BITS == 4 ? 1 : 2],
                                              int b, uint32_t (&a)[4],
                                              uint32_t (&aHi)[4]) {
  if constexpr (BITS == 4) {
    using C = Codes<4>;
    const uint32_t word = wordOf(wq[0], C::wordOf(2 * b));
    a[0] = andOr(word >> C::shiftOf(2 * b, 0), 0x000F000Fu, kMagic4Pair<T>);
    a[1] = andOr(word >> C::shiftOf(2 * b + 1, 0), 0x000F000Fu, kMagic4Pair<T>);
    a[2] = andOr(word >> C::shiftOf(2 * b, 2), 0x000F000Fu, kMagic4Pair<T>);
    a[3] = andOr(word >> C::shiftOf(2 * b + 1, 2), 0x000F000Fu, kMagic4Pair<T>);
  } else {
    constexpr int NB = std::is_same_v<T, __half> ? 2 : 4;
    uint32_t lo[NB], hi[NB];
    codesOfBlock<T, BITS>(wq, 2 * b, lo);
    codesOfBlock<T, BITS>(wq, 2 * b + 1, hi);
    a[0] = lo[0];
    a[1] = hi[0];
    a[2] = lo[1];
    a[3] = hi[1];
    if constexpr (NB == 4) {
      aHi[0] = lo[2];
      aHi[1] = hi[2];
      aHi[2] = lo[3];
      aHi[3] = hi[3];
    }
  }
}

/// One 16-bit value (half `sel` of a word, sel = 0 or 1) as f32.
template <typename T>
__device__ __forceinline__ float pick16(uint32_t word, uint32_t sel) {
  if constexpr (std::is_same_v<T, __half>)
    return __half2float(__ushort_as_half(static_cast<unsigned short>(word >> (16 * sel))));
  else
    return __uint_as_float(__byte_perm(word, 0u, sel ? 0x3244u : 0x1044u));
}

/// A 16-byte read-only load that stays where it is written (a plain __ldg
/// would be hoisted by the compiler a fold or more ahead, into registers
/// the code ring needs).
__device__ __forceinline__ uint4 loadInPlace(const uint4 *p) {
  uint4 v;
  asm volatile("ld.global.nc.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

/// The first mma of a group: accumulates into zero (no zeroing moves).
template <typename T>
__device__ __forceinline__ void mmaFresh(float (&c)[4], const uint32_t (&a)[4],
                                         uint32_t b0, uint32_t b1) {
  c[0] = c[1] = c[2] = c[3] = 0.0f;
  mma16816<T>(c, a, b0, b1);
}

/// Compute: one K-step of the NX row tiles. The weight operand of each of
/// the four 16-column blocks against the activations (B: K x 8 rows), and
/// one mma against ones for sum x; the first step of a group accumulates
/// into zero.
template <typename T, int BITS, int NX>
__device__ __forceinline__ void
mmaStep(const uint4 (&wq)[BITS == 4 ? 1 : 2], const uint32_t (&xb)[NX][2], bool fresh,
        const uint32_t (&ones)[4], float (&accG)[NX][4][4], float (&acc1)[NX][4]) {
#pragma unroll
  for (int b = 0; b < 4; ++b) {
    uint32_t a[4], aHi[4];
    weightOperand<T, BITS>(wq, b, a, aHi);
#pragma unroll
    for (int nx = 0; nx < NX; ++nx) {
      if (fresh)
        mmaFresh<T>(accG[nx][b], a, xb[nx][0], xb[nx][1]);
      else
        mma16816<T>(accG[nx][b], a, xb[nx][0], xb[nx][1]);
      if constexpr (BITS == 8 && !std::is_same_v<T, __half>)
        mma16816<T>(accG[nx][b], aHi, xb[nx][0], xb[nx][1]);
    }
  }
#pragma unroll
  for (int nx = 0; nx < NX; ++nx) {
    if (fresh)
      mmaFresh<T>(acc1[nx], ones, xb[nx][0], xb[nx][1]);
    else
      mma16816<T>(acc1[nx], ones, xb[nx][0], xb[nx][1]);
  }
}

/// Fold, at a group's end: y += s * acc + b * sum(x), in f32. Columns
/// 8 j + r of the tile: half `sel` (r & 1) of word j of this lane pair's 32
/// bytes of scales (sc) and zeros (zc, unread when symmetric); accumulator
/// value (b, c) of the transposed product is column 16 b + 8 (c >> 1) + r.
template <typename T, int BITS, int ZK, int NX>
__device__ __forceinline__ void foldGroup(const uint4 (&sc)[2], const uint4 (&zc)[2], uint32_t sel,
                                          float (&accY)[NX][4][4], const float (&accG)[NX][4][4],
                                          const float (&acc1)[NX][4]) {
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    const float s = pick16<T>(wordOf(sc[j / 4], j % 4), sel);
    float z = 0.0f;
    if constexpr (ZK != kSym)
      z = pick16<T>(wordOf(zc[j / 4], j % 4), sel);
    const float bt = zeroTerm<T, BITS, ZK>(s, z);
    const int b = j / 2, h = j % 2;
#pragma unroll
    for (int nx = 0; nx < NX; ++nx)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int c = 2 * h + e;
        accY[nx][b][c] = fmaf(s, accG[nx][b][c], fmaf(bt, acc1[nx][e], accY[nx][b][c]));
      }
  }
}

/// Epilogue: the block's warps reduced through shared memory (value
/// v = (nx, b, c) of lane l is output row 8 nx + 2 t + (c & 1), column
/// 16 b + 8 (c >> 1) + r), then written to y (+ bias) or, with split K,
/// added into the f32 accumulator.
template <typename T, int NX>
__device__ __forceinline__ void reduceWarps(const DecodeParams &p, const float (&accY)[NX][4][4],
                                            int warp, int lane, int nw, int nt) {
  constexpr int V = NX * 16;
  extern __shared__ float red[];
#pragma unroll
  for (int nx = 0; nx < NX; ++nx)
#pragma unroll
    for (int b = 0; b < 4; ++b)
#pragma unroll
      for (int c = 0; c < 4; ++c)
        red[(warp * V + (nx * 4 + b) * 4 + c) * 32 + lane] = accY[nx][b][c];
  __syncthreads();
  for (int e = threadIdx.x; e < V * 32; e += blockDim.x) {
    const int v = e >> 5, l = e & 31;
    const int nx = v >> 4, b = (v >> 2) & 3, c = v & 3;
    const int row = 8 * nx + 2 * (l & 3) + (c & 1);
    const int col = nt * 64 + 16 * b + 8 * (c >> 1) + (l >> 2);
    if (row >= p.m)
      continue;
    float sum = 0.0f;
    for (int w = 0; w < nw; ++w)
      sum += red[w * V * 32 + e];
    if (p.splitK == 1) {
      if (col < p.n)
        storeY(static_cast<T *>(p.y), p.n, static_cast<const T *>(p.bias), row, col, sum);
    } else {
      atomicAdd(p.partials + static_cast<size_t>(row) * p.np + col, sum);
    }
  }
}

/// Template: activation type, code width, zero kind, NX tiles of 8 rows
/// (M <= 8 NX), SPG K-steps per fold (2 or 4 for groups of 32 or 64, 8 for
/// groups of 128 and up, folded once per P-block). Block: nw warps on tile
/// blockIdx.x, K range blockIdx.y * pbPerSplit .. (+ pbPerSplit) P-blocks,
/// split among the warps.
///
/// The main loop stays in the kernel body: the code ring, the activation
/// ring and the group pointers are registers indexed by the unrolled step,
/// refilled D and XD steps ahead across P-block boundaries; it reads as one
/// pipeline, top to bottom (the arithmetic is in mmaStep and foldGroup).
template <typename T, int BITS, int ZK, int NX, int SPG>
__global__ void __maxnreg__(NX == 1 ? 128 : 168) decodeKernel(const DecodeParams p) {
  constexpr int U = Codes<BITS>::kVecsPerLane; // uint4 of codes per lane per step
  // Code prefetch distance in steps: 4 KB (2 KB at NX = 2) in flight per warp
  // within 128 registers.
  constexpr int D = (BITS == 4 ? 8 : 4) / NX;
  constexpr int XD = NX == 1 ? 4 : 2; // activation prefetch distance, in steps
  constexpr int pbU4 = Codes<BITS>::kVecsPerBlock; // uint4 per warp P-block
  constexpr int PBK = tile::kBlockK;               // K per P-block
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nw = blockDim.x >> 5;
  const int t = lane & 3, r = lane >> 2;
  const int nt = blockIdx.x;
  const int sb = blockIdx.y * p.pbPerSplit;
  const int se = min(sb + p.pbPerSplit, p.pblocks);
  const int pbBeg = sb + warp * (se - sb) / nw;
  const int pbEnd = sb + (warp + 1) * (se - sb) / nw;

  // Activations: rows 8 nx + r (the B fragment's column r), K positions
  // 16 i + 4 t .. + 3 of each step; xp walks the P-blocks, kLeft counts the
  // K left in this lane's row from the current P-block on (x is not padded).
  const T *xp[NX];
  bool rowOk[NX];
#pragma unroll
  for (int nx = 0; nx < NX; ++nx) {
    const int row = min(8 * nx + r, p.m - 1);
    rowOk[nx] = 8 * nx + r < p.m;
    xp[nx] = static_cast<const T *>(p.x) + row * p.xStride + 4 * t + pbBeg * PBK;
  }
  int kLeft = p.k - 4 * t - pbBeg * PBK;
  // Step `step` (0 .. 11) counted from the current P-block.
  auto loadX = [&](int step, uint2 (&v)[NX]) {
#pragma unroll
    for (int nx = 0; nx < NX; ++nx) {
      v[nx] = make_uint2(0, 0);
      if (rowOk[nx] && step * 16 < kLeft)
        v[nx] = __ldg(reinterpret_cast<const uint2 *>(xp[nx] + step * 16));
    }
  };

  // Scales (zeros): columns 8 j + r of the tile are half (r & 1) of word j
  // in the lane pair (r / 2) of [G][nt][t][j][e]. A group's are loaded at
  // its fold (an L2 hit: prefetched into L2 at the fold before), not carried
  // in registers. Groups advance by one per fold (SPG < 8) or every
  // pbPerGroup P-blocks.
  const size_t groupStride = static_cast<size_t>(p.ntiles) * Groups::kVecsPerTile;
  const int laneOff = nt * Groups::kVecsPerTile + (r >> 1) * Groups::kVecsPerT;
  const int g0 = SPG < kStepsPerBlock ? pbBeg * (kStepsPerBlock / SPG) : pbBeg / p.pbPerGroup;
  int pbInGroup = SPG < kStepsPerBlock ? 0 : pbBeg - g0 * p.pbPerGroup;
  const uint4 *sp = p.scales + laneOff + g0 * groupStride;
  const uint4 *zp = ZK != kSym ? p.zeros + laneOff + g0 * groupStride : nullptr;
  const uint32_t sel = r & 1;
  auto prefetchGroup = [&](const uint4 *s, const uint4 *z) {
    asm volatile("prefetch.global.L2 [%0];" ::"l"(s));
    if constexpr (ZK != kSym)
      asm volatile("prefetch.global.L2 [%0];" ::"l"(z));
  };

  float accY[NX][4][4], accG[NX][4][4], acc1[NX][4];
#pragma unroll
  for (int nx = 0; nx < NX; ++nx)
#pragma unroll
    for (int b = 0; b < 4; ++b)
#pragma unroll
      for (int c = 0; c < 4; ++c)
        accY[nx][b][c] = 0.0f;

  const uint4 *qp = p.q + static_cast<size_t>(nt) * pbU4 + lane +
                    static_cast<size_t>(pbBeg) * p.ntiles * pbU4;
  const size_t pbStride = static_cast<size_t>(p.ntiles) * pbU4;
  uint4 ring[D][U];
  uint2 xr[XD][NX];
  if (pbBeg < pbEnd) {
#pragma unroll
    for (int d = 0; d < D; ++d)
#pragma unroll
      for (int h = 0; h < U; ++h)
        ring[d][h] = loadStreaming(qp + Codes<BITS>::step(d, h));
#pragma unroll
    for (int d = 0; d < XD; ++d)
      loadX(d, xr[d]);
    prefetchGroup(sp, zp);
  }
  const uint32_t ones[4] = {onesPair<T>(), onesPair<T>(), onesPair<T>(), onesPair<T>()};

  for (int pb = pbBeg; pb < pbEnd; ++pb) {
    const bool hasNext = pb + 1 < pbEnd;
#pragma unroll
    for (int i = 0; i < kStepsPerBlock; ++i) {
      uint4 wq[U];
#pragma unroll
      for (int h = 0; h < U; ++h)
        wq[h] = ring[i % D][h];
      // Refill: step i + D of this P-block (D < 8) or of the next.
      if (i + D < kStepsPerBlock || hasNext) {
#pragma unroll
        for (int h = 0; h < U; ++h)
          ring[i % D][h] = loadStreaming(qp + (i + D < kStepsPerBlock ? 0 : pbStride) +
                                         Codes<BITS>::step((i + D) % kStepsPerBlock, h));
      }
      uint32_t xb[NX][2];
#pragma unroll
      for (int nx = 0; nx < NX; ++nx) {
        xb[nx][0] = xr[i % XD][nx].x;
        xb[nx][1] = xr[i % XD][nx].y;
      }
      loadX(i + XD, xr[i % XD]);

      mmaStep<T, BITS, NX>(wq, xb, i % SPG == 0, ones, accG, acc1);

      // Group end: y += s * acc + bterm * sum(x), in f32.
      if (i % SPG == SPG - 1) {
        uint4 sc[2], zc[2];
        sc[0] = loadInPlace(sp);
        sc[1] = loadInPlace(sp + 1);
        if constexpr (ZK != kSym) {
          zc[0] = loadInPlace(zp);
          zc[1] = loadInPlace(zp + 1);
        }
        // On to the next fold's group; prefetch it if there is one.
        bool advance = true;
        if constexpr (SPG == kStepsPerBlock) {
          advance = ++pbInGroup == p.pbPerGroup;
          if (advance)
            pbInGroup = 0;
        }
        if (advance) {
          sp += groupStride;
          if constexpr (ZK != kSym)
            zp += groupStride;
        }
        if (i + 1 < kStepsPerBlock || hasNext)
          prefetchGroup(sp, zp);
        foldGroup<T, BITS, ZK, NX>(sc, zc, sel, accY, accG, acc1);
      }
    }
    qp += pbStride;
#pragma unroll
    for (int nx = 0; nx < NX; ++nx)
      xp[nx] += PBK;
    kLeft -= PBK;
  }

  reduceWarps<T, NX>(p, accY, warp, lane, nw, nt);
  if (p.splitK == 1)
    return;
  // The last block of this tile writes y and leaves the accumulator and its
  // counter zeroed for the next launch. f32 atomics make the last bits
  // depend on the order the splits finish.
  __shared__ int lastBlock;
  if (!lastSplit(p, nt, lastBlock))
    return;
  for (int e = threadIdx.x; e < p.m * 64; e += blockDim.x) {
    const int row = e >> 6, col = nt * 64 + (e & 63);
    const float v = takePartial(p.partials, p.np, row, col);
    if (col < p.n)
      storeY(static_cast<T *>(p.y), p.n, static_cast<const T *>(p.bias), row, col, v);
  }
  if (threadIdx.x == 0)
    p.counters[nt] = 0;
}

using DecodeFn = void (*)(DecodeParams);

DecodeFn pickDecode(const DeviceWeight &w, int nx, int spg) {
  return dispatch::onWeight(w, [&](auto type, auto bits, auto zk) {
    return dispatch::onValue<1, 2>(nx, [&](auto rowTiles) {
      return dispatch::onValue<2, 4, 8>(spg, [&](auto steps) -> DecodeFn {
        return decodeKernel<typename decltype(type)::type, bits, zk, rowTiles, steps>;
      });
    });
  });
}

/// Blocks of `threads` threads one SM holds for this kernel (cached).
int residentBlocks(DecodeFn fn, int threads, size_t smem) {
  static std::mutex mutex;
  static std::map<std::pair<const void *, int>, int> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_pair(reinterpret_cast<const void *>(fn), threads);
  auto it = cache.find(key);
  if (it != cache.end())
    return it->second;
  int blocks = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, fn, threads, smem) != cudaSuccess)
    blocks = 1;
  (void)cudaGetLastError();
  return cache[key] = std::max(blocks, 1);
}

} // namespace

bool detail::decodeLinear(const DeviceWeight &w, const void *x, const void *bias,
                          void *y, int64_t m, Workspace &ws, cudaStream_t stream,
                          const LaunchConfig &config, std::string &error) {
  // More than 16 rows (the path forced beyond decode): 16 at a time, each
  // chunk a launch of its own on the same stream.
  if (m > 16) {
    const size_t elem = 2;
    for (int64_t m0 = 0; m0 < m; m0 += 16) {
      const void *xc = static_cast<const char *>(x) + m0 * w.k * elem;
      void *yc = static_cast<char *>(y) + m0 * w.n * elem;
      if (!decodeLinear(w, xc, bias, yc, std::min<int64_t>(16, m - m0), ws, stream, config,
                        error))
        return false;
    }
    return true;
  }
  const int nx = m <= 8 ? 1 : 2;
  // 8 warps per block measured best or within 3% on every layer swept, but
  // at M > 8 on layers of 3 tiles per SM and more, where 2 win by 12%
  // (NOTES.md, version 11).
  const int nw = config.warpsN       ? config.warpsN
                 : nx == 2 && w.np / 64 >= 3 * smCount() ? 2
                                                          : 8;
  if (nw != 1 && nw != 2 && nw != 4 && nw != 8) {
    error = "warpsN must be 1, 2, 4 or 8 on the decode path, got " + std::to_string(nw);
    return false;
  }
  DecodeParams p{};
  p.x = x;
  p.xStride = w.k;
  p.bias = bias;
  p.y = y;
  p.q = static_cast<const uint4 *>(w.q);
  p.scales = static_cast<const uint4 *>(w.scales);
  p.zeros = static_cast<const uint4 *>(w.zeros);
  p.m = static_cast<int>(m);
  p.n = static_cast<int>(w.n);
  p.k = static_cast<int>(w.k);
  p.np = static_cast<int>(w.np);
  p.groupSize = static_cast<int>(w.groupSize);
  p.ntiles = static_cast<int>(w.np / tile::kTileN);
  p.pblocks = static_cast<int>(w.kp / tile::kBlockK);
  const int spg = stepsPerFold(w);
  p.pbPerGroup = w.groupSize >= 128 ? static_cast<int>(w.groupSize / 128) : 1;

  // Act order, or activations not 8-byte aligned: a permuted / aligned copy.
  if (w.perm || reinterpret_cast<uintptr_t>(x) % 8 != 0) {
    const size_t bytes = static_cast<size_t>(m) * w.kp * 2;
    if (!growBuffer(ws.xperm, ws.xpermBytes, bytes, error))
      return false;
    if (!gatherActivations(w, x, m, w.kp, ws.xperm, stream, error))
      return false;
    p.x = ws.xperm;
    p.xStride = w.kp;
  }

  DecodeFn fn = pickDecode(w, nx, spg);
  const size_t smem = static_cast<size_t>(nw) * nx * 16 * 32 * sizeof(float);
  int splitK = config.splitK;
  if (splitK <= 0) {
    // As many blocks as fit on the GPU at once (one wave, no tail), each
    // warp at least one P-block; at M > 8 half that (the f32 atomics of a
    // split grow with M).
    const int slots = smCount() * residentBlocks(fn, nw * 32, smem);
    splitK = std::max(1, slots / p.ntiles / nx);
  }
  splitK = std::clamp(splitK, 1, std::max(1, p.pblocks / nw));
  p.pbPerSplit = (p.pblocks + splitK - 1) / splitK;
  p.splitK = (p.pblocks + p.pbPerSplit - 1) / p.pbPerSplit;
  if (p.splitK > 1) {
    if (!splitScratch(ws, static_cast<size_t>(m) * p.np * sizeof(float),
                      static_cast<size_t>(p.ntiles), stream, error))
      return false;
    p.partials = static_cast<float *>(ws.partials);
    p.counters = ws.counters;
  }
  fn<<<dim3(p.ntiles, p.splitK), nw * 32, smem, stream>>>(p);
  HFQ_LAUNCH_CHECK("the decode kernel");
  return true;
}

} // namespace hfq::cuda
