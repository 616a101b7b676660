//===- Wgmma.cu - the Hopper W4A16 / W8A16 GEMM: wgmma, TMA, mbarriers ----===//
//
// LinearPath::Wgmma (sm_90a only; not chosen by Auto until measured): the
// kernel (wgmmaKernel), its launcher (detail::wgmmaLinear) and the upload of
// its weight layout (DeviceWeight::uploadWgmma). Machete's arrangement:
//
//  * Yᵀ = W · Xᵀ. The dequantized weight is wgmma's A operand *from
//    registers* (64 weight rows per consumer warpgroup, wgmma's M); the
//    activations are B, a [BN rows x 64 K] tile per stage (BN = 16 … 256,
//    the problem's M, wgmma's N) that the copy engine writes 128-byte
//    swizzled into shared memory (cp.async.bulk.tensor through a tensor map
//    encoded per call; rows past M and K past the end arrive as zeros).
//  * Warp-specialized: warpgroup 0 is the producer (one thread issues, per
//    stage, the activation tile, the weight block's codes — one contiguous
//    bulk copy, WgmmaLayout.h — and its scales and zeros, all completing on
//    the stage's `full` mbarrier); warpgroups 1 and 2 are consumers, one
//    64-row slab each. A consumer thread reads its codes for the whole
//    64-deep stage with one 16-byte shared load (two at 8-bit) and turns
//    them into each step's A fragments (q + magic by one lop3 / prmt per
//    pair, then (q - z) · s or q · s + o in packed 16-bit arithmetic, one
//    rounding: the Dequant path's numerics; 8-bit bf16, whose 128 + q is not
//    exact in bf16, goes through f32) while the previous step's
//    wgmma.m64nBNk16 runs; the stage's four wgmma run on while the next
//    stage is dequantized, and a stage is released (`empty` mbarrier, one
//    arrival per warp) once its wgmma are done (kGroupsInFlight).
//  * Persistent: a grid of at most one block per SM walks its workers'
//    shares of the iterations (tile = 128-row block x BN-row block of x,
//    times 64-deep K blocks) with the pipeline's stage and phase carried
//    across them: one whole tile per worker where the waves of tiles come
//    out nearly full, else stream-K (one equal share per SM). A share's
//    piece of a tile that is not the whole tile adds into an f32
//    accumulator (transposed, [N][M]: two x rows are one vector add); the
//    last of the tile's workers to arrive (per-warpgroup counter) writes y
//    with the bias and leaves the accumulator zeroed.
//
// setmaxnreg gives the producer 40 registers and each consumer 232 (BN =
// 256 keeps 128 f32 accumulators per thread). kernels/cuda/NOTES.md ("Wave
// 2a") has the predictions this is to be measured against.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Dispatch.cuh"
#include "kernels/cuda/Fragments.cuh"
#include "kernels/cuda/Internal.h"
#include "kernels/cuda/WgmmaLayout.h"
#include "kernels/cuda/WgmmaOps.cuh"
#include "kernels/repack/WgmmaRepack.h"

#include <cuda.h> // CUtensorMap and its enums (types only: no libcuda link)
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace hfq::cuda {

namespace {

namespace wl = ::hfq::kernels::wgmma;
using namespace frag;

// A block: the producer warpgroup and two consumer warpgroups.
constexpr int kThreads = 3 * wl::kThreads;
// An sm_90 block's dynamic shared-memory limit.
constexpr int kMaxSmem = 227 << 10;

struct WgmmaParams {
  const uint8_t *q;
  const uint16_t *scales;
  const uint16_t *zeros;
  const void *bias;
  void *y;
  float *partials; // [np][mPad] f32, transposed (tiles shared by workers)
  int *counters;   // per (slab, tile) arrival counters (the same)
  int m, n, np;    // np: the wgmma layout's (a multiple of 128)
  int mPad;        // M rounded up to BN: the accumulator's row length
  int nblocks, mblocks, kblocks, groupSize;
  int iters;   // tiles x kblocks (< 2^30): the work, tile-major (Walk)
  int workers; // contiguous near-equal shares of the iterations (Walk)
};

/// Shared memory of one pipeline stage, 1024-byte aligned (the swizzle's
/// period): the activation tile, the block's codes, two groups' scales and
/// zeros (groups of 32 change inside a 64-deep stage). As many stages as
/// fit, up to 16: at small BN the kernel streams the weight, and the bytes
/// in flight per SM (16 x 4 KB of 4-bit codes) are what keeps HBM busy.
template <int BITS, int BN> struct Stage {
  static constexpr int kX = BN * wl::kStageK * 2;
  static constexpr int kCodes = kX;
  static constexpr int kScales = kCodes + wl::Codes<BITS>::kBlockBytes;
  static constexpr int kZeros = kScales + 2 * wl::kGroupBlockBytes;
  static constexpr int kBytes =
      (kZeros + 2 * wl::kGroupBlockBytes + 1023) / 1024 * 1024;
  static constexpr int kCount = std::min(16, (kMaxSmem - 2048) / kBytes);
  // The stages, their full and empty barriers, and the alignment slack.
  static constexpr int kSmem = kCount * kBytes + 2 * kCount * 8 + 1024;
};

#if HFQ_WGMMA_ARCH
using namespace wgmma_ops;
using sm90::fenceOperand;
using sm90::wgmmaCommit;
using sm90::wgmmaFence;
using sm90::wgmmaWait;

// wgmma groups a consumer leaves running past the end of a stage: 1 (the
// stage's wgmma overlap the next stage's dequantize; the stage is released
// one stage late) or 0 (each stage waits for its own; NOTES.md, wave 2a).
constexpr int kGroupsInFlight = 1;

/// The work is iterations (tile, 64-deep K block), tile-major, tile =
/// nb x mblocks + mb (128-row block nb, BN-row block mb of x: M-blocks
/// vary fastest, so concurrent tiles share the weight block in L2). Worker
/// w takes share w of `workers` contiguous, near-equal shares: workers =
/// tiles is one whole tile each; workers = tiles x s splits K s ways;
/// workers = SMs is stream-K, every block the same number of iterations.
/// A worker's share, cut at tile boundaries, is its segments; a segment
/// that is not a whole tile adds into the f32 accumulator, and the last of
/// a tile's workers to arrive writes y.
/// (32-bit: the host keeps iters under 2^30, so r (q + 1) <= 2 iters fits.)
__device__ __forceinline__ int shareBegin(const WgmmaParams &p, int w) {
  const int q = p.iters / p.workers, r = p.iters % p.workers;
  return w * q + min(w, r);
}
/// The worker whose share holds iteration x.
__device__ __forceinline__ int workerOf(const WgmmaParams &p, int x) {
  const int q = p.iters / p.workers, r = p.iters % p.workers;
  return x < r * (q + 1) ? x / (q + 1) : r + (x - r * (q + 1)) / q;
}

struct Segment {
  int nb, mb, kb0, kb1, tile;
  bool whole;
};

/// This block's segments, in order: workers blockIdx.x, + gridDim.x, ...
/// (the producer and the consumers walk the same sequence).
struct Walk {
  int worker, it, end;
  Segment seg;

  __device__ explicit Walk(const WgmmaParams &p)
      : worker(blockIdx.x), it(shareBegin(p, blockIdx.x)),
        end(shareBegin(p, blockIdx.x + 1)) {}

  __device__ bool next(const WgmmaParams &p) {
    while (it >= end) {
      worker += gridDim.x;
      if (worker >= p.workers)
        return false;
      it = shareBegin(p, worker);
      end = shareBegin(p, worker + 1);
    }
    seg.tile = it / p.kblocks;
    seg.kb0 = it - seg.tile * p.kblocks;
    seg.kb1 = min(p.kblocks, seg.kb0 + (end - it));
    seg.mb = seg.tile % p.mblocks;
    seg.nb = seg.tile / p.mblocks;
    seg.whole = seg.kb0 == 0 && seg.kb1 == p.kblocks;
    it += seg.kb1 - seg.kb0;
    return true;
  }
};

/// A 16-bit pair of `bits16` in both halves.
__device__ __forceinline__ uint32_t splat(uint32_t bits16) {
  return bits16 | bits16 << 16;
}

template <typename T> __device__ __forceinline__ uint32_t bitsOf(float v) {
  if constexpr (std::is_same_v<T, __half>)
    return __half_as_ushort(__float2half_rn(v));
  else
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

/// Packed 16-bit arithmetic (one rounding each).
template <typename T>
__device__ __forceinline__ uint32_t sub2(uint32_t a, uint32_t b) {
  uint32_t d;
  if constexpr (std::is_same_v<T, __half>)
    asm("sub.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
  else
    asm("sub.rn.bf16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
  return d;
}
template <typename T>
__device__ __forceinline__ uint32_t mul2(uint32_t a, uint32_t b) {
  uint32_t d;
  if constexpr (std::is_same_v<T, __half>)
    asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
  else
    asm("mul.rn.bf16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
  return d;
}
template <typename T>
__device__ __forceinline__ uint32_t fma2(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t d;
  if constexpr (std::is_same_v<T, __half>)
    asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  else
    asm("fma.rn.bf16x2 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

/// 8-bit codes with bf16 activations go through f32 (128 + q is not exact
/// in bf16's eight significant bits).
template <typename T, int BITS>
constexpr bool kViaF32 = BITS == 8 && !std::is_same_v<T, __half>;

/// One group's constants for a thread's two rows (h = 0: row r, h = 1: row
/// r + 8), from the 32-bit words of its scale and zero slots.
///   packed: s pair, the pair subtracted from q + magic (z + magic, or magic
///           for float offsets), the offset pair o;
///   f32:    s and b of w = q s + b (b = -z s, exact in f32, or o).
template <typename T, int BITS, int ZK> struct GroupRegs {
  uint32_t s[2], z[2], o[2];
  float sf[2], bf[2];

  __device__ __forceinline__ void load(uint32_t sc, uint32_t zc) {
    const float magic = magicOf<T, BITS>();
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const uint32_t s16 = h ? sc >> 16 : sc & 0xFFFFu;
      const uint32_t z16 = h ? zc >> 16 : zc & 0xFFFFu;
      const float zf = ZK == kSym ? static_cast<float>(1 << (BITS - 1))
                                  : half16ToFloat<T>(z16);
      if constexpr (kViaF32<T, BITS>) {
        sf[h] = half16ToFloat<T>(s16);
        bf[h] = ZK == kOff ? zf : -zf * sf[h];
      } else {
        s[h] = splat(s16);
        z[h] = splat(bitsOf<T>(
            ZK == kOff ? magic : zf + magic)); // exact: small integers
        if constexpr (ZK == kOff)
          o[h] = splat(z16);
      }
    }
  }
};

/// The A fragments of step i (a[p], p = rh + 2 kh: WgmmaLayout.h) from a
/// thread's codes of the stage.
template <typename T, int BITS, int ZK>
__device__ __forceinline__ void
dequantStep(const uint4 (&codes)[wl::Codes<BITS>::kVecsPerThread], int i,
            const GroupRegs<T, BITS, ZK> &g, uint32_t (&a)[4]) {
  using C = wl::Codes<BITS>;
#pragma unroll
  for (int p = 0; p < 4; ++p) {
    const int h = p & 1;
    const uint32_t word = wordOf(codes[C::vecOfStep(i)], C::wordOf(i, p));
    if constexpr (kViaF32<T, BITS>) {
      // 0x4B0000qq is the f32 2^23 + q: one prmt and one subtraction, exact.
      const int b0 = C::bitOf(p, 0) / 8, b1 = C::bitOf(p, 1) / 8;
      const float q0 =
          __uint_as_float(__byte_perm(word, 0x4B000000u, 0x7440 | b0)) -
          8388608.0f;
      const float q1 =
          __uint_as_float(__byte_perm(word, 0x4B000000u, 0x7440 | b1)) -
          8388608.0f;
      const float w0 = fmaf(q0, g.sf[h], g.bf[h]),
                  w1 = fmaf(q1, g.sf[h], g.bf[h]);
      asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(a[p]) : "f"(w1), "f"(w0));
    } else {
      uint32_t raw;
      if constexpr (BITS == 4)
        raw = andOr(word >> C::bitOf(p, 0), 0x000F000Fu, kMagic4Pair<T>);
      else // fp16: each byte under a 0x64 byte is 1024 + q
        raw = __byte_perm(word, 0x64646464u, p % 2 ? 0x4342 : 0x4140);
      const uint32_t q = sub2<T>(raw, g.z[h]); // q - z (or q): exact
      a[p] = ZK == kOff ? fma2<T>(q, g.s[h], g.o[h]) : mul2<T>(q, g.s[h]);
    }
  }
}

/// The producer: one thread walks the same segments as the consumers and fills
/// each stage once both consumer warpgroups released it.
template <int BITS, int ZK, int BN>
__device__ __forceinline__ void produce(const CUtensorMap *xMap,
                                        const WgmmaParams &p, uint8_t *smem,
                                        uint64_t *full, uint64_t *empty) {
  using S = Stage<BITS, BN>;
  using C = wl::Codes<BITS>;
  const int groups = p.groupSize == 32 ? 2 : 1;
  const uint32_t bytes = S::kX + C::kBlockBytes +
                         groups * wl::kGroupBlockBytes * (ZK != kSym ? 2 : 1);
  int stage = 0;
  uint32_t phase = 0;
  for (Walk walk(p); walk.next(p);) {
    const Segment &w = walk.seg;
    for (int kb = w.kb0; kb < w.kb1; ++kb) {
      mbarWait(empty + stage, phase ^ 1);
      uint8_t *st = smem + stage * S::kBytes;
      mbarArriveExpectTx(full + stage, bytes);
      tmaLoad2d(st, xMap, kb * wl::kStageK, w.mb * BN, full + stage);
      bulkLoad(st + S::kCodes,
               p.q + C::template block<size_t>(w.nb, kb, p.kblocks),
               C::kBlockBytes, full + stage);
      const int g =
          kb * wl::kStageK / p.groupSize; // groups of 32: 2 kb and 2 kb + 1
      for (int gi = 0; gi < groups; ++gi) {
        const size_t at = wl::groupBlock<size_t>(g + gi, w.nb, p.nblocks);
        bulkLoad(st + S::kScales + gi * wl::kGroupBlockBytes, p.scales + at,
                 wl::kGroupBlockBytes, full + stage);
        if constexpr (ZK != kSym)
          bulkLoad(st + S::kZeros + gi * wl::kGroupBlockBytes, p.zeros + at,
                   wl::kGroupBlockBytes, full + stage);
      }
      if (++stage == S::kCount) {
        stage = 0;
        phase ^= 1;
      }
    }
  }
}

/// A consumer warpgroup: slab `slab` of every unit.
template <typename T, int BITS, int ZK, int BN>
__device__ __forceinline__ void consume(const WgmmaParams &p, uint8_t *smem,
                                        uint64_t *full, uint64_t *empty,
                                        int slab, int *lastFlag) {
  using S = Stage<BITS, BN>;
  using C = wl::Codes<BITS>;
  constexpr int ND = BN / 2; // accumulators per thread
  const int tid = threadIdx.x % wl::kThreads, warp = tid / 32, lane = tid % 32;
  const int r = lane / 4, t = lane % 4;
  const int slot =
      8 * (4 * slab + warp) + r; // 32-bit word of this thread's two rows
  const bool twoGroups = p.groupSize == 32;
  int stage = 0;
  uint32_t phase = 0;
  // Every lane of the warp is past the wait for the stage's wgmma: release it.
  auto release = [&](int done) {
    __syncwarp();
    if (lane == 0)
      mbarArrive(empty + done);
  };
  for (Walk walk(p); walk.next(p);) {
    const Segment &w = walk.seg;
    float acc[ND];
#pragma unroll
    for (int i = 0; i < ND; ++i)
      acc[i] = 0.0f;
    int previous = -1; // the stage whose wgmma may still run
    for (int kb = w.kb0; kb < w.kb1; ++kb) {
      mbarWait(full + stage, phase);
      const uint8_t *st = smem + stage * S::kBytes;
      uint4 codes[C::kVecsPerThread];
#pragma unroll
      for (int h = 0; h < C::kVecsPerThread; ++h)
        codes[h] = reinterpret_cast<const uint4 *>(
            st + S::kCodes)[C::vec(slab, h, tid)];
      const uint32_t *sc = reinterpret_cast<const uint32_t *>(st + S::kScales);
      const uint32_t *zc = reinterpret_cast<const uint32_t *>(st + S::kZeros);
      constexpr int kNextGroup = wl::kGroupBlockBytes / 4;
      GroupRegs<T, BITS, ZK> g0, g1;
      g0.load(sc[slot], ZK != kSym ? zc[slot] : 0u);
      g1 = g0;
      if (twoGroups)
        g1.load(sc[kNextGroup + slot], ZK != kSym ? zc[kNextGroup + slot] : 0u);
      // Step i's fragments are made while step i - 1's wgmma runs (each
      // step its own registers); a fence orders them before their wgmma.
      uint32_t a[wl::kStepsPerStage][4];
      const uint64_t desc = sm90::descriptor128(sm90::sharedAddress(st));
#pragma unroll
      for (int i = 0; i < ND; ++i)
        fenceOperand(acc[i]);
#pragma unroll
      for (int i = 0; i < wl::kStepsPerStage; ++i) {
        dequantStep<T, BITS, ZK>(codes, i, i < 2 ? g0 : g1, a[i]);
#pragma unroll
        for (int j = 0; j < 4; ++j)
          asm volatile("" : "+r"(a[i][j])::"memory");
        wgmmaFence();
        MmaRS<T, BN>::run(acc, a[i],
                          desc + 2 * i); // step i: 32 bytes further along K
      }
      wgmmaCommit();
      // This stage's wgmma run on while the next is dequantized; the
      // previous stage's are done, and its shared memory goes back.
      wgmmaWait<kGroupsInFlight>();
      if constexpr (kGroupsInFlight == 0) {
        release(stage);
      } else {
        if (previous >= 0)
          release(previous);
        previous = stage;
      }
      if (++stage == S::kCount) {
        stage = 0;
        phase ^= 1;
      }
    }
    wgmmaWait<0>();
#pragma unroll
    for (int i = 0; i < ND; ++i)
      fenceOperand(acc[i]);
    if (previous >= 0)
      release(previous);

    // Epilogue: acc[4 j + c] is weight row nRow + 8 (c / 2), x row
    // mRow + 8 j + c % 2.
    const int nRow = w.nb * wl::kBlockN + slab * wl::kSlabRows + 16 * warp + r;
    const int mRow = w.mb * BN + 2 * t;
    T *y = static_cast<T *>(p.y);
    const T *bias = static_cast<const T *>(p.bias);
    if (w.whole) {
#pragma unroll
      for (int i = 0; i < ND; ++i) {
        const int n = nRow + 8 * ((i / 2) % 2), m = mRow + 8 * (i / 4) + i % 2;
        if (m < p.m && n < p.n)
          storeY(y, p.n, bias, m, n, acc[i]);
      }
      continue;
    }
    // Transposed, x rows m and m + 1 are neighbours: one vector add each.
    // (Row m + 1 >= M adds the zero its activations made.)
#pragma unroll
    for (int i = 0; i < ND; i += 2) {
      const int n = nRow + 8 * ((i / 2) % 2), m = mRow + 8 * (i / 4);
      if (m < p.m)
        asm volatile("red.global.add.v2.f32 [%0], {%1, %2};" ::"l"(
                         p.partials + static_cast<size_t>(n) * p.mPad + m),
                     "f"(acc[i]), "f"(acc[i + 1])
                     : "memory");
    }
    // The last of the tile's workers to arrive (per slab) reads their sum
    // at the places this thread added to, and writes y.
    const int counter = (w.nb * wl::kSlabs + slab) * p.mblocks + w.mb;
    const int workers = workerOf(p, (w.tile + 1) * p.kblocks - 1) -
                        workerOf(p, w.tile * p.kblocks) + 1;
    __threadfence();
    namedBarrier(1 + slab, wl::kThreads);
    if (tid == 0)
      lastFlag[slab] = atomicAdd(p.counters + counter, 1) == workers - 1;
    namedBarrier(1 + slab, wl::kThreads);
    if (!lastFlag[slab])
      continue;
    __threadfence();
#pragma unroll
    for (int i = 0; i < ND; ++i) {
      const int n = nRow + 8 * ((i / 2) % 2), m = mRow + 8 * (i / 4) + i % 2;
      if (m < p.m) {
        const float v = takePartial(p.partials, p.mPad, n, m);
        if (n < p.n)
          storeY(y, p.n, bias, m, n, v);
      }
    }
    if (tid == 0)
      p.counters[counter] = 0;
  }
}
#endif // HFQ_WGMMA_ARCH

/// Template: activation type, code width, zero kind, BN rows of x per unit
/// (wgmma's N: 16, 32, 64, 128 or 256). 384 threads: warpgroup 0 produces,
/// 1 and 2 consume.
template <typename T, int BITS, int ZK, int BN>
__global__ void __launch_bounds__(kThreads, 1)
    wgmmaKernel(const __grid_constant__ CUtensorMap xMap, const WgmmaParams p) {
#if HFQ_WGMMA_ARCH
  using S = Stage<BITS, BN>;
  extern __shared__ uint8_t wgmmaSmemRaw[];
  // Aligned by an offset from the array itself (not through an integer), so
  // the compiler keeps shared-memory loads for what is read through it.
  uint8_t *smem = wgmmaSmemRaw + (-sm90::sharedAddress(wgmmaSmemRaw) & 1023u);
  uint64_t *full = reinterpret_cast<uint64_t *>(smem + S::kCount * S::kBytes);
  uint64_t *empty = full + S::kCount;
  __shared__ int lastFlag[wl::kSlabs];
  if (threadIdx.x == 0) {
    for (int s = 0; s < S::kCount; ++s) {
      mbarInit(full + s, 1); // the producer's arrival
      mbarInit(empty + s,
               wl::kSlabs * wl::kThreads / 32); // one per consumer warp
    }
    fenceBarrierInit();
    prefetchTensorMap(&xMap);
  }
  __syncthreads();
  if (threadIdx.x < wl::kThreads) {
    lowerRegisters<40>();
    if (threadIdx.x == 0)
      produce<BITS, ZK, BN>(&xMap, p, smem, full, empty);
    return;
  }
  raiseRegisters<232>();
  consume<T, BITS, ZK, BN>(p, smem, full, empty, threadIdx.x / wl::kThreads - 1,
                           lastFlag);
#else
  (void)xMap;
  (void)p;
#endif
}

using WgmmaFn = void (*)(CUtensorMap, WgmmaParams);

/// cuTensorMapEncodeTiled from the driver the runtime already loaded.
PFN_cuTensorMapEncodeTiled_v12000 encodeTiled() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void *entry = nullptr;
    cudaDriverEntryPointQueryResult found;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &entry,
                                         12000, cudaEnableDefault,
                                         &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      (void)cudaGetLastError();
      return static_cast<PFN_cuTensorMapEncodeTiled_v12000>(nullptr);
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(entry);
  }();
  return fn;
}

/// Whether the current device runs sm_90a code (compute capability 9.0).
bool isSm90(std::string &error) {
  int device = 0, major = 0, minor = 0;
  HFQ_CUDA_TRY(cudaGetDevice(&device));
  HFQ_CUDA_TRY(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor,
                                      device));
  HFQ_CUDA_TRY(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor,
                                      device));
  if (major != 9 || minor != 0) {
    error = "the wgmma path needs an sm_90 GPU (Hopper), this one is sm_" +
            std::to_string(major) + std::to_string(minor);
    return false;
  }
  return true;
}

} // namespace

bool DeviceWeight::uploadWgmma(const KernelWeight &kw, std::string &error) {
  kernels::WgmmaWeight ww;
  return kernels::packForWgmma(kw, ww, error) && uploadWgmma(ww, error);
}

bool DeviceWeight::uploadWgmma(const kernels::WgmmaWeight &ww,
                               std::string &error) {
  if (ww.np != (n + wl::kBlockN - 1) / wl::kBlockN * wl::kBlockN ||
      ww.kp != kp || ww.bits != bits || ww.groupSize != groupSize ||
      ww.zeros.empty() != (zeros == nullptr)) {
    error = "uploadWgmma: the weight differs from the one uploaded";
    return false;
  }
  releaseWgmma();
  auto put = [&](void *&dst, const void *src, size_t bytes) {
    if (!bytes)
      return true;
    HFQ_CUDA_TRY(cudaMalloc(&dst, bytes));
    HFQ_CUDA_TRY(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
    return true;
  };
  return put(wgmmaQ, ww.q.data(), ww.q.size()) &&
         put(wgmmaScales, ww.scales.data(), ww.scales.size() * 2) &&
         put(wgmmaZeros, ww.zeros.data(), ww.zeros.size() * 2);
}

bool detail::wgmmaLinear(const DeviceWeight &w, const void *x, const void *bias,
                         void *y, int64_t m, Workspace &ws, cudaStream_t stream,
                         const LaunchConfig &config, std::string &error) {
  if (!w.wgmmaQ) {
    error = "the wgmma path needs the weight's wgmma layout on the device "
            "(DeviceWeight::uploadWgmma)";
    return false;
  }
  if (!isSm90(error))
    return false;
  PFN_cuTensorMapEncodeTiled_v12000 encode = encodeTiled();
  if (!encode) {
    error = "cuTensorMapEncodeTiled is not available from the driver";
    return false;
  }
  // More work than 32-bit iteration counts hold (tiles x 64-deep K blocks,
  // M past ~10^6 rows): M in two halves, each a launch of its own.
  const int64_t nblocks = (w.n + wl::kBlockN - 1) / wl::kBlockN;
  if (((m + 255) / 256) * nblocks * (w.kp / wl::kStageK) >=
      (int64_t{1} << 30)) {
    const int64_t half = (m / 2 + 255) / 256 * 256;
    const void *x2 = static_cast<const char *>(x) + half * w.k * 2;
    void *y2 = static_cast<char *>(y) + half * w.n * 2;
    return wgmmaLinear(w, x, bias, y, half, ws, stream, config, error) &&
           wgmmaLinear(w, x2, bias, y2, m - half, ws, stream, config, error);
  }
  // x as the copy engine reads it: 16-byte aligned rows of K (K % 8 == 0,
  // packForKernel's precondition). Act order, or an unaligned x: a
  // permuted / aligned copy of width Kp.
  int64_t width = w.k;
  if (w.perm || reinterpret_cast<uintptr_t>(x) % 16 != 0) {
    if (!growBuffer(ws.xperm, ws.xpermBytes, static_cast<size_t>(m) * w.kp * 2,
                    error))
      return false;
    if (!gatherActivations(w, x, m, w.kp, ws.xperm, stream, error))
      return false;
    x = ws.xperm;
    width = w.kp;
  }
  const int bn = m <= 16    ? 16
                 : m <= 32  ? 32
                 : m <= 64  ? 64
                 : m <= 128 ? 128
                            : 256;
  CUtensorMap map;
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(width),
                              static_cast<cuuint64_t>(m)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(width) * 2};
  const cuuint32_t box[2] = {wl::kStageK, static_cast<cuuint32_t>(bn)};
  const cuuint32_t elementStrides[2] = {1, 1};
  CUresult encoded = encode(
      &map,
      w.act == ActType::BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                             : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
      2, const_cast<void *>(x), dims, strides, box, elementStrides,
      CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (encoded != CUDA_SUCCESS) {
    error = "cuTensorMapEncodeTiled failed (" +
            std::to_string(static_cast<int>(encoded)) + ")";
    return false;
  }

  WgmmaParams p{};
  p.q = static_cast<const uint8_t *>(w.wgmmaQ);
  p.scales = static_cast<const uint16_t *>(w.wgmmaScales);
  p.zeros = static_cast<const uint16_t *>(w.wgmmaZeros);
  p.bias = bias;
  p.y = y;
  p.m = static_cast<int>(m);
  p.n = static_cast<int>(w.n);
  p.np = static_cast<int>((w.n + wl::kBlockN - 1) / wl::kBlockN * wl::kBlockN);
  p.nblocks = static_cast<int>(nblocks);
  p.mblocks = static_cast<int>((m + bn - 1) / bn);
  p.mPad = p.mblocks * bn;
  p.kblocks = static_cast<int>(w.kp / wl::kStageK);
  p.groupSize = static_cast<int>(w.groupSize);
  // Whole tiles per worker where their waves come out at least 85% full
  // (an estimate, to be replaced by the measured crossover); else stream-K,
  // one worker per SM. config.splitK > 0 forces K split that many ways.
  const int64_t tiles = static_cast<int64_t>(p.nblocks) * p.mblocks;
  const int64_t sms = smCount(), waves = (tiles + sms - 1) / sms;
  const int64_t iters = tiles * p.kblocks;
  const int64_t workers = config.splitK > 0
                              ? tiles * std::min(config.splitK, p.kblocks)
                          : tiles * 100 >= waves * sms * 85 ? tiles
                                                            : sms;
  p.iters = static_cast<int>(iters);
  p.workers = static_cast<int>(std::clamp<int64_t>(workers, 1, iters));
  if (p.workers != tiles) {
    if (!splitScratch(ws, static_cast<size_t>(p.mPad) * p.np * sizeof(float),
                      static_cast<size_t>(p.nblocks) * wl::kSlabs * p.mblocks,
                      stream, error))
      return false;
    p.partials = static_cast<float *>(ws.partials);
    p.counters = ws.counters;
  }

  return dispatch::onWeight(w, [&](auto type, auto bitsArg, auto zk) {
    using T = typename decltype(type)::type;
    constexpr int BITS = decltype(bitsArg)::value;
    constexpr int ZK = decltype(zk)::value;
    return dispatch::onValue<16, 32, 64, 128, 256>(bn, [&](auto rows) {
      constexpr int BN = decltype(rows)::value;
      WgmmaFn fn = wgmmaKernel<T, BITS, ZK, BN>;
      const size_t smem = Stage<BITS, BN>::kSmem;
      if (!allowSharedMemory(reinterpret_cast<const void *>(fn), smem, error))
        return false;
      const int grid = std::min(p.workers, smCount());
      fn<<<grid, kThreads, smem, stream>>>(map, p);
      HFQ_LAUNCH_CHECK("the wgmma kernel");
      return true;
    });
  });
}

} // namespace hfq::cuda
