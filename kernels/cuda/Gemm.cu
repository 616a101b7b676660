//===- Gemm.cu - the shared-memory W4A16 / W8A16 GEMM loop, 16 < M <= 64 ---===//
//
// LinearPath::Gemm: the kernel (weightOnlyKernel) and its launcher
// (detail::gemmLinear). The loop runs 1 or 2 m16 tiles per warp, row chunks
// side by side; every warp owns a 64-column N-tile and streams its codes
// once from HBM with cp.async into its own shared-memory stages, two 8-step
// P-blocks (128 K) ahead; the block's activations ride in the same cp.async
// groups, already in mma fragment order. The layout (TileLayout.h) makes 16
// bytes per lane per 16-deep K-step the B fragments of eight mma.m16n8k16.
//
// The tensor cores multiply the codes themselves: one lop3 (4-bit) or
// byte_perm (8-bit fp16) turns a pair of codes into the exact 16-bit values
// q + magic; a ninth mma against ones sums the activations; at each group's
// end, in f32, y += s * acc + b * sum(x) with b = -s (z + magic) (or
// o - s * magic for float zeros). No per-weight scale arithmetic remains.
//
// K is split across blocks; splits add into an f32 accumulator with vector
// atomics and the last block of each tile group writes y with the bias.
// kernels/cuda/NOTES.md has the measurements behind each choice.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Dispatch.cuh"
#include "kernels/cuda/Fragments.cuh"
#include "kernels/cuda/Internal.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <type_traits>

namespace hfq::cuda {

namespace {
using namespace frag;
using detail::Params;
using tile::Codes;
using tile::Groups;

constexpr int kStages = 3; // shared-memory stages: 2 P-blocks in flight

/// Shared memory per stage, in uint4 (the host sizes the launch with these,
/// the kernel carves its stages by them): the activations of MT m16 tiles x
/// one P-block (16-bit), and per warp its codes, scales and zeros
/// ([codes | scales | zeros]; the zeros' room is left unused when
/// symmetric).
__host__ __device__ constexpr int actStageVecs(int mt) { return mt * 16 * tile::kBlockK * 2 / 16; }
__host__ __device__ constexpr int groupStageVecs(int spg) {
  return kStepsPerBlock / spg * Groups::kVecsPerTile;
}
__host__ __device__ constexpr int warpStageVecs(int bits, int spg) {
  return (bits == 4 ? Codes<4>::kVecsPerBlock : Codes<8>::kVecsPerBlock) + 2 * groupStageVecs(spg);
}

/// Stage: the activations of P-block pb into one stage, `rowsHere` rows
/// from m0 (one 4-byte cp.async per two K positions, zero-filled past K; with
/// act order, gathered through perm). Rows past M are not staged: an mma
/// output row depends on its A row only, and rows past M are never stored
/// (the tile is zeroed once so they hold finite values). A stage is
/// [MT][step][lane] x 16 B in fragment order: (a0, a1, a2, a3) = rows
/// (r, r + 8) x K positions 16 i + 4 t + (0, 1), then + (2, 3), so one
/// 16-byte shared load is an mma A operand as it stands.
template <typename T>
__device__ __forceinline__ void stageActivations(const Params &p, uint32_t *base, int pb, int m0,
                                                 int rowsHere) {
  const T *x = static_cast<const T *>(p.x);
  for (int e = threadIdx.x; e < rowsHere * 64; e += blockDim.x) {
    const int row = e >> 6, q = e & 63;
    const int i = q >> 3, t4 = (q >> 1) & 3, half = q & 1;
    const int kk = pb * tile::kBlockK + 2 * q;
    uint32_t *dst =
        base + (((row >> 4) * kStepsPerBlock + i) * tile::kLanes + tile::laneOf(row & 7, t4)) * 4 +
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
      asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(to), "l"(src),
                   "r"(valid ? 4 : 0));
    }
  }
}

/// Stage: one warp's codes, scales and zeros of P-block pb into its stage
/// `dst` (16-byte cp.async, L1 bypassed). Scales (then zeros) are NG groups
/// x 8 pieces of 16 B: groups under 128 are P-block aligned (g = pb * NG +
/// gi); larger ones hold whole P-blocks (g = pb * 128 / groupSize).
template <int BITS, int ZK, int SPG>
__device__ __forceinline__ void stageWeights(const Params &p, uint4 *dst, int pb, int nt, int lane,
                                             const uint4 *sTile, const uint4 *zTile,
                                             int groupStride) {
  constexpr int WQ = Codes<BITS>::kVecsPerBlock;
  constexpr int NG = kStepsPerBlock / SPG;
  constexpr int SQ = groupStageVecs(SPG);
  const uint4 *src = p.q + Codes<BITS>::template block<size_t>(pb, nt, p.ntiles);
#pragma unroll
  for (int s = 0; s < WQ / 32; ++s) {
    const uint32_t to = static_cast<uint32_t>(__cvta_generic_to_shared(dst + s * 32 + lane));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(to), "l"(src + s * 32 + lane));
  }
  constexpr int total = (ZK != kSym ? 2 : 1) * SQ;
  const int gBase = SPG < kStepsPerBlock ? pb * NG : pb * tile::kBlockK / p.groupSize;
#pragma unroll
  for (int pass = 0; pass < (total + 31) / 32; ++pass) {
    const int e = pass * 32 + lane;
    if (total % 32 == 0 || e < total) {
      const int which = e / SQ, gi = (e % SQ) / Groups::kVecsPerTile,
                piece = e % Groups::kVecsPerTile;
      const uint4 *from =
          (which ? zTile : sTile) + static_cast<size_t>(gBase + gi) * groupStride + piece;
      const uint32_t to = static_cast<uint32_t>(__cvta_generic_to_shared(dst + WQ + e));
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(to), "l"(from));
    }
  }
}

/// Epilogue without split K: y = accY (+ bias) where row < M and column < N.
/// accY[mt][j] = rows (r, r+8) x columns (2t, 2t+1) of block j.
template <typename T, int MT>
__device__ __forceinline__ void storeTile(const Params &p, const float (&accY)[MT][8][4], int m0,
                                          int nt, int lane) {
  const int t = lane & 3, r = lane >> 2;
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int row = m0 + mt * 16 + r + (c >= 2 ? 8 : 0);
        const int col = nt * 64 + j * 8 + 2 * t + (c & 1);
        if (row < p.m && col < p.n)
          storeY(static_cast<T *>(p.y), p.n, static_cast<const T *>(p.bias), row, col,
                 accY[mt][j][c]);
      }
}

/// Epilogue with split K: accY added into the f32 accumulator [M][Np]
/// (vector atomics on sm_90).
template <int MT>
__device__ __forceinline__ void addPartials(const Params &p, const float (&accY)[MT][8][4], int m0,
                                            int nt, int lane) {
  const int t = lane & 3, r = lane >> 2;
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
          asm volatile("red.global.add.v2.f32 [%0], {%1, %2};" ::"l"(dst), "f"(accY[mt][j][c]),
                       "f"(accY[mt][j][c + 1])
                       : "memory");
#else
          atomicAdd(dst, accY[mt][j][c]);
          atomicAdd(dst + 1, accY[mt][j][c + 1]);
#endif
        }
      }
}

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
///
/// Staging (stageActivations, stageWeights) and the epilogue (storeTile,
/// addPartials, the last split's pass) are stages of their own; the compute
/// of a P-block (the K-steps and the fold) stays here, one pipeline read top
/// to bottom: moved into a function, even a lambda, it changes the order in
/// which the compiler keeps accY and the SASS of some instantiations (the
/// PTX was compared; see NOTES.md, "Restructure").
template <typename T, int BITS, int ZK, int MT, int SPG>
__global__ void __launch_bounds__(256) weightOnlyKernel(const Params p) {
  constexpr int U = Codes<BITS>::kVecsPerLane; // uint4 per lane per step
  constexpr int NB = BITS == 8 && !std::is_same_v<T, __half> ? 4 : 2;
  constexpr int WQ = Codes<BITS>::kVecsPerBlock; // uint4 of codes per warp stage
  constexpr int SQ = groupStageVecs(SPG);        // uint4 of scales (or zeros)
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int t = lane & 3;
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
  const int rowsHere = min(MT * 16, p.m - m0);

  // Dynamic shared memory (actStageVecs, warpStageVecs):
  //   aTile[3][MT][8][32] x 16 B: activations of a P-block in mma fragment
  //     order (stageActivations), three stages;
  //   per warp, three stages of [codes WQ | scales SQ | zeros SQ] uint4
  //     (stageWeights): two P-blocks in flight while one is computed.
  extern __shared__ uint4 smem[];
  T *aBase = reinterpret_cast<T *>(smem);
  constexpr int aStage = actStageVecs(MT) * 16 / sizeof(T); // elements
  uint4 *wBase = smem + kStages * aStage * sizeof(T) / sizeof(uint4);
  constexpr int warpStage = warpStageVecs(BITS, SPG);
  auto warpTile = [&](int stage) {
    return wBase + (static_cast<size_t>(stage) * wn + warp) * warpStage;
  };
  auto stageA = [&](int pb, int b) {
    stageActivations<T>(p, reinterpret_cast<uint32_t *>(aBase + b * aStage), pb, m0, rowsHere);
  };

  const int ntc = active ? nt : 0;
  // Scales and zeros: [G][nt][t][16 x 16 bit], kVecsPerTile uint4 per (g, nt).
  const uint4 *sTile = p.scales + static_cast<size_t>(ntc) * Groups::kVecsPerTile;
  const uint4 *zTile =
      p.zeros ? p.zeros + static_cast<size_t>(ntc) * Groups::kVecsPerTile : nullptr;
  const int groupStride = p.ntiles * Groups::kVecsPerTile;
  auto stageW = [&](int pb, int stage) {
    if (active && pb < pb1)
      stageWeights<BITS, ZK, SPG>(p, warpTile(stage), pb, ntc, lane, sTile, zTile, groupStride);
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
          wq[h] = stage[Codes<BITS>::step(i, h) + lane];
        // A fragments: a0/a2 = row r, a1/a3 = row r + 8; K positions
        // 16 i + 4 t .. + 3 (mma k 2t, 2t+1 and 2t+8, 2t+9).
        uint32_t a[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          const uint4 v =
              reinterpret_cast<const uint4 *>(aStageBase)[(mt * kStepsPerBlock + i) * 32 + lane];
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
          const uint4 *sc = stage + WQ + gi * Groups::kVecsPerTile + t * Groups::kVecsPerT;
          const uint4 s4[2] = {sc[0], sc[1]};
          uint4 z4[2];
          if constexpr (ZK != kSym) {
            const uint4 *zc = stage + WQ + SQ + gi * Groups::kVecsPerTile + t * Groups::kVecsPerT;
            z4[0] = zc[0];
            z4[1] = zc[1];
          }
#pragma unroll
          for (int j = 0; j < 8; ++j)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              const uint32_t sw = wordOf(s4[j / 4], j % 4);
              const float s = half16ToFloat<T>(e ? sw >> 16 : sw & 0xFFFF);
              float z = 0.0f;
              if constexpr (ZK != kSym) {
                const uint32_t zw = wordOf(z4[j / 4], j % 4);
                z = half16ToFloat<T>(e ? zw >> 16 : zw & 0xFFFF);
              }
              const float bterm = zeroTerm<T, BITS, ZK>(s, z);
#pragma unroll
              for (int mt = 0; mt < MT; ++mt)
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                  // Rows r + 8 (h = 1) exist only from M > 8 on: skip
                  // their arithmetic in decode (a warp-uniform branch).
                  if (h == 1 && mt * 16 + 8 >= rowsHere)
                    continue;
                  const int c = h * 2 + e;
                  accY[mt][j][c] =
                      fmaf(s, accG[mt][j][c], fmaf(bterm, acc1[mt][h * 2], accY[mt][j][c]));
                }
            }
        }
      }
    }
    __syncthreads(); // this P-block's stages are refilled from the next on
  }
  asm volatile("cp.async.wait_group 0;");

  if (p.splitK == 1) {
    if (active)
      storeTile<T, MT>(p, accY, m0, nt, lane);
    return;
  }
  // Split K: every split adds into the f32 accumulator [M][Np] (zero at
  // launch); the last split of this tile group converts it, adds the bias,
  // writes y and zeroes the accumulator and its counter for the next launch.
  // f32 atomics make the last bits depend on the order splits finish.
  if (active)
    addPartials<MT>(p, accY, m0, nt, lane);
  __shared__ int lastBlock;
  const int counter = blockIdx.x;
  if (!lastSplit(p, counter, lastBlock))
    return;
  const int rows = min(16 * MT, p.m - m0);
  const int cols = wn * 64;
  const int col0 = tileGroup * wn * 64;
  for (int e = threadIdx.x; e < rows * cols; e += blockDim.x) {
    const int row = m0 + e / cols, col = col0 + e % cols;
    if (col >= p.np)
      continue;
    const float v = takePartial(p.partials, p.np, row, col);
    if (col < p.n)
      storeY(static_cast<T *>(p.y), p.n, static_cast<const T *>(p.bias), row, col, v);
  }
  if (threadIdx.x == 0)
    p.counters[counter] = 0; // ready for the next launch
}

using GemmFn = void (*)(Params);

GemmFn pickGemm(const DeviceWeight &w, int mt) {
  return dispatch::onWeight(w, [&](auto type, auto bits, auto zk) {
    return dispatch::onValue<1, 2>(mt, [&](auto mtiles) {
      return dispatch::onValue<2, 4, 8>(detail::stepsPerFold(w), [&](auto spg) -> GemmFn {
        return weightOnlyKernel<typename decltype(type)::type, bits, zk, mtiles, spg>;
      });
    });
  });
}

} // namespace

bool detail::gemmLinear(const DeviceWeight &w, const void *x, const void *bias, void *y, int64_t m,
                        Workspace &ws, cudaStream_t stream, const LaunchConfig &config,
                        std::string &error) {
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
    if (!splitScratch(ws, static_cast<size_t>(m) * p.np * sizeof(float),
                      static_cast<size_t>(blocksN) * chunks, stream, error))
      return false;
    p.partials = static_cast<float *>(ws.partials);
    p.counters = ws.counters;
  }
  GemmFn fn = pickGemm(w, mt);
  const size_t smemBytes = kStages *
                           (static_cast<size_t>(actStageVecs(mt)) +
                            static_cast<size_t>(wn) * warpStageVecs(w.bits, stepsPerFold(w))) *
                           sizeof(uint4);
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

} // namespace hfq::cuda
