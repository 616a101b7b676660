//===- FromAwq.cpp - AWQ checkpoint tensors to QuantWeight ----------------===//
//
// The gemm layout (version 0) of kernels/ref/Awq.cpp, read with its checks
// (checkAwqParams, checkAwqGemmTensors): qweight i32 [K, N / 8] whose
// nibble i holds column 8c + kAwqGemmOrder[i], qzeros i32 [G, N / 8] alike,
// scales f16 [G, N]. The gemv layouts are refused (the reference serves
// them).
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/Converters.h"

#include "kernels/ref/Awq.h"

namespace hfq::kernels::repack {

bool fromAwq(const AwqArgs &args, const std::vector<TensorView> &packed,
             int64_t n, int64_t k, QuantWeight &out, std::string &error) {
  if (args.version == 1) {
    error = "AWQ gemv checkpoints (version 1) have no repacking converter "
            "(supported: gemm, version 0); the reference kernel serves them";
    return false;
  }
  if (args.version == 2) {
    error = "AWQ gemv_fast / llm-awq checkpoints (version 2) have no "
            "repacking converter (supported: gemm, version 0)";
    return false;
  }
  if (!expectTensorCount(packed.size(), 3, "qweight, qzeros, scales", error))
    return false;
  AwqParams p;
  p.version = AwqVersion::Gemm;
  p.bits = static_cast<int>(args.bits);
  p.groupSize = args.group_size;
  AwqShape s;
  const TensorView &qweight = packed[0], &qzeros = packed[1],
                   &scales = packed[2];
  if (!checkAwqParams(n, k, p, s, error) ||
      !checkAwqGemmTensors(qweight, qzeros, scales, n, k, s, error))
    return false;
  const int64_t words = n / 8;
  // Nibble i of a word holds column 8c + kAwqGemmOrder[i]; invert that.
  int nibbleOf[8];
  for (int i = 0; i < 8; ++i)
    nibbleOf[kAwqGemmOrder[i]] = i;
  auto nibble = [](const TensorView &t, int64_t word, int index) {
    return (t.bits(word) >> (4 * index)) & 0xfu;
  };

  allocate(out, 4, n, k, s.g, ZeroKind::Integer);
  for (int64_t gi = 0; gi < s.groups; ++gi)
    for (int64_t c = 0; c < n; ++c) {
      const size_t at = static_cast<size_t>(gi * n + c);
      out.zero[at] = static_cast<float>(
          nibble(qzeros, gi * words + c / 8, nibbleOf[c % 8]));
      out.scale[at] = scales.at(gi * n + c);
    }
  for (int64_t i = 0; i < k; ++i)
    for (int64_t c = 0; c < n; ++c)
      out.q[static_cast<size_t>(c * k + i)] = static_cast<uint8_t>(
          nibble(qweight, i * words + c / 8, nibbleOf[c % 8]));
  return true;
}

} // namespace hfq::kernels::repack
