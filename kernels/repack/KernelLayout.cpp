//===- KernelLayout.cpp - QuantWeight -> the CUDA kernels' tiles ----------===//
//
// The layout is defined in kernels/cuda/TileLayout.h (with the kernels);
// this file is its only writer (and, through kernelCode/kernelScale/
// kernelZero, its reader for tests).
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/KernelLayout.h"

#include "kernels/abi/Tensor.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hfq::kernels {

namespace {

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/// Byte offset of the BITS-bit code of (n, j) and its bit shift in that
/// byte, through the layout the kernels read (TileLayout.h).
template <int BITS>
void codeLocation(int64_t ntiles, int64_t n, int64_t j, int64_t &byte, int &shift) {
  using Codes = tile::Codes<BITS>;
  const int64_t nt = n / tile::kTileN, c = n % tile::kTileN;
  const int blk = static_cast<int>(c / 8), r = static_cast<int>(c % 8);
  const int64_t ks = j / tile::kStepK;
  const int t = static_cast<int>(j % tile::kStepK / 4), off = static_cast<int>(j % 4);
  const int64_t vec = Codes::template block<int64_t>(ks / tile::kStepsPerBlock, nt, ntiles) +
                      Codes::step(static_cast<int>(ks % tile::kStepsPerBlock), Codes::vecOf(blk)) +
                      tile::laneOf(r, t);
  const int bit = Codes::shiftOf(blk, off);
  byte = (vec * 4 + Codes::wordOf(blk)) * 4 + bit / 8;
  shift = bit % 8;
}

void codeLocation(const KernelWeight &kw, int64_t n, int64_t j, int64_t &byte, int &shift) {
  const int64_t ntiles = kw.np / tile::kTileN;
  if (kw.bits == 4)
    codeLocation<4>(ntiles, n, j, byte, shift);
  else
    codeLocation<8>(ntiles, n, j, byte, shift);
}

/// Index of (g, n) in the [G][nt][t][j][e] scale and zero arrays: column
/// 8 j + 2 t + e of tile nt, the accumulator layout of mma.m16n8k16.
int64_t groupIndex(const KernelWeight &kw, int64_t g, int64_t n) {
  const int64_t nt = n / tile::kTileN;
  const int c = static_cast<int>(n % tile::kTileN);
  return tile::Groups::entry<int64_t>(g, nt, kw.np / tile::kTileN, c % 8 / 2, c / 8, c % 2);
}

} // namespace

uint16_t toActBits(ActType act, float v) {
  return act == ActType::F16 ? floatToHalf(v) : floatToBf16(v);
}

float fromActBits(ActType act, uint16_t v) {
  return act == ActType::F16 ? halfToFloat(v) : bf16ToFloat(v);
}

int kernelMagic(ActType act, int bits) { return tile::magic(act == ActType::F16, bits); }

bool packForKernel(const QuantWeight &w, ActType act, KernelWeight &out,
                   std::string &error) {
  if (!w.verify(error))
    return false;
  if (w.k % 8 != 0) {
    error = "the CUDA kernels need K to be a multiple of 8 (got " +
            std::to_string(w.k) + ")";
    return false;
  }
  KernelWeight kw;
  kw.act = act;
  // 4-bit codes keep their width; every other width (GPTQ 2/3-bit, HQQ
  // 5/6-bit) is widened to the 8-bit layout: exact, at 8 bits per weight of
  // bandwidth (the "generic" kernels of the specs).
  kw.bits = w.bits == 4 ? 4 : 8;
  kw.n = w.n;
  kw.k = w.k;
  kw.np = roundUp(w.n, kKernelTileN);
  kw.kp = roundUp(w.k, kKernelTileK);
  // A widened symmetric weight keeps its own zero 2^(bits-1) explicitly
  // (the 8-bit layout's implicit one is 128).
  const bool explicitSymmetric = w.zeroKind == ZeroKind::Symmetric && kw.bits != w.bits;
  kw.zeroKind = explicitSymmetric ? ZeroKind::Integer : w.zeroKind;
  const float ownZero = static_cast<float>(1 << (w.bits - 1));
  bool perChannel = w.groupSize == w.k;
  if (perChannel) {
    kw.groupSize = kw.kp;
  } else if (w.groupSize == 32 || w.groupSize == 64 ||
             w.groupSize % kKernelTileK == 0) {
    kw.groupSize = w.groupSize;
  } else {
    error = "the CUDA kernels take groups of 32, 64 or a multiple of 128 "
            "along K (got " + std::to_string(w.groupSize) + ")";
    return false;
  }
  int64_t groups = kw.kp / kw.groupSize;
  if (kw.kp % kw.groupSize != 0) {
    error = "padded K " + std::to_string(kw.kp) +
            " is not a multiple of the group size " +
            std::to_string(kw.groupSize);
    return false;
  }

  // Kernel position j reads original K index src[j].
  std::vector<int64_t> src(kw.kp);
  std::iota(src.begin(), src.end(), 0);
  if (!w.gIdx.empty()) {
    // Stable by construction: ties keep K order (std::stable_sort's
    // temporary buffer is deprecated in this libstdc++).
    std::sort(src.begin(), src.begin() + w.k, [&](int64_t a, int64_t b) {
      return w.gIdx[a] != w.gIdx[b] ? w.gIdx[a] < w.gIdx[b] : a < b;
    });
    kw.perm.assign(src.begin(), src.end());
  }

  kw.q.assign(static_cast<size_t>(kw.np * kw.kp * kw.bits / 8), 0);
  int zeroCode = 1 << (kw.bits - 1);
  for (int64_t n = 0; n < w.n; ++n)
    for (int64_t j = 0; j < w.k; ++j) {
      int64_t byte;
      int shift;
      codeLocation(kw, n, j, byte, shift);
      kw.q[byte] |= static_cast<uint8_t>(w.q[n * w.k + src[j]] << shift);
    }
  // Padded K positions (j >= K) multiply a zero activation; their code is
  // the zero point so the padded weight is exactly 0 as well.
  for (int64_t n = 0; n < w.n; ++n)
    for (int64_t j = w.k; j < kw.kp; ++j) {
      int64_t byte;
      int shift;
      codeLocation(kw, n, j, byte, shift);
      int code = w.zeroKind == ZeroKind::Integer
                     ? static_cast<int>(w.zero[(w.groups() - 1) * w.n + n])
                 : explicitSymmetric                  ? static_cast<int>(ownZero)
                 : w.zeroKind == ZeroKind::Symmetric ? zeroCode
                                                      : 0;
      kw.q[byte] |= static_cast<uint8_t>(code << shift);
    }

  kw.scales.assign(groups * kw.np, 0);
  if (kw.zeroKind != ZeroKind::Symmetric)
    kw.zeros.assign(groups * kw.np, toActBits(act, 0.0f));
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t n = 0; n < w.n; ++n) {
      // Per channel: one source group; grouped: kernel group g is source
      // group g (padding groups past the last copy nothing: scale 0).
      int64_t sg = perChannel ? 0 : g;
      if (sg >= w.groups())
        continue;
      int64_t at = groupIndex(kw, g, n);
      kw.scales[at] = toActBits(act, w.scale[sg * w.n + n]);
      if (explicitSymmetric)
        kw.zeros[at] = toActBits(act, ownZero);
      else if (w.zeroKind != ZeroKind::Symmetric)
        kw.zeros[at] = toActBits(act, w.zero[sg * w.n + n]);
    }
  // With act order, sorted position j must sit in group j / groupSize.
  if (!w.gIdx.empty())
    for (int64_t j = 0; j < w.k; ++j)
      if (w.gIdx[src[j]] != j / w.groupSize) {
        error = "g_idx does not sort into contiguous groups of " +
                std::to_string(w.groupSize) + " (position " +
                std::to_string(j) + " holds K index " + std::to_string(src[j]) +
                " of group " + std::to_string(w.gIdx[src[j]]) + ")";
        return false;
      }
  out = std::move(kw);
  return true;
}

int kernelCode(const KernelWeight &kw, int64_t n, int64_t j) {
  int64_t byte;
  int shift;
  codeLocation(kw, n, j, byte, shift);
  return (kw.q[byte] >> shift) & ((1 << kw.bits) - 1);
}

float kernelScale(const KernelWeight &kw, int64_t n, int64_t j) {
  return fromActBits(kw.act, kw.scales[groupIndex(kw, j / kw.groupSize, n)]);
}

float kernelZero(const KernelWeight &kw, int64_t n, int64_t j) {
  if (kw.zeroKind == ZeroKind::Symmetric)
    return static_cast<float>(1 << (kw.bits - 1));
  return fromActBits(kw.act, kw.zeros[groupIndex(kw, j / kw.groupSize, n)]);
}

} // namespace hfq::kernels
