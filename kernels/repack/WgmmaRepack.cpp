//===- WgmmaRepack.cpp - KernelWeight -> the wgmma path's layout ----------===//
//
// The layout is defined in kernels/cuda/WgmmaLayout.h; this file is its
// only writer (and, through wgmmaCode, its reader for tests). It reads the
// tile layout through KernelLayout.h's inverse view, so the two layouts
// cannot disagree about a code, a scale or a zero.
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/WgmmaRepack.h"

namespace hfq::kernels {

namespace {

namespace wg = wgmma;

/// Byte offset and bit shift of the code at row n, K position j.
void wgmmaLocation(int bits, int64_t kblocks, int64_t n, int64_t j,
                   int64_t &byte, int &shift) {
  const wg::Fragment f = wg::fragmentOf(static_cast<int>(n % wg::kBlockN),
                                        static_cast<int>(j % wg::kStageK));
  int vec, bit;
  int64_t base;
  if (bits == 4) {
    using C = wg::Codes<4>;
    base = C::block<int64_t>(n / wg::kBlockN, j / wg::kStageK, kblocks);
    vec = C::vec(f.slab, C::vecOfStep(f.step), f.thread) * 16 +
          C::wordOf(f.step, f.p) * 4;
    bit = C::bitOf(f.p, f.e);
  } else {
    using C = wg::Codes<8>;
    base = C::block<int64_t>(n / wg::kBlockN, j / wg::kStageK, kblocks);
    vec = C::vec(f.slab, C::vecOfStep(f.step), f.thread) * 16 +
          C::wordOf(f.step, f.p) * 4;
    bit = C::bitOf(f.p, f.e);
  }
  byte = base + vec + bit / 8;
  shift = bit % 8;
}

} // namespace

bool packForWgmma(const KernelWeight &kw, WgmmaWeight &out,
                  std::string &error) {
  if (kw.bits != 4 && kw.bits != 8) {
    error = "the wgmma path takes 4- and 8-bit codes (got " +
            std::to_string(kw.bits) + ")";
    return false;
  }
  if (kw.kp % wg::kStageK != 0 || kw.groupSize <= 0 ||
      kw.kp % kw.groupSize != 0 ||
      (kw.groupSize % wg::kStageK != 0 && kw.groupSize != 32)) {
    error = "the wgmma path needs Kp a multiple of 64 and groups of 32 or a "
            "multiple of 64 "
            "dividing it (Kp " +
            std::to_string(kw.kp) + ", group " + std::to_string(kw.groupSize) +
            ")";
    return false;
  }
  WgmmaWeight ww;
  ww.bits = kw.bits;
  ww.np = (kw.n + wg::kBlockN - 1) / wg::kBlockN * wg::kBlockN;
  ww.kp = kw.kp;
  ww.groupSize = kw.groupSize;
  const int64_t kblocks = ww.kp / wg::kStageK;
  ww.q.assign(static_cast<size_t>(ww.np * ww.kp * ww.bits / 8), 0);
  // Rows past the tile layout's Np keep code 0 under a zero scale.
  for (int64_t n = 0; n < kw.np; ++n)
    for (int64_t j = 0; j < kw.kp; ++j) {
      int64_t byte;
      int shift;
      wgmmaLocation(ww.bits, kblocks, n, j, byte, shift);
      ww.q[byte] |= static_cast<uint8_t>(kernelCode(kw, n, j) << shift);
    }
  const int64_t groups = kw.groups(), nblocks = ww.np / wg::kBlockN;
  const bool hasZeros = kw.zeroKind != ZeroKind::Symmetric;
  ww.scales.assign(static_cast<size_t>(groups * ww.np), 0);
  if (hasZeros)
    ww.zeros.assign(static_cast<size_t>(groups * ww.np),
                    toActBits(kw.act, 0.0f));
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t n = 0; n < kw.np; ++n) {
      const int64_t at = wg::groupBlock<int64_t>(g, n / wg::kBlockN, nblocks) +
                         wg::groupSlot(static_cast<int>(n % wg::kBlockN));
      ww.scales[at] = toActBits(kw.act, kernelScale(kw, n, g * kw.groupSize));
      if (hasZeros)
        ww.zeros[at] = toActBits(kw.act, kernelZero(kw, n, g * kw.groupSize));
    }
  out = std::move(ww);
  return true;
}

int wgmmaCode(const WgmmaWeight &ww, int64_t n, int64_t j) {
  int64_t byte;
  int shift;
  wgmmaLocation(ww.bits, ww.kp / wg::kStageK, n, j, byte, shift);
  return (ww.q[byte] >> shift) & ((1 << ww.bits) - 1);
}

} // namespace hfq::kernels
