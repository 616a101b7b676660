//===- CompressedTensorsEntry.cpp - compressed-tensors through the ABI ----===//
//
// args: CompressedTensorsArgs (specs/compressed-tensors.json layouts):
// block_n, block_k (float block strategy; first so that the shared
// hfq_fp8_dequant_bf16 fallback can read them), format, num_bits, strategy
// (0 tensor, 1 channel, 2 group, 3 block), group_size, asymmetric, g_idx,
// input_mode; CtLayout names the codes. Packed, in layout order: the weight
// (weight_packed or weight), weight_scale, weight_zero_point when
// asymmetric, weight_g_idx when g_idx, weight_shape (pack-quantized),
// input_scale (static activations).
//
// Forward: int8 W8A8 with dynamic per-token int8 activations (symmetric,
// channel or tensor) runs the exact integer GEMM with the W8A8 kernels'
// absmax/127 token scale; weight-only schemes dequantize then run a dense
// linear (float weights too, as the decompressed model does). Static input
// scales and other activation-quantized int schemes are reported as
// unsupported. compressed-tensors is pre-quantized only (requires_calibration).
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/CompressedTensors.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

size_t CtLayout::tensorCount() const {
  return 2 + (asymmetric ? 1 : 0) + (gIdx ? 1 : 0) + (isPacked() ? 1 : 0) +
         (inputMode == 2 ? 1 : 0);
}

bool hfq::kernels::ctLayout(const CompressedTensorsArgs &args, size_t tensors,
                            CtLayout &layout, std::string &error) {
  const std::pair<const char *, int64_t> sizes[] = {
      {"block_n", args.block_n},
      {"block_k", args.block_k},
      {"num_bits", args.num_bits},
      {"group_size", args.group_size}};
  for (const auto &[name, v] : sizes)
    if (v < 0 || v > (1 << 30)) {
      error = std::string(name) + " must be a non-negative integer, got " +
              std::to_string(static_cast<double>(v));
      return false;
    }
  layout.format = static_cast<int>(args.format);
  layout.scheme.bits = static_cast<int>(args.num_bits);
  layout.scheme.strategy = static_cast<CtStrategy>(args.strategy);
  layout.scheme.groupSize = args.group_size;
  layout.scheme.blockN = args.block_n;
  layout.scheme.blockK = args.block_k;
  layout.asymmetric = args.asymmetric;
  layout.gIdx = args.g_idx;
  layout.inputMode = static_cast<int>(args.input_mode);
  if (layout.scheme.strategy == CtStrategy::Group &&
      layout.scheme.groupSize == 0) {
    error = "group strategy needs a positive group_size";
    return false;
  }
  if (tensors != layout.tensorCount()) {
    error = "expected " + std::to_string(layout.tensorCount()) +
            " packed tensors for this scheme, got " + std::to_string(tensors);
    return false;
  }
  return true;
}

CtOptionalTensors
hfq::kernels::ctOptionalTensors(const CtLayout &layout,
                                const std::vector<TensorView> &packed) {
  CtOptionalTensors out;
  size_t next = 2;
  out.zeroPoint = layout.asymmetric ? &packed[next++] : nullptr;
  out.gIdx = layout.gIdx ? &packed[next++] : nullptr;
  out.shape = layout.isPacked() ? &packed[next++] : nullptr;
  return out;
}

namespace {

bool ctForward(const LinearCall &call, const CompressedTensorsArgs &args,
               std::string &error) {
  CtLayout layout;
  if (!ctLayout(args, call.packed.size(), layout, error))
    return false;
  const CtWeightScheme &scheme = layout.scheme;
  const auto &p = call.packed;
  const CtOptionalTensors opt = ctOptionalTensors(layout, p);
  if (!layout.isFloat() && layout.inputMode == 2) {
    error = "compressed-tensors int schemes with static input scales "
            "(input_scale) have no CPU reference forward";
    return false;
  }
  if (!layout.isFloat() && layout.inputMode == 1) {
    if (layout.isPacked() || scheme.bits != 8 || layout.asymmetric ||
        (scheme.strategy != CtStrategy::Channel &&
         scheme.strategy != CtStrategy::Tensor)) {
      error = "dynamic int activations are supported for symmetric 8-bit "
              "int-quantized channel / tensor weights (W8A8) only";
      return false;
    }
    std::vector<float> y;
    if (!ctInt8DynamicLinear(call.x, call.m, p[0], p[1], call.n, call.k,
                             nullptr, y, error))
      return false;
    return storeOutput(call, y, "the W8A8 linear", error);
  }
  std::vector<float> w;
  bool ok =
      layout.isPacked()
          ? dequantizeCtPacked(scheme, p[0], p[1], opt.zeroPoint, opt.gIdx,
                               opt.shape, call.n, call.k, w, error)
      : layout.isFloat()
          ? dequantizeCtFloat(scheme, p[0], p[1], call.n, call.k, w, error)
          : dequantizeCtInt(scheme, p[0], p[1], opt.zeroPoint, opt.gIdx, call.n,
                            call.k, w, error);
  return ok && linearWithWeight(call, w, error);
}

} // namespace

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_compressed_tensors, ctForward)
HFQ_REFUSE_QUANTIZE_KERNEL(
    hfq_ref_compressed_tensors,
    "compressed-tensors requires a pre-quantized checkpoint "
    "(requires_calibration: llm-compressor produces it with calibration "
    "data); hfq runs compressed-tensors checkpoints only")
