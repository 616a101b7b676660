//===- RandomQuantWeight.h - Fresh random weights in canonical form -*- C++ -*-===//
//
// For the tests of the load-time packing (test/unit/KernelLayoutTest.cpp)
// and of the CUDA kernels (test/gpu/WeightOnlyGpuTest.cpp): a QuantWeight
// with uniform codes, scales in [scaleLo, scaleHi), integer zeros anywhere
// in the code range, float offsets -z * s for z anywhere in it, and, with
// act order, GPTQ desc_act's g_idx (K visited in a random order, groups
// assigned in it). Header only, no dependencies beyond the QuantWeight.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_TEST_SUPPORT_RANDOMQUANTWEIGHT_H
#define HFQ_TEST_SUPPORT_RANDOMQUANTWEIGHT_H

#include "kernels/repack/QuantWeight.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace hfq::test {

/// `group` 0 means one group per column.
inline kernels::QuantWeight
randomQuantWeight(int bits, int64_t n, int64_t k, int64_t group,
                  kernels::ZeroKind zeroKind, bool actOrder, std::mt19937 &rng,
                  float scaleLo = 0.004f, float scaleHi = 0.02f) {
  kernels::QuantWeight w;
  w.bits = bits;
  w.n = n;
  w.k = k;
  w.groupSize = group ? group : k;
  w.zeroKind = zeroKind;
  const int levels = 1 << bits;
  std::uniform_int_distribution<int> code(0, levels - 1);
  std::uniform_real_distribution<float> scale(scaleLo, scaleHi);
  std::uniform_real_distribution<float> fzero(0.0f, static_cast<float>(levels - 1));
  w.q.resize(n * k);
  for (auto &v : w.q)
    v = static_cast<uint8_t>(code(rng));
  const int64_t groups = k / w.groupSize;
  w.scale.resize(groups * n);
  for (auto &v : w.scale)
    v = scale(rng);
  if (zeroKind == kernels::ZeroKind::Integer) {
    w.zero.resize(groups * n);
    for (auto &v : w.zero)
      v = static_cast<float>(code(rng));
  } else if (zeroKind == kernels::ZeroKind::Offset) {
    w.zero.resize(groups * n);
    for (int64_t i = 0; i < groups * n; ++i)
      w.zero[i] = -fzero(rng) * w.scale[i];
  }
  if (actOrder) {
    std::vector<int32_t> order(k);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    w.gIdx.resize(k);
    for (int64_t j = 0; j < k; ++j)
      w.gIdx[order[j]] = static_cast<int32_t>(j / w.groupSize);
  }
  return w;
}

} // namespace hfq::test

#endif // HFQ_TEST_SUPPORT_RANDOMQUANTWEIGHT_H
