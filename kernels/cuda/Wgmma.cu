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
//  * Persistent: a grid of at most one block per SM walks the work units
//    (128-row block, BN-row block of x, K split) with the pipeline's stage
//    and phase carried across units. Where the units would not fill the
//    GPU once (small N x K, small M), K is split and the splits add into an
//    f32 accumulator (transposed, [N][M]: two x rows are one vector add);
//    the last split of a slab (per-warpgroup counter) writes y with the
//    bias and leaves the accumulator zeroed.
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

constexpr int kThreads = 3 * wl::kThreads; // producer + two consumer warpgroups
constexpr int kMaxSmem = 227
                         << 10; // an sm_90 block's dynamic shared-memory limit

struct WgmmaParams {
  const uint8_t *q;
  const uint16_t *scales;
  const uint16_t *zeros;
  const void *bias;
  void *y;
  float *partials; // [np][mPad] f32, transposed (split K only)
  int *counters;   // per (slab, M-block) arrival counters (split K only)
  int m, n, np;    // np: the wgmma layout's (a multiple of 128)
  int mPad;        // M rounded up to BN: the accumulator's row length
  int nblocks, mblocks, kblocks, groupSize;
  int splits, kbPerSplit, units;
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
using sm90::wgmmaCommit;
using sm90::wgmmaFence;
using sm90::wgmmaWait;

// wgmma groups a consumer leaves running past the end of a stage: 1 (the
// stage's wgmma overlap the next stage's dequantize; the stage is released
// one stage late) or 0 (each stage waits for its own; NOTES.md, wave 2a).
constexpr int kGroupsInFlight = 1;

/// One work unit: 128-row block nb, BN-row block mb of x, K blocks
/// [kb0, kb1) (split `split`). M-blocks vary fastest: concurrent units
/// share the weight block in L2.
struct Unit {
  int nb, mb, split, kb0, kb1;
};
__device__ __forceinline__ Unit unitOf(const WgmmaParams &p, int u) {
  Unit w;
  w.mb = u % p.mblocks;
  const int rest = u / p.mblocks;
  w.nb = rest % p.nblocks;
  w.split = rest / p.nblocks;
  w.kb0 = w.split * p.kbPerSplit;
  w.kb1 = min(w.kb0 + p.kbPerSplit, p.kblocks);
  return w;
}

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

/// The producer: one thread walks the same units as the consumers and fills
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
  for (int u = blockIdx.x; u < p.units; u += gridDim.x) {
    const Unit w = unitOf(p, u);
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
  for (int u = blockIdx.x; u < p.units; u += gridDim.x) {
    const Unit w = unitOf(p, u);
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
    if (p.splits == 1) {
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
    // The last split of this slab and M-block reads every split's sum at
    // the places this thread added to, and writes y.
    const int counter = (w.nb * wl::kSlabs + slab) * p.mblocks + w.mb;
    __threadfence();
    namedBarrier(1 + slab, wl::kThreads);
    if (tid == 0)
      lastFlag[slab] = atomicAdd(p.counters + counter, 1) == p.splits - 1;
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

/// K splits: none when the units fill the GPU once; else the split that
/// minimizes waves x (stages per unit x a stage's time + the split's f32
/// adds). Estimates in SM clocks, to be replaced by measured ones: a stage
/// is four wgmma per consumer (4 BN clocks for the pair at full rate) or
/// ~200 clocks of dequantize and latency plus its own wgmma, whichever is
/// more; a split unit adds 128 x BN f32 at ~16 bytes per clock.
int chooseSplits(int tiles, int kblocks, int bn) {
  const int sms = detail::smCount();
  if (tiles >= sms)
    return 1;
  const long stage = std::max(4L * bn, 2L * bn + 200), adds = 32L * bn;
  int best = 1;
  long bestCost = kblocks * stage;
  for (int s = 2; s <= std::min(16, kblocks / 2); ++s) {
    const long waves = (static_cast<long>(tiles) * s + sms - 1) / sms;
    const long cost = waves * ((kblocks + s - 1) / s * stage + adds);
    if (cost < bestCost) {
      bestCost = cost;
      best = s;
    }
  }
  return best;
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
  p.nblocks = p.np / wl::kBlockN;
  p.mblocks = static_cast<int>((m + bn - 1) / bn);
  p.mPad = p.mblocks * bn;
  p.kblocks = static_cast<int>(w.kp / wl::kStageK);
  p.groupSize = static_cast<int>(w.groupSize);
  int splits = config.splitK > 0
                   ? config.splitK
                   : chooseSplits(p.nblocks * p.mblocks, p.kblocks, bn);
  splits = std::clamp(splits, 1, p.kblocks);
  p.kbPerSplit = (p.kblocks + splits - 1) / splits;
  p.splits = (p.kblocks + p.kbPerSplit - 1) / p.kbPerSplit;
  p.units = p.nblocks * p.mblocks * p.splits;
  if (p.splits > 1) {
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
      const int grid = std::min(p.units, smCount());
      fn<<<grid, kThreads, smem, stream>>>(map, p);
      HFQ_LAUNCH_CHECK("the wgmma kernel");
      return true;
    });
  });
}

} // namespace hfq::cuda
