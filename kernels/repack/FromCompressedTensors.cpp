//===- FromCompressedTensors.cpp - compressed-tensors to QuantWeight ------===//
//
// The int weight-only schemes of kernels/ref/CompressedTensors.cpp
// (pack-quantized, int-quantized, naive-quantized int; strategy tensor,
// channel or group; symmetric or not; actorder weight_g_idx), read with the
// reference's own reader (readCtIntWeight). The stored values v are signed;
// the code is q = v + 2^(bits-1), and so is a zero point.
//
//===----------------------------------------------------------------------===//

#include "kernels/repack/Converters.h"

#include "kernels/ref/CompressedTensors.h"

namespace hfq::kernels::repack {

namespace {

/// Only weight-only int schemes of 4 or 8 bits have a kernel layout.
bool checkWeightOnlyInt(const CtLayout &layout, std::string &error) {
  if (layout.isFloat()) {
    error = "float-quantized (fp8) weights (format " +
            std::to_string(layout.format) +
            ") have no integer weight-only kernel layout";
    return false;
  }
  if (layout.inputMode != 0) {
    error = "activation-quantized schemes (input_activations, input_mode " +
            std::to_string(layout.inputMode) +
            ") have no integer weight-only kernel layout; only weight-only "
            "int schemes are repacked";
    return false;
  }
  if (layout.scheme.strategy == CtStrategy::Block) {
    error = "compressed-tensors integer weights have no block strategy";
    return false;
  }
  const int bits = layout.scheme.bits;
  if (!checkCtBits(bits, error))
    return false;
  if (bits != 4 && bits != 8) {
    error = genericOnly("compressed-tensors num_bits=" + std::to_string(bits));
    return false;
  }
  return true;
}

/// The QuantWeight of a weight read and checked by readCtIntWeight, with
/// groups of `g` along K.
void store(const CtIntWeight &q, const TensorView &weightScale, int bits,
           int64_t n, int64_t k, int64_t g, QuantWeight &out) {
  const int32_t offset = 1 << (bits - 1);
  const CtParamGrid &grid = q.grid;
  const bool asym = !q.zeros.empty();
  allocate(out, bits, n, k, g, asym ? ZeroKind::Integer : ZeroKind::Symmetric);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t gi = 0; gi < out.groups(); ++gi) {
      const int64_t p = (row / grid.rowDiv) * grid.cols + gi;
      const size_t at = static_cast<size_t>(gi * n + row);
      out.scale[at] = weightScale.at(p);
      if (asym)
        out.zero[at] =
            static_cast<float>(q.zeros[static_cast<size_t>(p)] + offset);
    }
  for (int64_t i = 0; i < n * k; ++i)
    out.q[static_cast<size_t>(i)] =
        static_cast<uint8_t>(q.values[static_cast<size_t>(i)] + offset);
  if (!grid.gIdx.empty())
    setGIdx(out, grid.gIdx);
}

} // namespace

bool fromCompressedTensors(const CompressedTensorsArgs &args,
                           const std::vector<TensorView> &packed, int64_t n,
                           int64_t k, QuantWeight &out, std::string &error) {
  CtLayout layout;
  if (!ctLayout(args, packed.size(), layout, error) ||
      !checkWeightOnlyInt(layout, error))
    return false;
  CtIntWeight q;
  if (!readCtIntWeight(layout.scheme, layout.isPacked(), packed[0], packed[1],
                       ctOptionalTensors(layout, packed), n, k, q, error))
    return false;
  const int64_t g =
      layout.scheme.strategy == CtStrategy::Group ? layout.scheme.groupSize : k;
  if (!wholeGroups(k, g, error))
    return false;
  store(q, packed[1], layout.scheme.bits, n, k, g, out);
  return true;
}

} // namespace hfq::kernels::repack
