//===- FromEetq.cpp - EETQ checkpoint tensors to QuantWeight --------------===//
//
// kernels/ref/Eetq.cpp's layout: the int8 weight behind FasterTransformer's
// preprocessing (unpreprocessEetqWeight undoes it) with one f16 scale per
// output column, Symmetric.
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/Converters.h"

#include "kernels/ref/Eetq.h"

namespace hfq::kernels::repack {

bool fromEetq(const EetqArgs &, const std::vector<TensorView> &packed,
              int64_t n, int64_t k, QuantWeight &out, std::string &error) {
  if (!expectLayoutTensors<EetqArgs>(packed, error))
    return false;
  // The plain int8 Wᵀ [K, N] behind FasterTransformer's preprocessing.
  std::vector<int8_t> qt;
  if (!unpreprocessEetqWeight(packed[0], k, n, qt, error) ||
      !expectView(packed[1], "weight_scales", DType::F16, {n}, error))
    return false;
  allocate(out, 8, n, k, k, ZeroKind::Symmetric);
  for (int64_t c = 0; c < n; ++c) {
    out.scale[static_cast<size_t>(c)] = packed[1].at(c);
    for (int64_t i = 0; i < k; ++i)
      out.q[static_cast<size_t>(c * k + i)] = static_cast<uint8_t>(
          static_cast<int32_t>(qt[static_cast<size_t>(i * n + c)]) + 128);
  }
  return true;
}

} // namespace hfq::kernels::repack
