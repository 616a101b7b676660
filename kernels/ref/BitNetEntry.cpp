//===- BitNetEntry.cpp - BitNet b1.58 through the kernel ABI --------------===//
//
// args: BitnetArgs (specs/bitnet.json layouts): mode
//   0 = BitLinear (packed ternary weight ui8 [N/4, K], weight_scale [1]):
//       y = (x_q . W_t^T) / (s_x * weight_scale), x_q per-token int8;
//   1 = AutoBitLinear offline (same tensors): the load hook unpacks the
//       ternary weight, y = fakequant(x) . W_t^T * weight_scale;
//   2 = AutoBitLinear online (weight bf16 [N, K]): W' = WeightQuant(W)
//       (s = 1 / max(mean|W|, 1e-5), clamp(round(W s), -1, 1) / s) and
//       y = fakequant(x) . W'^T.
// fakequant(x) = clamp(round(x s_x), -128, 127) / s_x with
// s_x = 127 / max(max|x|, 1e-5) per token (BitLinear's activation_quant).
// BitNet is pre-quantized only (requires_calibration): the quantize entry
// reports that.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/BitNet.h"
#include "kernels/ref/Runner.h"

#include <cmath>

using namespace hfq::kernels;

namespace {

bool bitnetForward(const LinearCall &call, const BitnetArgs &args,
                   std::string &error) {
  // The generated decoder has checked that mode is 0, 1 or 2.
  const int64_t mode = args.mode;
  size_t expected = mode == 2 ? 1 : 2;
  if (call.packed.size() != expected) {
    error = "expected " + std::to_string(expected) + " packed tensors (" +
            (mode == 2 ? "weight" : "weight, weight_scale") + "), got " +
            std::to_string(call.packed.size());
    return false;
  }
  if (mode == 0) {
    std::vector<float> y;
    return bitnetLinear(call.x, call.m, call.packed[0], call.packed[1], call.n,
                        call.k, nullptr, y, error) &&
           storeOutput(call, y, "the BitNet linear", error);
  }
  std::vector<int8_t> xq;
  std::vector<float> sx;
  if (!quantizeBitnetActivations(call.x, call.m, call.k, xq, sx, error))
    return false;
  std::vector<float> xf(static_cast<size_t>(call.m * call.k));
  for (int64_t i = 0; i < call.m; ++i)
    for (int64_t j = 0; j < call.k; ++j)
      xf[i * call.k + j] = static_cast<float>(xq[i * call.k + j]) / sx[i];
  std::vector<float> w(static_cast<size_t>(call.n * call.k));
  float outScale = 1.0f;
  if (mode == 1) {
    std::vector<int8_t> t;
    if (!unpackBitnetTernary(call.packed[0], call.n, call.k, t, error))
      return false;
    const TensorView &ws = call.packed[1];
    if (!expectFloatView(ws, "weight_scale", {1}, error))
      return false;
    outScale = ws.at(0);
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = static_cast<float>(t[i]);
  } else {
    const TensorView &wt = call.packed[0];
    if (!checkMatrixShape("BitNet online weight", call.n, call.k, error) ||
        !expectFloatView(wt, "weight", {call.n, call.k}, error))
      return false;
    double sum = 0;
    for (int64_t i = 0; i < call.n * call.k; ++i) {
      float v = wt.at(i);
      if (!std::isfinite(v)) {
        error = "weight has a non-finite value at flat index " +
                std::to_string(i);
        return false;
      }
      sum += std::fabs(v);
    }
    float mean = static_cast<float>(sum / static_cast<double>(call.n * call.k));
    float s = 1.0f / std::max(mean, 1e-5f);
    for (int64_t i = 0; i < call.n * call.k; ++i) {
      float q = std::nearbyint(wt.at(i) * s);
      w[i] = std::min(1.0f, std::max(-1.0f, q)) / s;
    }
  }
  referenceLinear(xf.data(), w.data(), nullptr, call.m, call.n, call.k, call.y);
  for (int64_t i = 0; i < call.m * call.n; ++i)
    call.y[i] *= outScale;
  return true;
}

} // namespace

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_bitnet, bitnetForward)
HFQ_REFUSE_QUANTIZE_KERNEL(
    hfq_ref_bitnet,
    "BitNet requires a pre-quantized checkpoint (requires_calibration: "
    "transformers cannot quantize a model to BitNet at load)")
