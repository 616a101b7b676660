//===- FromBitsandbytes.cpp - LLM.int8() weights to QuantWeight -----------===//
//
// bitsandbytes_8bit (kernels/ref/Bitsandbytes.cpp): the int8 weight CB with
// the per-row scale SCB / 127, Symmetric. The threshold only concerns the
// activations (LLM.int8()'s outlier decomposition, which the kernels do not
// reproduce; docs/kernels.md); it is checked as the reference checks it.
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/Converters.h"

#include "kernels/ref/Bitsandbytes.h"

namespace hfq::kernels::repack {

bool fromBnb8(const Bitsandbytes8bitArgs &args,
              const std::vector<TensorView> &packed, int64_t n, int64_t k,
              QuantWeight &out, std::string &error) {
  float threshold;
  if (!bnb8Threshold(args, threshold, error) ||
      !expectLayoutTensors<Bitsandbytes8bitArgs>(packed, error) ||
      !expectView(packed[0], "weight", DType::I8, {n, k}, error) ||
      !expectView(packed[1], "SCB", DType::F32, {n}, error))
    return false;
  allocate(out, 8, n, k, k, ZeroKind::Symmetric);
  for (int64_t row = 0; row < n; ++row)
    out.scale[static_cast<size_t>(row)] = packed[1].at(row) / 127.0f;
  for (int64_t i = 0; i < n * k; ++i)
    out.q[static_cast<size_t>(i)] = int8Code(packed[0], i);
  return true;
}

} // namespace hfq::kernels::repack
