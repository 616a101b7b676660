//===- FromGptq.cpp - GPTQ checkpoint tensors to QuantWeight --------------===//
//
// kernels/ref/Gptq.cpp's layout, read with its checks (checkGptqParams,
// checkGptqTensors): qweight i32 [K * b / 32, N] with each column one bit
// stream along K, qzeros i32 [G, N * b / 32], scales f16 [G, N] and the
// act-order g_idx. 2/3-bit codes are read like 4/8-bit ones; packForKernel
// widens them to the 8-bit layout (the spec's hfq_gptq_generic).
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/Converters.h"

#include "kernels/ref/Gptq.h"

namespace hfq::kernels::repack {

bool fromGptq(const GptqArgs &args, const std::vector<TensorView> &packed,
              int64_t n, int64_t k, QuantWeight &out, std::string &error) {
  const GptqParams p = gptqParams(args);
  int64_t g = 0, groups = 0;
  if (!checkGptqParams(n, k, p, g, groups, error) ||
      !expectLayoutTensors<GptqArgs>(packed, error))
    return false;
  const TensorView &qweight = packed[0], &qzeros = packed[1],
                   &scales = packed[2], &gIdxView = packed[3];
  if (!checkGptqTensors(qweight, qzeros, scales, gIdxView, n, k, p, groups,
                        error) ||
      !wholeGroups(k, g, error))
    return false;

  const int b = p.bits;
  allocate(out, b, n, k, g, ZeroKind::Integer);
  const int64_t zeroWords = n * b / 32;
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t c = 0; c < n; ++c) {
      const size_t at = static_cast<size_t>(gi * n + c);
      out.zero[at] =
          static_cast<float>(gptqUnpackField(qzeros, gi * zeroWords, 1, b, c) +
                             (p.zeroStoredMinusOne ? 1u : 0u));
      out.scale[at] = scales.at(gi * n + c);
    }
  // Column c of qweight is one bit stream along K (word stride N).
  for (int64_t c = 0; c < n; ++c)
    for (int64_t i = 0; i < k; ++i)
      out.q[static_cast<size_t>(c * k + i)] =
          static_cast<uint8_t>(gptqUnpackField(qweight, c, n, b, i));
  if (gptqHasGIdx(gIdxView)) {
    std::vector<int32_t> gIdx(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i)
      gIdx[static_cast<size_t>(i)] = static_cast<int32_t>(gIdxView.bits(i));
    setGIdx(out, std::move(gIdx));
  }
  return true;
}

} // namespace hfq::kernels::repack
