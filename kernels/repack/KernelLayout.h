//===- KernelLayout.h - QuantWeight -> the CUDA kernels' tiles --*- C++ -*-===//
//
// The second stage of load-time repacking (QuantWeight.h has the first): a
// canonical QuantWeight becomes the byte layout the CUDA kernels stream.
// Host code only, so CPU-only builds test it.
//
// The layout itself (tiles, P-block-major codes, the [G][nt][t][j][e]
// scales and zeros, the magic bias) is defined once, for this file and the
// kernels alike, in kernels/cuda/TileLayout.h; this header and its .cpp are
// the layout's writer.
//
// Act order: perm[j] is the original K index of kernel position j (K is
// sorted by group, stably); positions past K map to themselves (>= K: the
// kernel reads a zero activation there).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REPACK_KERNELLAYOUT_H
#define HFQ_KERNELS_REPACK_KERNELLAYOUT_H

#include "kernels/cuda/TileLayout.h"
#include "kernels/repack/QuantWeight.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// Activation (and scale) type the layout is made for.
enum class ActType { F16, BF16 };

constexpr int64_t kKernelTileN = tile::kTileN;  // Np's multiple
constexpr int64_t kKernelTileK = tile::kBlockK; // Kp's multiple

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
