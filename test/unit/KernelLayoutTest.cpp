//===- KernelLayoutTest.cpp - QuantWeight -> the CUDA kernels' tiles ------===//
//
// The load-time packing step on its own (no GPU): for random weights of
// every width, zero kind and group size, with and without act order, and N
// and K off the 64 x 128 tile, every code, scale and zero read back through
// the layout's accessors (kernelCode/Scale/Zero, which decode the byte
// positions the CUDA kernels read) equals the QuantWeight's at the sorted K
// position; padding decodes to a zero weight; bad group sizes and K are
// refused with a message. The shared layout definition (TileLayout.h) is
// checked on its own: every code and every scale of a tile has one place,
// and the places fill the arrays without gaps.
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/KernelLayout.h"

#include "kernels/cuda/TileLayout.h"
#include "test/support/RandomQuantWeight.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

using namespace hfq::kernels;

namespace {

float round16(ActType act, float v) { return fromActBits(act, toActBits(act, v)); }

struct LayoutCase {
  int bits;
  ZeroKind zk;
  int64_t group;
  bool actOrder;
  int64_t n, k;
};

class KernelLayoutRoundTrip : public ::testing::TestWithParam<LayoutCase> {};

TEST_P(KernelLayoutRoundTrip, EveryCodeScaleAndZeroReadsBack) {
  const LayoutCase &c = GetParam();
  std::mt19937 rng(static_cast<unsigned>(c.n * 131 + c.k * 7 + c.bits));
  for (ActType act : {ActType::BF16, ActType::F16}) {
    QuantWeight w = hfq::test::randomQuantWeight(c.bits, c.n, c.k, c.group, c.zk, c.actOrder, rng,
                                               0.001f, 0.05f);
    KernelWeight kw;
    std::string error;
    ASSERT_TRUE(packForKernel(w, act, kw, error)) << error;
    EXPECT_EQ(kw.np % kKernelTileN, 0);
    EXPECT_EQ(kw.kp % kKernelTileK, 0);
    // 4-bit codes keep their width; every other width is widened to 8.
    const int kernelBits = c.bits == 4 ? 4 : 8;
    EXPECT_EQ(kw.bits, kernelBits);
    EXPECT_EQ(kw.q.size(), static_cast<size_t>(kw.np * kw.kp * kernelBits / 8));
    if (c.bits != kernelBits && c.zk == ZeroKind::Symmetric)
      EXPECT_EQ(kw.zeroKind, ZeroKind::Integer); // the own zero, explicitly
    EXPECT_EQ(kw.perm.empty(), !c.actOrder);
    // Kernel position j holds original K index src[j], sorted by group.
    std::vector<int64_t> src(w.k);
    std::iota(src.begin(), src.end(), 0);
    if (c.actOrder) {
      ASSERT_EQ(kw.perm.size(), static_cast<size_t>(kw.kp));
      for (int64_t j = 0; j < w.k; ++j) {
        src[j] = kw.perm[j];
        ASSERT_EQ(w.gIdx[src[j]], j / w.groupSize) << "position " << j;
      }
      for (int64_t j = w.k; j < kw.kp; ++j)
        EXPECT_EQ(kw.perm[j], j);
    }
    int64_t mismatches = 0;
    for (int64_t n = 0; n < w.n; ++n)
      for (int64_t j = 0; j < w.k; ++j) {
        int64_t kk = src[j];
        int64_t g = w.groupOf(kk);
        float zero = w.zeroKind == ZeroKind::Symmetric
                         ? static_cast<float>(1 << (c.bits - 1))
                         : round16(act, w.zero[g * w.n + n]);
        if (kernelCode(kw, n, j) != w.q[n * w.k + kk] ||
            kernelScale(kw, n, j) != round16(act, w.scale[g * w.n + n]) ||
            kernelZero(kw, n, j) != zero)
          ++mismatches;
      }
    EXPECT_EQ(mismatches, 0);
    // Padded K positions carry a weight of exactly zero (or sit in a padded
    // group whose scale is zero) so garbage never reaches the sum.
    for (int64_t n = 0; n < w.n; n += 7)
      for (int64_t j = w.k; j < kw.kp; ++j) {
        float s = kernelScale(kw, n, j);
        float q = static_cast<float>(kernelCode(kw, n, j));
        float z = kernelZero(kw, n, j);
        float wv = w.zeroKind == ZeroKind::Offset ? q * s + z : (q - z) * s;
        if (w.zeroKind != ZeroKind::Offset)
          EXPECT_EQ(wv, 0.0f) << "n " << n << " j " << j;
      }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, KernelLayoutRoundTrip,
    ::testing::Values(LayoutCase{4, ZeroKind::Integer, 128, false, 100, 384},
                      LayoutCase{4, ZeroKind::Symmetric, 32, false, 70, 1056},
                      LayoutCase{4, ZeroKind::Offset, 64, false, 130, 320},
                      LayoutCase{4, ZeroKind::Integer, 0, false, 65, 1000},
                      LayoutCase{4, ZeroKind::Integer, 128, true, 72, 512},
                      LayoutCase{4, ZeroKind::Symmetric, 64, true, 9, 192},
                      LayoutCase{8, ZeroKind::Symmetric, 0, false, 129, 1000},
                      LayoutCase{8, ZeroKind::Integer, 128, false, 64, 256},
                      LayoutCase{8, ZeroKind::Offset, 32, false, 3, 96},
                      LayoutCase{8, ZeroKind::Integer, 256, true, 40, 768},
                      // Widened to the 8-bit layout (GPTQ 2/3-bit, HQQ 5/6-bit).
                      LayoutCase{3, ZeroKind::Integer, 128, true, 96, 384},
                      LayoutCase{2, ZeroKind::Integer, 0, false, 70, 512},
                      LayoutCase{3, ZeroKind::Symmetric, 64, false, 33, 320},
                      LayoutCase{6, ZeroKind::Offset, 32, false, 20, 160}));

TEST(KernelLayout, RefusesShapesTheKernelsDoNotTake) {
  std::mt19937 rng(5);
  KernelWeight kw;
  std::string error;
  QuantWeight w = hfq::test::randomQuantWeight(4, 64, 96, 48, ZeroKind::Integer, false, rng);
  EXPECT_FALSE(packForKernel(w, ActType::BF16, kw, error));
  EXPECT_NE(error.find("groups of 32, 64 or a multiple of 128"), std::string::npos) << error;
  w = hfq::test::randomQuantWeight(4, 64, 100, 0, ZeroKind::Integer, false, rng);
  EXPECT_FALSE(packForKernel(w, ActType::BF16, kw, error));
  EXPECT_NE(error.find("multiple of 8"), std::string::npos) << error;
  // An invalid QuantWeight is refused with verify()'s message.
  w = hfq::test::randomQuantWeight(4, 64, 128, 128, ZeroKind::Integer, false, rng);
  w.q[5] = 16;
  EXPECT_FALSE(packForKernel(w, ActType::F16, kw, error));
  EXPECT_FALSE(error.empty());
}

/// Every (column, K position) of `ntiles` tiles x `pblocks` P-blocks lands on
/// its own BITS-bit field of the code array, and the fields cover it whole.
template <int BITS> void expectCodesFillTheArray(int64_t ntiles, int64_t pblocks) {
  using Codes = tile::Codes<BITS>;
  const int64_t fields = ntiles * pblocks * Codes::kVecsPerBlock * 128 / BITS;
  std::vector<int> hits(fields, 0);
  for (int64_t n = 0; n < ntiles * tile::kTileN; ++n)
    for (int64_t j = 0; j < pblocks * tile::kBlockK; ++j) {
      const int blk = static_cast<int>(n % tile::kTileN / 8), r = static_cast<int>(n % 8);
      const int64_t ks = j / tile::kStepK;
      const int t = static_cast<int>(j % tile::kStepK / 4), off = static_cast<int>(j % 4);
      const int64_t vec =
          Codes::template block<int64_t>(ks / tile::kStepsPerBlock, n / tile::kTileN, ntiles) +
          Codes::step(static_cast<int>(ks % tile::kStepsPerBlock), Codes::vecOf(blk)) +
          tile::laneOf(r, t);
      const int64_t bit = (vec * 4 + Codes::wordOf(blk)) * 32 + Codes::shiftOf(blk, off);
      ASSERT_EQ(bit % BITS, 0);
      ASSERT_LT(bit / BITS, fields);
      ++hits[bit / BITS];
    }
  for (int64_t f = 0; f < fields; ++f)
    ASSERT_EQ(hits[f], 1) << BITS << "-bit field " << f;
}

TEST(TileLayout, EveryCodeHasOnePlace) {
  expectCodesFillTheArray<4>(3, 2);
  expectCodesFillTheArray<8>(3, 2);
}

TEST(TileLayout, EveryScaleHasOnePlace) {
  const int64_t groups = 3, ntiles = 2;
  std::vector<int> hits(groups * ntiles * tile::kTileN, 0);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t nt = 0; nt < ntiles; ++nt)
      for (int t = 0; t < 4; ++t)
        for (int j = 0; j < tile::kBlocksPerTile; ++j)
          for (int e = 0; e < 2; ++e)
            ++hits[tile::Groups::entry<int64_t>(g, nt, ntiles, t, j, e)];
  for (int h : hits)
    ASSERT_EQ(h, 1);
  // One tile's group is kVecsPerTile uint4, a lane quad's column t two.
  EXPECT_EQ(tile::Groups::entry<int64_t>(0, 1, ntiles, 0, 0, 0) * 2,
            tile::Groups::kVecsPerTile * 16);
  EXPECT_EQ(tile::Groups::entry<int64_t>(0, 0, ntiles, 1, 0, 0) * 2, tile::Groups::kVecsPerT * 16);
}

TEST(KernelLayout, MagicIsExactIn16Bits) {
  // The bias codes carry into the tensor cores: q + magic must be exact.
  for (ActType act : {ActType::BF16, ActType::F16})
    for (int bits : {4, 8}) {
      int magic = kernelMagic(act, bits);
      if (act == ActType::BF16 && bits == 8) {
        // Two operands: 128 + low nibble and 256 + 16 * high nibble.
        for (int q = 0; q < 256; ++q) {
          float lo = 128.0f + (q & 15), hi = 256.0f + 16.0f * (q >> 4);
          EXPECT_EQ(round16(act, lo), lo);
          EXPECT_EQ(round16(act, hi), hi);
          EXPECT_EQ(lo + hi, static_cast<float>(magic + q));
        }
        continue;
      }
      for (int q = 0; q < (1 << bits); ++q)
        EXPECT_EQ(round16(act, static_cast<float>(magic + q)), static_cast<float>(magic + q));
    }
}

} // namespace
