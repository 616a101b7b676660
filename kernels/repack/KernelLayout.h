//===- KernelLayout.h - QuantWeight -> the CUDA kernels' tiles --*- C++ -*-===//
//
// The second stage of load-time repacking (QuantWeight.h has the first): a
// canonical QuantWeight becomes the byte layout kernels/cuda/WeightOnly.cu
// streams. Host code only, so CPU-only builds test it.
//
// Tiles. K is padded to Kp = roundup(K, 128) and N to Np = roundup(N, 64).
// A warp owns one 64-column N-tile (nt) and walks 16-deep K-steps (ks); at
// each step every lane (t = lane % 4, r = lane / 4) needs, for each of the
// eight 8-column blocks j of its tile, the four weights of column
// n = 64 nt + 8 j + r at K positions 16 ks + 4 t + {0, 1, 2, 3}: they are the
// B fragment of one mma.m16n8k16 (whose k order inside a step is free, as
// long as the activations use the same one; the kernel loads the matching
// four activations with one 8-byte load).
//
// Codes are stored P-block major, [pb][nt][step][lane] (pb = ks / 8, step =
// ks % 8): the warps that stream P-block pb of different tiles at the same
// time read one contiguous region rather than streams a power of two apart
// (which concentrate on few HBM channels).
//   4-bit: one uint4 per (pb, nt, step, lane), lanes contiguous (512 B per
//          warp step). Word w holds blocks 2w and 2w+1; nibble i of the word is
//            i = 0, 4, 1, 5 -> block 2w,   k offsets 0, 1, 2, 3
//            i = 2, 6, 3, 7 -> block 2w+1, k offsets 0, 1, 2, 3
//          so (word >> 4p) & 0x000F000F is a ready 16-bit pair p.
//   8-bit: two uint4 per (pb, nt, step, lane) ([..][step][h][lane]); word w of half h
//          is block 4h + w, its bytes hold k offsets 0, 2, 1, 3 (so each
//          pair of the fragment is one lop3 or byte_perm away).
//
// Scales and zeros: 16-bit (the activation type) [G][nt][t][j][e]: the
// sixteen columns 8 j + 2 t + e a lane accumulates (the C fragment of the
// mma), one 32-byte read per group. G = Kp / groupSize (groupSize = Kp for
// one group per column); padded groups and columns hold zeros. `zeros` holds
// the integer zero z (Integer) or the float offset o (Offset); Symmetric has
// none (z = 2^(bits-1)).
//
// The kernels multiply the codes themselves: a code enters the tensor cores
// as the 16-bit value q + magic (exact: 1024 + q in fp16, 128 + q in bf16 for
// 4-bit; 8-bit bf16 as two exact operands summing to 384 + q), and the scale
// and zero are applied per group in f32:
//   sum_k x (q - z) s = s * sum_k x (q + magic) - s (z + magic) * sum_k x.
// kernelMagic gives the bias.
//
// Act order: perm[j] is the original K index of kernel position j (K is
// sorted by group, stably); positions past K map to themselves (>= K: the
// kernel reads a zero activation there).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REPACK_KERNELLAYOUT_H
#define HFQ_KERNELS_REPACK_KERNELLAYOUT_H

#include "kernels/repack/QuantWeight.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// Activation (and scale) type the layout is made for.
enum class ActType { F16, BF16 };

constexpr int64_t kKernelTileN = 64;
constexpr int64_t kKernelTileK = 128;

struct KernelWeight {
  ActType act = ActType::BF16;
  int bits = 4;
  int64_t n = 0, k = 0;   // logical shape
  int64_t np = 0, kp = 0; // padded
  int64_t groupSize = 0;  // in kernel K positions; divides kp
  ZeroKind zeroKind = ZeroKind::Symmetric;
  std::vector<uint8_t> q;       // np * kp * bits / 8 bytes
  std::vector<uint16_t> scales; // G * np
  std::vector<uint16_t> zeros;  // G * np, or empty (Symmetric)
  std::vector<int32_t> perm;    // kp, or empty

  int64_t groups() const { return kp / groupSize; }
};

/// `v` rounded (to nearest even) to the 16-bit type of `act`, as bits; and
/// such bits back to float.
uint16_t toActBits(ActType act, float v);
float fromActBits(ActType act, uint16_t v);

/// The constant a code is biased by in the kernel's 16-bit arithmetic.
int kernelMagic(ActType act, int bits);

/// Packs `w` (which must verify()) for activations of type `act`. Fails with
/// a message for shapes the kernels do not take (group sizes that are not
/// 32, 64 or a multiple of 128; K not a multiple of 8, which the
/// kernels' 8-byte activation loads need).
bool packForKernel(const QuantWeight &w, ActType act, KernelWeight &out,
                   std::string &error);

/// The inverse view, for tests: the code, scale and zero (as stored, decoded
/// to float) the kernel sees at column n, kernel K position j.
int kernelCode(const KernelWeight &kw, int64_t n, int64_t j);
float kernelScale(const KernelWeight &kw, int64_t n, int64_t j);
float kernelZero(const KernelWeight &kw, int64_t n, int64_t j);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REPACK_KERNELLAYOUT_H
