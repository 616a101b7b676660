//===- WgmmaLayout.h - the wgmma path's weight layout, host and device -*- C++
//-*-===//
//
// The one definition of where the Hopper (wgmma) path's operands sit in
// memory: kernels/repack/WgmmaRepack.cpp writes it (plain C++), Wgmma.cu
// reads it, both through the constants and constexpr functions below.
//
// The product is computed transposed, Yᵀ = W · Xᵀ: 64 weight rows (output
// columns) are wgmma's M, the activations' rows its N (8 … 256), K its K.
// The weight is the A operand *from registers*: each thread of a consumer
// warpgroup dequantizes exactly the fragment wgmma.m64nNk16 wants, so the
// codes are stored in that fragment order and a thread's codes for a whole
// 64-deep pipeline stage are one 16-byte shared-memory load (two for 8-bit).
//
// Blocks. N is padded to Np = roundup(N, 128) (two 64-row slabs, one per
// consumer warpgroup) and K to Kp = roundup(K, 128) (the tile layout's, so
// groups and act order carry over unchanged). A block (nb, kb) is 128 rows
// x 64 K; its codes are contiguous (4 KB at 4-bit, 8 KB at 8-bit: one bulk
// copy per pipeline stage), blocks stored [nb][kb].
//
// Inside a block: [slab][h][thread] uint4 (h < kVecsPerThread). Thread
// (warp w, lane: r = lane / 4, t = lane % 4) of slab s holds rows
// 64 s + 16 w + r + 8 rh (rh = 0, 1) at K positions 16 i + 8 kh + 2 t + e
// (step i < 4, kh = 0, 1, e = 0, 1): register p = rh + 2 kh of step i is
// wgmma's A register p (a0: row r, k 2t..; a1: row r + 8; a2: row r,
// k 2t + 8..; a3: row r + 8, k 2t + 8..), element e its 16-bit half.
//   4-bit: step i is word i of the thread's uint4; register p, element e
//          is nibble p + 4 e, so (word >> 4 p) & 0x000F000F is the pair.
//   8-bit: step i is word 2 (i % 2) + p / 2 of uint4 i / 2; register p,
//          element e is byte 2 (p % 2) + e.
//
// Scales and zeros (16-bit, the activation type): [G][nb][slot], 128 slots
// per (group, block); row 64 s + 16 w + r + 8 rh is slot
// 2 (8 (4 s + w) + r) + rh, so one 32-bit read gives a thread both of its
// rows. A group block is 256 bytes (one bulk copy). Padded rows hold scale
// 0 (their outputs are never stored); padded groups too.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_WGMMALAYOUT_H
#define HFQ_KERNELS_CUDA_WGMMALAYOUT_H

#ifdef __CUDACC__
#define HFQ_WGMMA_FN __host__ __device__ __forceinline__ constexpr
#else
#define HFQ_WGMMA_FN constexpr
#endif

namespace hfq::kernels::wgmma {

constexpr int kSlabRows = 64; // wgmma M: one consumer warpgroup's rows
constexpr int kSlabs = 2;     // consumer warpgroups per block
constexpr int kBlockN = kSlabRows * kSlabs; // 128: Np's multiple
constexpr int kStepK = 16;                  // wgmma K
constexpr int kStageK = 64; // K of a block: one 128-byte swizzle row of x
constexpr int kStepsPerStage = kStageK / kStepK; // 4
constexpr int kThreads = 128;                    // one warpgroup
constexpr int kGroupBlockBytes =
    kBlockN * 2; // scales (or zeros) of one (group, block)

template <int BITS> struct Codes {
  static_assert(BITS == 4 || BITS == 8,
                "the wgmma path takes 4- and 8-bit codes");
  static constexpr int kVecsPerThread = BITS == 4 ? 1 : 2;
  static constexpr int kBlockBytes = kBlockN * kStageK * BITS / 8;

  /// Byte offset of block (nb, kb) among kblocks = Kp / 64 per row block.
  template <typename I> HFQ_WGMMA_FN static I block(I nb, I kb, I kblocks) {
    return (nb * kblocks + kb) * kBlockBytes;
  }
  /// uint4 index, inside a block, of vector h of `thread` in slab s.
  HFQ_WGMMA_FN static int vec(int slab, int h, int thread) {
    return (slab * kVecsPerThread + h) * kThreads + thread;
  }
  /// The vector, word and bit of step i, register p, element e.
  HFQ_WGMMA_FN static int vecOfStep(int i) { return BITS == 4 ? 0 : i / 2; }
  HFQ_WGMMA_FN static int wordOf(int i, int p) {
    return BITS == 4 ? i : 2 * (i % 2) + p / 2;
  }
  HFQ_WGMMA_FN static int bitOf(int p, int e) {
    return BITS == 4 ? 4 * (p + 4 * e) : 8 * (2 * (p % 2) + e);
  }
};

/// Where row `row` (< 128) and K position `k` (< 64) of a block sit.
struct Fragment {
  int slab, thread, step, p, e;
};
HFQ_WGMMA_FN Fragment fragmentOf(int row, int k) {
  const int rs = row % kSlabRows, w = rs / 16, r = rs % 8, rh = rs % 16 / 8;
  const int kq = k % kStepK, kh = kq / 8, t = kq % 8 / 2;
  return {row / kSlabRows, w * 32 + r * 4 + t, k / kStepK, rh + 2 * kh, kq % 2};
}

/// The 16-bit slot of row `row` (< 128) in a (group, block) of scales or
/// zeros; thread (s, w, r) reads slots 2 (8 (4 s + w) + r) + {0, 1}.
HFQ_WGMMA_FN int groupSlot(int row) {
  const int s = row / kSlabRows, rs = row % kSlabRows;
  return 2 * (8 * (4 * s + rs / 16) + rs % 8) + rs % 16 / 8;
}
/// Index (in 16-bit values) of (group g, block nb) among nblocks.
template <typename I> HFQ_WGMMA_FN I groupBlock(I g, I nb, I nblocks) {
  return (g * nblocks + nb) * kBlockN;
}

} // namespace hfq::kernels::wgmma

#undef HFQ_WGMMA_FN

#endif // HFQ_KERNELS_CUDA_WGMMALAYOUT_H
