//===- WeightOnly.cu - W4A16 / W8A16 tensor-core linear kernels -----------===//
//
// The small-batch GEMM (LinearPath::Gemm, 16 < M <= 64; the decode loop for
// M <= 16 is Decode.cu), the dequantize kernel of the prefill path, and the
// host side of all paths. The GEMM loop runs 1 or 2 m16 tiles per warp, row
// chunks side by side; every warp owns a 64-column
// N-tile and streams its codes once from HBM with cp.async into its own
// shared-memory stages, two 8-step P-blocks (128 K) ahead; the block's
// activations ride in the same cp.async groups, already in mma fragment
// order. The layout (kernels/repack/KernelLayout) makes 16 bytes per lane
// per 16-deep K-step the B fragments of eight mma.m16n8k16.
//
// The tensor cores multiply the codes themselves: one lop3 (4-bit) or
// byte_perm (8-bit fp16) turns a pair of codes into the exact 16-bit values
// q + magic; a ninth mma against ones sums the activations; at each group's
// end, in f32, y += s * acc + b * sum(x) with b = -s (z + magic) (or
// o - s * magic for float zeros). No per-weight scale arithmetic remains.
//
// K is split across blocks; splits add into an f32 accumulator with vector
// atomics and the last block of each tile group writes y with the bias.
// Large M goes to Dequant: W -> 16-bit dense scratch, then cuBLAS.
// kernels/cuda/NOTES.md has the measurements behind each choice.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/WeightOnly.h"
#include "kernels/cuda/Fragments.cuh"
#include "kernels/cuda/Internal.h"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <type_traits>

namespace hfq::cuda {

namespace {
using namespace frag;
using detail::growBuffer;
using detail::smCount;

constexpr int kStages = 3;        // shared-memory stages: 2 P-blocks in flight

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

/// The main loop. Template: activation type, code width, zero kind, m16
/// tiles per warp, and SPG, K-steps per group (2, 4, or 8 for groups of 128
/// and more, which are flushed once per P-block). Warps per block (each on
/// its own 64-column tile) and act order are run-time.
///
/// The tensor cores multiply raw codes: acc_g = sum_k x * (q + magic) over
/// one group, and acc_1 = sum_k x (one more mma with a ones operand). At the
/// group's end, in f32,
///   y += s * acc_g + b * acc_1,  b = -s * (z + magic)   (Symmetric/Integer)
///                                b = o - s * magic      (Offset)
/// so no per-weight scale arithmetic is left in the loop: a 4-bit step is a
/// shared load, 16 lop3 and 9 mma per warp.
template <typename T, int BITS, int ZK, int MT, int SPG>
__global__ void __launch_bounds__(256) weightOnlyKernel(const Params p) {
  constexpr int U = BITS == 4 ? 1 : 2;        // uint4 per lane per step
  constexpr int NB = BITS == 8 && !std::is_same_v<T, __half> ? 4 : 2;
  constexpr int NG = kStepsPerBlock / SPG;    // groups per P-block
  constexpr int WQ = kStepsPerBlock * U * 32; // uint4 of weights per warp stage
  constexpr int SQ = NG * 8;                  // uint4 of scales (or zeros)
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
  const bool active = nt < p.ntiles;
  const T *x = static_cast<const T *>(p.x);

  // Dynamic shared memory (sharedBytes()):
  //   aTile[3][MT][8][32] x 16 B: activations of a P-block in mma fragment
  //     order (stageA), three stages;
  //   per warp, three stages of [weights WQ | scales SQ | zeros SQ] uint4:
  //     two P-blocks in flight while one is computed.
  extern __shared__ uint4 smem[];
  T *aBase = reinterpret_cast<T *>(smem);
  constexpr int aStage = MT * 16 * kStepsPerBlock * 16; // elements
  uint4 *wBase = smem + kStages * aStage * sizeof(T) / sizeof(uint4);
  constexpr int warpStage = WQ + 2 * SQ;
  auto warpTile = [&](int stage) {
    return wBase + (static_cast<size_t>(stage) * wn + warp) * warpStage;
  };

  // Activations of P-block pb into stage b: one 16-byte cp.async per row
  // chunk, zero-filled past M and K; with act order, gathered through perm.
  // Rows past M are not staged: an mma output row depends on its A row
  // only, and rows past M are never stored (the tile is zeroed once so they
  // hold finite values).
  const int rowsHere = min(MT * 16, p.m - m0);
  // A stage is [MT][step][lane] x 16 B in fragment order: (a0, a1, a2, a3)
  // = rows (r, r + 8) x K positions 16 i + 4 t + (0, 1), then + (2, 3), so
  // one 16-byte shared load is an mma A operand as it stands. It is filled
  // 4 bytes (two K positions of one row) at a time.
  auto stageA = [&](int pb, int b) {
    uint32_t *base = reinterpret_cast<uint32_t *>(aBase + b * aStage);
    for (int e = threadIdx.x; e < rowsHere * 64; e += blockDim.x) {
      const int row = e >> 6, q = e & 63;
      const int i = q >> 3, t4 = (q >> 1) & 3, half = q & 1;
      const int kk = pb * kStepsPerBlock * 16 + 2 * q;
      uint32_t *dst = base + (((row >> 4) * kStepsPerBlock + i) * 32 + (row & 7) * 4 + t4) * 4 +
                      half * 2 + ((row >> 3) & 1);
      const int grow = m0 + row;
      if (p.perm) {
        const unsigned short *xr =
            reinterpret_cast<const unsigned short *>(x) + static_cast<size_t>(grow) * p.k;
        const int s0 = __ldg(p.perm + kk), s1 = __ldg(p.perm + kk + 1);
        const uint32_t lo = s0 < p.k ? __ldg(xr + s0) : 0;
        const uint32_t hi = s1 < p.k ? __ldg(xr + s1) : 0;
        *dst = lo | hi << 16;
      } else {
        const bool valid = kk < p.k;
        const T *src = valid ? x + static_cast<size_t>(grow) * p.k + kk : x;
        const uint32_t to = static_cast<uint32_t>(__cvta_generic_to_shared(dst));
        asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(to),
                     "l"(src), "r"(valid ? 4 : 0));
      }
    }
  };

  const int ntc = active ? nt : 0;
  // Scales and zeros: [G][nt][t][16 x 16 bit] = 8 uint4 per (g, nt).
  const uint4 *sTile = p.scales + static_cast<size_t>(ntc) * 8;
  const uint4 *zTile = p.zeros ? p.zeros + static_cast<size_t>(ntc) * 8 : nullptr;
  const int groupStride = p.ntiles * 8;
  // This warp's weights, scales and zeros of P-block pb into a stage.
  auto stageW = [&](int pb, int stage) {
    if (!active || pb >= pb1)
      return;
    uint4 *dst = warpTile(stage);
    const uint4 *src = p.q + (static_cast<size_t>(pb) * p.ntiles + ntc) * WQ;
#pragma unroll
    for (int s = 0; s < WQ / 32; ++s) {
      const uint32_t to = static_cast<uint32_t>(__cvta_generic_to_shared(dst + s * 32 + lane));
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(to),
                   "l"(src + s * 32 + lane));
    }
    // Scales (then zeros): NG groups x 8 pieces of 16 B. Groups under 128
    // are P-block aligned (g = pb * NG + gi); larger ones hold whole
    // P-blocks (g = pb * 128 / groupSize).
    constexpr int total = (ZK != kSym ? 2 : 1) * SQ;
    const int gBase = SPG < kStepsPerBlock ? pb * NG : pb * (kStepsPerBlock * 16) / p.groupSize;
#pragma unroll
    for (int pass = 0; pass < (total + 31) / 32; ++pass) {
      const int e = pass * 32 + lane;
      if (total % 32 == 0 || e < total) {
        const int which = e / SQ, gi = (e % SQ) / 8, piece = e % 8;
        const uint4 *from =
            (which ? zTile : sTile) + static_cast<size_t>(gBase + gi) * groupStride + piece;
        const uint32_t to =
            static_cast<uint32_t>(__cvta_generic_to_shared(dst + WQ + e));
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(to), "l"(from));
      }
    }
  };

  float accY[MT][8][4], accG[MT][8][4], acc1[MT][4];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int c = 0; c < 4; ++c)
        accY[mt][j][c] = 0.0f;

  if (rowsHere < MT * 16) {
    uint4 *aTiles = smem;
    for (int e = threadIdx.x; e < kStages * aStage * static_cast<int>(sizeof(T)) / 16;
         e += blockDim.x)
      aTiles[e] = make_uint4(0, 0, 0, 0);
    __syncthreads();
  }
  // cp.async groups, one per P-block: G(pb) = weights and activations of
  // pb; two P-blocks are in flight while one is computed (waiting for all
  // but the two newest groups at P-block pb completes pb's).
  stageW(pb0, 0);
  stageA(pb0, 0);
  asm volatile("cp.async.commit_group;");
  stageW(pb0 + 1, 1);
  if (pb0 + 1 < pb1)
    stageA(pb0 + 1, 1);
  asm volatile("cp.async.commit_group;");

  for (int pb = pb0; pb < pb1; ++pb) {
    const int buf = (pb - pb0) % kStages;
    const uint4 *stage = warpTile(buf);
    stageW(pb + 2, (pb - pb0 + 2) % kStages);
    if (pb + 2 < pb1)
      stageA(pb + 2, (pb - pb0 + 2) % kStages);
    asm volatile("cp.async.commit_group;");
    asm volatile("cp.async.wait_group 2;");
    __syncthreads();
    if (active) {
      const T *aStageBase = aBase + buf * aStage;
#pragma unroll
      for (int i = 0; i < kStepsPerBlock; ++i) {
        if (i % SPG == 0) {
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
            for (int j = 0; j < 8; ++j)
#pragma unroll
              for (int c = 0; c < 4; ++c)
                accG[mt][j][c] = 0.0f;
#pragma unroll
            for (int c = 0; c < 4; ++c)
              acc1[mt][c] = 0.0f;
          }
        }
        uint4 wq[U];
#pragma unroll
        for (int h = 0; h < U; ++h)
          wq[h] = stage[(i * U + h) * 32 + lane];
        // A fragments: a0/a2 = row r, a1/a3 = row r + 8; K positions
        // 16 i + 4 t .. + 3 (mma k 2t, 2t+1 and 2t+8, 2t+9).
        uint32_t a[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          const uint4 v = reinterpret_cast<const uint4 *>(aStageBase)[(mt * kStepsPerBlock + i) * 32 + lane];
          a[mt][0] = v.x;
          a[mt][1] = v.y;
          a[mt][2] = v.z;
          a[mt][3] = v.w;
        }
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          uint32_t b[NB];
          codesOfBlock<T, BITS>(wq, j, b);
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma16816<T>(accG[mt][j], a[mt], b[0], b[1]);
            if constexpr (NB == 4)
              mma16816<T>(accG[mt][j], a[mt], b[2], b[3]);
          }
        }
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
          mma16816<T>(acc1[mt], a[mt], onesPair<T>(), onesPair<T>());
        // Group end: fold scales and zeros in, in f32.
        if (i % SPG == SPG - 1) {
          const int gi = i / SPG;
          const uint4 *sc = stage + WQ + gi * 8 + t * 2;
          const uint4 s4[2] = {sc[0], sc[1]};
          uint4 z4[2];
          if constexpr (ZK != kSym) {
            const uint4 *zc = stage + WQ + SQ + gi * 8 + t * 2;
            z4[0] = zc[0];
            z4[1] = zc[1];
          }
#pragma unroll
          for (int j = 0; j < 8; ++j)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              const uint32_t sw = wordOf(s4[j / 4], j % 4);
              const float s = half16ToFloat<T>(e ? sw >> 16 : sw & 0xFFFF);
              float bterm;
              if constexpr (ZK == kSym) {
                bterm = -s * (magicOf<T, BITS>() + (1 << (BITS - 1)));
              } else {
                const uint32_t zw = wordOf(z4[j / 4], j % 4);
                const float z = half16ToFloat<T>(e ? zw >> 16 : zw & 0xFFFF);
                bterm = ZK == kInt ? -s * (z + magicOf<T, BITS>())
                                   : z - s * magicOf<T, BITS>();
              }
#pragma unroll
              for (int mt = 0; mt < MT; ++mt)
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                  // Rows r + 8 (h = 1) exist only from M > 8 on: skip
                  // their arithmetic in decode (a warp-uniform branch).
                  if (h == 1 && mt * 16 + 8 >= rowsHere)
                    continue;
                  const int c = h * 2 + e;
                  accY[mt][j][c] = fmaf(s, accG[mt][j][c],
                                        fmaf(bterm, acc1[mt][h * 2], accY[mt][j][c]));
                }
            }
        }
      }
    }
    __syncthreads(); // this P-block's stages are refilled from the next on
  }
  asm volatile("cp.async.wait_group 0;");

  // Epilogue. accY[mt][j] = rows (r, r+8) x columns (2t, 2t+1) of block j.
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
            float v = accY[mt][j][c];
            if (bias)
              v += toFloat(bias[col]);
            y[static_cast<size_t>(row) * p.n + col] = fromFloat<T>(v);
          }
        }
    return;
  }
  // Split K: every split adds into the f32 accumulator [M][Np] (zero at
  // launch); the last split of this tile group converts it, adds the bias,
  // writes y and zeroes the accumulator and its counter for the next launch.
  // f32 atomics make the last bits depend on the order splits finish.
  if (active) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int j = 0; j < 8; ++j)
#pragma unroll
        for (int c = 0; c < 4; c += 2) {
          const int row = m0 + mt * 16 + r + (c >= 2 ? 8 : 0);
          const int col = nt * 64 + j * 8 + 2 * t;
          if (row < p.m) {
            float *dst = p.partials + static_cast<size_t>(row) * p.np + col;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
            asm volatile("red.global.add.v2.f32 [%0], {%1, %2};" ::"l"(dst),
                         "f"(accY[mt][j][c]), "f"(accY[mt][j][c + 1])
                         : "memory");
#else
            atomicAdd(dst, accY[mt][j][c]);
            atomicAdd(dst + 1, accY[mt][j][c + 1]);
#endif
          }
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
  const int rows = min(16 * MT, p.m - m0);
  const int cols = wn * 64;
  const int col0 = tileGroup * wn * 64;
  for (int e = threadIdx.x; e < rows * cols; e += blockDim.x) {
    const int row = m0 + e / cols, col = col0 + e % cols;
    if (col >= p.np)
      continue;
    float *src = p.partials + static_cast<size_t>(row) * p.np + col;
    float v = __ldcg(src);
    __stcg(src, 0.0f);
    if (col >= p.n)
      continue;
    if (bias)
      v += toFloat(bias[col]);
    y[static_cast<size_t>(row) * p.n + col] = fromFloat<T>(v);
  }
  if (threadIdx.x == 0)
    p.counters[counter] = 0; // ready for the next launch
}

/// Dequantize one 64-column tile x 128-deep P-block per warp into a dense
/// [N, K] matrix (kernel K order, or original order through perm), in f32
/// and rounded once: w = s * (q - z) or q * s + o. The warp reads its 4 KB
/// of codes at once, writes the 64 x 128 tile into its own shared-memory
/// tile, then streams it out as whole 256-byte row segments (16-byte stores,
/// full cache lines), so the write side runs at HBM speed.
constexpr int kDequantRow = 128 + 8; // elements per tile row (padded: no bank conflicts)

template <typename T, int BITS, int ZK>
__global__ void __launch_bounds__(128) dequantKernel(const Params p, T *dense,
                                                     bool originalOrder) {
  constexpr int U = BITS == 4 ? 1 : 2;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t = lane & 3, r = lane >> 2;
  const int nt = blockIdx.x * 4 + warp, pb = blockIdx.y;
  if (nt >= p.ntiles)
    return;
  extern __shared__ uint4 dequantSmem[];
  T *tile = reinterpret_cast<T *>(dequantSmem) + warp * 64 * kDequantRow;
  const uint4 *qTile = p.q + (static_cast<size_t>(pb) * p.ntiles + nt) * kStepsPerBlock * U * 32 + lane;
  const unsigned short *scales = reinterpret_cast<const unsigned short *>(p.scales);
  const unsigned short *zeros = reinterpret_cast<const unsigned short *>(p.zeros);
  uint4 wq[kStepsPerBlock][U];
#pragma unroll
  for (int i = 0; i < kStepsPerBlock; ++i)
#pragma unroll
    for (int h = 0; h < U; ++h)
      wq[i][h] = loadStreaming<false>(qTile + (i * U + h) * 32);
  float s[8], b[8]; // w = q * s + b for column 8 j + r of the current group
  int groupLoaded = -1;
#pragma unroll
  for (int i = 0; i < kStepsPerBlock; ++i) {
    const int g = (pb * kStepsPerBlock + i) * 16 / p.groupSize;
    if (g != groupLoaded) {
      groupLoaded = g;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        // Column 8 j + r of the tile sits at [t' = r / 2][j][e = r % 2].
        const size_t at = ((static_cast<size_t>(g) * p.ntiles + nt) * 4 + r / 2) * 16 + j * 2 + r % 2;
        s[j] = half16ToFloat<T>(__ldg(scales + at));
        const float z = ZK == kSym ? static_cast<float>(1 << (BITS - 1))
                                   : half16ToFloat<T>(__ldg(zeros + at));
        b[j] = ZK == kOff ? z : -s[j] * z;
      }
    }
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      float w[4];
#pragma unroll
      for (int off = 0; off < 4; ++off) {
        uint32_t code;
        if constexpr (BITS == 4) {
          const int nibble = ((j & 1) ? 2 : 0) + (off & 1 ? 4 : 0) + off / 2;
          code = (wordOf(wq[i][0], j / 2) >> (4 * nibble)) & 15u;
        } else {
          const int byteIdx = off == 1 ? 2 : off == 2 ? 1 : off;
          code = (wordOf(wq[i][j / 4], j % 4) >> (8 * byteIdx)) & 255u;
        }
        w[off] = fmaf(static_cast<float>(code), s[j], b[j]);
      }
      const T v[4] = {fromFloat<T>(w[0]), fromFloat<T>(w[1]), fromFloat<T>(w[2]),
                      fromFloat<T>(w[3])};
      *reinterpret_cast<uint2 *>(tile + (j * 8 + r) * kDequantRow + i * 16 + 4 * t) =
          *reinterpret_cast<const uint2 *>(v);
    }
  }
  __syncwarp();
  const int k0 = pb * kStepsPerBlock * 16;
  if (originalOrder && p.perm) {
    // dequantizeToDense with act order: scattered to the original K index.
    for (int e = lane; e < 64 * 128; e += 32) {
      const int row = e >> 7, kk = k0 + (e & 127), n = nt * 64 + row;
      if (n < p.n && kk < p.k)
        dense[static_cast<size_t>(n) * p.k + p.perm[kk]] = tile[row * kDequantRow + (e & 127)];
    }
    return;
  }
  // Two rows per pass: lanes 0-15 and 16-31 each write 16 x 16 bytes.
#pragma unroll 4
  for (int pass = 0; pass < 32; ++pass) {
    const int row = pass * 2 + (lane >> 4), chunk = lane & 15;
    const int n = nt * 64 + row, kk = k0 + chunk * 8;
    if (n < p.n && kk < p.k) // K % 8 == 0: a chunk is in or out whole
      *reinterpret_cast<uint4 *>(dense + static_cast<size_t>(n) * p.k + kk) =
          *reinterpret_cast<const uint4 *>(tile + row * kDequantRow + chunk * 8);
  }
}

/// out[:, j] = x[:, perm[j]] (act order; perm null: x[:, j]) for j < width,
/// zero where the source index is past K: the Dequant path's x[:, perm]
/// (width K) and the decode loop's permuted or aligned copy (width Kp).
template <typename T>
__global__ void gatherColumns(const T *x, const int *perm, T *out, int m, int k,
                              int width) {
  const size_t total = static_cast<size_t>(m) * width;
  for (size_t e = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
       e < total; e += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t row = e / width;
    const int col = static_cast<int>(e % width);
    const int from = perm ? perm[col] : col;
    out[e] = from < k ? x[row * k + from] : fromFloat<T>(0.0f);
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
  return spg == 2   ? weightOnlyKernel<T, BITS, ZK, MT, 2>
         : spg == 4 ? weightOnlyKernel<T, BITS, ZK, MT, 4>
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
  int spg = w.groupSize >= 128 ? 8 : static_cast<int>(w.groupSize / 16);
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

/// The most dynamic shared memory one block may ask for on this device.
size_t maxSharedMemory() {
  static size_t bytes = [] {
    int device = 0, value = 48 << 10;
    if (cudaGetDevice(&device) == cudaSuccess)
      cudaDeviceGetAttribute(&value, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    return static_cast<size_t>(value);
  }();
  return bytes;
}

/// Raises a kernel's dynamic shared-memory limit (once per kernel and size).
bool allowSharedMemory(const void *fn, size_t bytes, std::string &error) {
  static std::mutex mutex;
  static std::map<const void *, size_t> allowed;
  std::lock_guard<std::mutex> lock(mutex);
  size_t &have = allowed[fn];
  if (bytes <= have)
    return true;
  HFQ_CUDA_TRY(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    static_cast<int>(bytes)));
  have = bytes;
  return true;
}

bool launchDequant(const DeviceWeight &w, void *dense, bool originalOrder,
                   cudaStream_t stream, std::string &error) {
  Params p = makeParams(w, nullptr, nullptr, nullptr, 0);
  dim3 grid((p.ntiles + 3) / 4, p.pblocks);
  constexpr size_t kDequantSmem = 4 * 64 * kDequantRow * 2;
  if (w.act == ActType::BF16) {
    auto fn = w.bits == 4 ? pickDequant<__nv_bfloat16, 4>(w.zeroKind)
                          : pickDequant<__nv_bfloat16, 8>(w.zeroKind);
    if (!allowSharedMemory(reinterpret_cast<const void *>(fn), kDequantSmem, error))
      return false;
    fn<<<grid, 128, kDequantSmem, stream>>>(p, static_cast<__nv_bfloat16 *>(dense), originalOrder);
  } else {
    auto fn = w.bits == 4 ? pickDequant<__half, 4>(w.zeroKind)
                          : pickDequant<__half, 8>(w.zeroKind);
    if (!allowSharedMemory(reinterpret_cast<const void *>(fn), kDequantSmem, error))
      return false;
    fn<<<grid, 128, kDequantSmem, stream>>>(p, static_cast<__half *>(dense), originalOrder);
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
    if (!detail::gatherActivations(w, x, m, w.k, ws.xperm, stream, error))
      return false;
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

namespace detail {

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

bool splitScratch(Workspace &ws, size_t partialBytes, size_t counters,
                  std::string &error) {
  if (partialBytes > ws.partialsBytes) {
    if (!growBuffer(ws.partials, ws.partialsBytes, partialBytes, error))
      return false;
    HFQ_CUDA_TRY(cudaMemset(ws.partials, 0, partialBytes));
  }
  if (counters > ws.counterCount) {
    void *buffer = ws.counters;
    size_t bytes = ws.counterCount * sizeof(int);
    if (!growBuffer(buffer, bytes, counters * sizeof(int), error))
      return false;
    ws.counters = static_cast<int *>(buffer);
    ws.counterCount = counters;
    HFQ_CUDA_TRY(cudaMemset(ws.counters, 0, counters * sizeof(int)));
  }
  return true;
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

bool gatherActivations(const DeviceWeight &w, const void *x, int64_t m, int64_t width,
                       void *out, cudaStream_t stream, std::string &error) {
  const int blocks = static_cast<int>(std::min<int64_t>((m * width + 255) / 256, 65536));
  if (w.act == ActType::BF16)
    gatherColumns<<<blocks, 256, 0, stream>>>(
        static_cast<const __nv_bfloat16 *>(x), w.perm, static_cast<__nv_bfloat16 *>(out),
        static_cast<int>(m), static_cast<int>(w.k), static_cast<int>(width));
  else
    gatherColumns<<<blocks, 256, 0, stream>>>(
        static_cast<const __half *>(x), w.perm, static_cast<__half *>(out),
        static_cast<int>(m), static_cast<int>(w.k), static_cast<int>(width));
  HFQ_LAUNCH_CHECK("the activation copy");
  return true;
}

} // namespace detail


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

LinearPath chooseLinearPath(const DeviceWeight &w, int64_t m) {
  // Measured on an H200 (kernels/cuda/NOTES.md, version 11): the decode loop
  // up to M = 16; the shared-memory loop up to M = 32, and to M = 64 for
  // weights of 32M elements and more (on 4096 x 4096 at M = 64 dequantize +
  // cuBLAS already wins); beyond that dequantize + cuBLAS.
  if (m <= 16)
    return LinearPath::Gemv;
  if (m <= 32 || (m <= 64 && w.n * w.k >= (int64_t{32} << 20)))
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
  if (path == LinearPath::Gemv)
    return detail::decodeLinear(w, x, bias, y, m, ws, stream, config, error);

  int mt = config.mTiles ? config.mTiles : 2;
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
    // About 7 warps per SM, rounded to a power of two of splits (the
    // swept best on 4096 x 4096, 4096 x 14336 and 28672 x 8192 at M = 32
    // and 64; more splits cost more in f32 atomics than they gain).
    const double want = 7.0 * smCount() / (static_cast<double>(p.ntiles) * chunks);
    splitK = 1;
    while (splitK * 2 <= p.pblocks && want >= splitK * 1.5)
      splitK *= 2;
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
    // The f32 accumulator starts zeroed and every launch leaves it zeroed.
    if (!detail::splitScratch(ws, static_cast<size_t>(m) * p.np * sizeof(float),
                              static_cast<size_t>(blocksN) * chunks, error))
      return false;
    p.partials = static_cast<float *>(ws.partials);
    p.counters = ws.counters;
  }
  KernelFn fn = pickKernel(w, mt);
  // kStages stages of: activations (16 * mt rows x 128 K, 2 bytes) and, per
  // warp, weights, scales and zeros (KernelLayout.h).
  const int spg = w.groupSize >= 128 ? 8 : static_cast<int>(w.groupSize / 16);
  const size_t warpStage = static_cast<size_t>(kStepsPerBlock * (w.bits / 4) * 32 +
                                               2 * (kStepsPerBlock / spg) * 8) *
                           sizeof(uint4);
  const size_t smemBytes =
      kStages * (static_cast<size_t>(mt) * 16 * 128 * 2 + wn * warpStage);
  if (smemBytes > maxSharedMemory()) {
    error = "the weight-only kernel needs " + std::to_string(smemBytes) +
            " bytes of shared memory with " + std::to_string(wn) +
            " warps per block; the device allows " + std::to_string(maxSharedMemory());
    return false;
  }
  if (!allowSharedMemory(reinterpret_cast<const void *>(fn), smemBytes, error))
    return false;
  fn<<<dim3(blocksN * chunks, p.splitK), wn * 32, smemBytes, stream>>>(p);
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
