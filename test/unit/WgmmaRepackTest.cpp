//===- WgmmaRepackTest.cpp - KernelWeight -> the wgmma path's layout ------===//
//
// The wgmma path's repack on its own (no GPU). Its layout (WgmmaLayout.h)
// is read back the way Wgmma.cu reads it — per block (nb, kb), slab,
// consumer thread (warp w, lane r, t), step i, A register p and half e,
// through Codes::vec / wordOf / bitOf and the scale slots of groupSlot —
// and every code, scale and zero must equal the tile layout's
// (kernelCode / kernelScale / kernelZero) at row 64 slab + 16 w + r +
// 8 (p % 2), K 16 i + 8 (p / 2) + 2 t + e: the register fragment wgmma's A
// operand takes. Random codes make two places sharing a byte fail. Every
// width, zero kind, group size (32, 64, 128, per column), act order, N and
// K off the 128 x 64 block.
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/WgmmaRepack.h"

#include "test/support/RandomQuantWeight.h"

#include <gtest/gtest.h>

#include <random>

using namespace hfq::kernels;
namespace wg = hfq::kernels::wgmma;

namespace {

struct WgmmaCase {
  int bits;
  ZeroKind zk;
  int64_t group;
  bool actOrder;
  int64_t n, k;
};

/// The code the kernel reads for (row, K position) of block (nb, kb).
template <int BITS>
int kernelRead(const WgmmaWeight &ww, int64_t nb, int64_t kb, int slab,
               int thread, int step, int p, int e) {
  using C = wg::Codes<BITS>;
  const int64_t byte = C::template block<int64_t>(nb, kb, ww.kp / wg::kStageK) +
                       C::vec(slab, C::vecOfStep(step), thread) * 16 +
                       C::wordOf(step, p) * 4 + C::bitOf(p, e) / 8;
  return (ww.q[byte] >> (C::bitOf(p, e) % 8)) & ((1 << BITS) - 1);
}

class WgmmaRepackRoundTrip : public ::testing::TestWithParam<WgmmaCase> {};

TEST_P(WgmmaRepackRoundTrip, TheKernelsReadsAreTheTileLayouts) {
  const WgmmaCase &c = GetParam();
  std::mt19937 rng(static_cast<unsigned>(c.n * 31 + c.k * 3 + c.bits));
  for (ActType act : {ActType::BF16, ActType::F16}) {
    QuantWeight w = hfq::test::randomQuantWeight(c.bits, c.n, c.k, c.group,
                                                 c.zk, c.actOrder, rng);
    KernelWeight kw;
    WgmmaWeight ww;
    std::string error;
    ASSERT_TRUE(packForKernel(w, act, kw, error)) << error;
    ASSERT_TRUE(packForWgmma(kw, ww, error)) << error;
    ASSERT_EQ(ww.np % wg::kBlockN, 0);
    ASSERT_EQ(ww.q.size(), static_cast<size_t>(ww.np * ww.kp * ww.bits / 8));
    const int64_t nblocks = ww.np / wg::kBlockN, kblocks = ww.kp / wg::kStageK;
    int64_t bad = 0;
    for (int64_t nb = 0; nb < nblocks; ++nb)
      for (int64_t kb = 0; kb < kblocks; ++kb)
        for (int slab = 0; slab < wg::kSlabs; ++slab)
          for (int thread = 0; thread < wg::kThreads; ++thread)
            for (int step = 0; step < wg::kStepsPerStage; ++step)
              for (int p = 0; p < 4; ++p)
                for (int e = 0; e < 2; ++e) {
                  const int w16 = thread / 32, r = thread % 32 / 4,
                            t = thread % 4;
                  const int64_t row = nb * wg::kBlockN + slab * wg::kSlabRows +
                                      16 * w16 + r + 8 * (p % 2);
                  const int64_t j =
                      kb * wg::kStageK + 16 * step + 8 * (p / 2) + 2 * t + e;
                  const int got =
                      kw.bits == 4
                          ? kernelRead<4>(ww, nb, kb, slab, thread, step, p, e)
                          : kernelRead<8>(ww, nb, kb, slab, thread, step, p, e);
                  const int want = row < kw.np ? kernelCode(kw, row, j) : 0;
                  bad += got != want;
                }
    EXPECT_EQ(bad, 0) << "codes off";
    ASSERT_EQ(wgmmaCode(ww, 0, 0), kernelCode(kw, 0, 0));
    // Scales and zeros: thread (slab, w, r) reads 32-bit word
    // 8 (4 slab + w) + r of the (group, block): rows r and r + 8.
    const bool zeros = kw.zeroKind != ZeroKind::Symmetric;
    ASSERT_EQ(ww.zeros.empty(), !zeros);
    for (int64_t g = 0; g < kw.groups(); ++g)
      for (int64_t nb = 0; nb < nblocks; ++nb)
        for (int slab = 0; slab < wg::kSlabs; ++slab)
          for (int w16 = 0; w16 < 4; ++w16)
            for (int r = 0; r < 8; ++r)
              for (int h = 0; h < 2; ++h) {
                const int64_t row = nb * wg::kBlockN + slab * wg::kSlabRows +
                                    16 * w16 + r + 8 * h;
                const int64_t at = wg::groupBlock<int64_t>(g, nb, nblocks) +
                                   2 * (8 * (4 * slab + w16) + r) + h;
                const float s =
                    row < kw.np ? kernelScale(kw, row, g * kw.groupSize) : 0.0f;
                EXPECT_EQ(ww.scales[at], toActBits(act, s))
                    << "scale g " << g << " row " << row;
                if (zeros) {
                  const float z = row < kw.np
                                      ? kernelZero(kw, row, g * kw.groupSize)
                                      : 0.0f;
                  EXPECT_EQ(ww.zeros[at], toActBits(act, z))
                      << "zero g " << g << " row " << row;
                }
              }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, WgmmaRepackRoundTrip,
    ::testing::Values(WgmmaCase{4, ZeroKind::Integer, 128, false, 200, 1152},
                      WgmmaCase{4, ZeroKind::Symmetric, 32, false, 72, 576},
                      WgmmaCase{4, ZeroKind::Offset, 64, false, 130, 256},
                      WgmmaCase{4, ZeroKind::Integer, 0, false, 64, 392},
                      WgmmaCase{4, ZeroKind::Integer, 128, true, 136, 512},
                      WgmmaCase{8, ZeroKind::Symmetric, 0, false, 100, 200},
                      WgmmaCase{8, ZeroKind::Offset, 32, false, 129, 320},
                      WgmmaCase{3, ZeroKind::Integer, 64, true, 66, 384}));

TEST(WgmmaLayout, EveryPlaceOfABlockIsTakenOnce) {
  // Each (row, K) of a block maps to its own (slab, thread, step, register,
  // half), and every scale slot to its own row.
  std::vector<int> seen(wg::kBlockN * wg::kStageK, 0), slots(wg::kBlockN, 0);
  for (int row = 0; row < wg::kBlockN; ++row) {
    for (int k = 0; k < wg::kStageK; ++k) {
      const wg::Fragment f = wg::fragmentOf(row, k);
      ++seen[(((f.slab * wg::kThreads + f.thread) * wg::kStepsPerStage +
               f.step) *
                  4 +
              f.p) *
                 2 +
             f.e];
    }
    ++slots[wg::groupSlot(row)];
  }
  for (int v : seen)
    EXPECT_EQ(v, 1);
  for (int v : slots)
    EXPECT_EQ(v, 1);
}

TEST(WgmmaRepack, RefusesGroupsThatStraddleAStage) {
  KernelWeight kw;
  kw.bits = 4;
  kw.n = 64;
  kw.k = kw.kp = 384;
  kw.np = 64;
  kw.groupSize = 96;
  WgmmaWeight ww;
  std::string error;
  EXPECT_FALSE(packForWgmma(kw, ww, error));
  EXPECT_NE(error.find("groups of 32 or a multiple of 64"), std::string::npos)
      << error;
}

} // namespace
