//===- TileLayout.h - the CUDA kernels' tile layout, host and device -*- C++ -*-===//
//
// The one definition of where the weight-only kernels' operands sit in
// memory. The host repack writes it (kernels/repack/KernelLayout.cpp, plain
// C++ compiled by any compiler) and the kernels read it (Gemm.cu, Decode.cu,
// Dequant.cu, Fragments.cuh), both through the constants and constexpr
// functions below (__host__ __device__ under nvcc). Index functions compute
// in the integer type the caller names (I), so device code keeps its 32-bit
// or size_t arithmetic and host code its int64_t.
//
// Tiles. K is padded to Kp = roundup(K, 128) and N to Np = roundup(N, 64).
// A warp owns one 64-column N-tile (nt) and walks 16-deep K-steps (ks); at
// each step every lane (t = lane % 4, r = lane / 4) needs, for each of the
// eight 8-column blocks j of its tile, the four weights of column
// n = 64 nt + 8 j + r at K positions 16 ks + 4 t + {0, 1, 2, 3}: they are the
// B fragment of one mma.m16n8k16 (whose k order inside a step is free, as
// long as the activations use the same one; the kernels load the matching
// four activations with one 8-byte load). The decode loop (Decode.cu) reads
// the same 16 bytes as the A fragments of four mma (blocks 2b and 2b + 1 as
// rows r and r + 8).
//
// Codes are stored P-block major, [pb][nt][step][h][lane] uint4 (pb = ks / 8,
// step = ks % 8, h < vecsPerLane): the warps that stream P-block pb of
// different tiles at the same time read one contiguous region rather than
// streams a power of two apart (which concentrate on few HBM channels).
//   4-bit: one uint4 per lane and step (512 B per warp step). Word w holds
//          blocks 2w and 2w+1; nibble i of the word is
//            i = 0, 4, 1, 5 -> block 2w,   k offsets 0, 1, 2, 3
//            i = 2, 6, 3, 7 -> block 2w+1, k offsets 0, 1, 2, 3
//          so (word >> 4p) & 0x000F000F is a ready 16-bit pair p.
//   8-bit: two uint4 per lane and step; word w of half h is block 4h + w,
//          its bytes hold k offsets 0, 2, 1, 3 (so each pair of the fragment
//          is one lop3 or byte_perm away).
// In both, K offsets (0, 1) and (2, 3) of a block sit 16 bits apart in one
// word: a pair is one shift and one mask from two 16-bit operand halves.
//
// Scales and zeros: 16-bit (the activation type) [G][nt][t][j][e]: the
// sixteen columns 8 j + 2 t + e a lane accumulates (the C fragment of the
// mma), one 32-byte read per group (two uint4). G = Kp / groupSize
// (groupSize = Kp for one group per column); padded groups and columns hold
// zeros. Read with r for t (Decode.cu's transposed product): column 8 j + r
// is half r % 2 of word j of the pair r / 2.
//
// The kernels multiply the codes themselves: a code enters the tensor cores
// as the 16-bit value q + magic (exact: 1024 + q in fp16, 128 + q in bf16 for
// 4-bit; 8-bit bf16 as two exact operands summing to 384 + q), and the scale
// and zero are applied per group in f32:
//   sum_k x (q - z) s = s * sum_k x (q + magic) - s (z + magic) * sum_k x.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_TILELAYOUT_H
#define HFQ_KERNELS_CUDA_TILELAYOUT_H

#ifdef __CUDACC__
#define HFQ_TILE_FN __host__ __device__ __forceinline__ constexpr
#else
#define HFQ_TILE_FN constexpr
#endif

namespace hfq::kernels::tile {

constexpr int kTileN = 64;                       // columns of one N-tile (a warp's)
constexpr int kBlocksPerTile = kTileN / 8;       // 8-column blocks j (one mma n8 each)
constexpr int kStepK = 16;                       // K of one step (one mma k16)
constexpr int kStepsPerBlock = 8;                // steps of one P-block
constexpr int kBlockK = kStepK * kStepsPerBlock; // 128: K of a P-block; Kp's multiple
constexpr int kLanes = 32;

/// The lane that holds column 8 j + r and K positions 4 t .. 4 t + 3 of a
/// step (the mma fragment convention: t = lane % 4, r = lane / 4).
HFQ_TILE_FN int laneOf(int r, int t) { return r * 4 + t; }

/// The bias a code carries as a 16-bit mma operand (q + magic is exact).
HFQ_TILE_FN int magic(bool f16, int bits) { return f16 ? 1024 : bits == 4 ? 128 : 384; }

/// The code layout of BITS-bit codes (4, or 8 for every other width).
template <int BITS> struct Codes {
  static_assert(BITS == 4 || BITS == 8, "the kernels take 4- and 8-bit codes");
  static constexpr int kVecsPerLane = BITS == 4 ? 1 : 2; // uint4 per lane and step
  static constexpr int kVecsPerStep = kVecsPerLane * kLanes;
  static constexpr int kVecsPerBlock = kStepsPerBlock * kVecsPerStep; // one tile's P-block
  static constexpr unsigned kMask = (1u << BITS) - 1;

  /// uint4 index of tile nt's P-block pb ([pb][nt][...]).
  template <typename I> HFQ_TILE_FN static I block(I pb, I nt, I ntiles) {
    return (pb * ntiles + nt) * kVecsPerBlock;
  }
  /// uint4 offset, inside a P-block, of step `step`'s half h for lane 0.
  HFQ_TILE_FN static int step(int step, int h) { return (step * kVecsPerLane + h) * kLanes; }
  /// The half h and word of a lane's step that hold 8-column block j.
  HFQ_TILE_FN static int vecOf(int j) { return BITS == 4 ? 0 : j / 4; }
  HFQ_TILE_FN static int wordOf(int j) { return BITS == 4 ? j / 2 : j % 4; }
  /// The bit of that word where the code at K offset `off` (0..3) of block
  /// j starts: nibble 2 (j % 2) + 4 (off % 2) + off / 2 (4-bit), byte
  /// 2 (off % 2) + off / 2 (8-bit; K offsets 0, 2, 1, 3).
  HFQ_TILE_FN static int shiftOf(int j, int off) {
    return BITS == 4 ? 4 * (2 * (j % 2) + 4 * (off % 2) + off / 2) : 8 * (2 * (off % 2) + off / 2);
  }
};

/// The pairs: offsets (0, 1) and (2, 3) 16 bits apart in one word, for
/// every block.
template <int BITS> constexpr bool pairsAre16BitsApart() {
  for (int j = 0; j < kBlocksPerTile; ++j)
    for (int p = 0; p < 2; ++p)
      if (Codes<BITS>::shiftOf(j, 2 * p + 1) != Codes<BITS>::shiftOf(j, 2 * p) + 16)
        return false;
  return true;
}
static_assert(pairsAre16BitsApart<4>() && pairsAre16BitsApart<8>());

/// The scale and zero layout, [G][nt][t][j][e] 16-bit values.
struct Groups {
  static constexpr int kVecsPerTile = kTileN * 2 / 16; // uint4 per (group, tile): 8
  static constexpr int kVecsPerT = kVecsPerTile / 4;   // uint4 of one t: 2

  /// Index (in 16-bit values) of column 8 j + 2 t + e of tile nt, group g.
  template <typename I> HFQ_TILE_FN static I entry(I g, I nt, I ntiles, int t, int j, int e) {
    return ((g * ntiles + nt) * 4 + t) * 16 + j * 2 + e;
  }
};

} // namespace hfq::kernels::tile

#undef HFQ_TILE_FN

#endif // HFQ_KERNELS_CUDA_TILELAYOUT_H
