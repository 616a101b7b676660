//===- CompressedTensorsEntry.cpp - compressed-tensors through the ABI -----===//
//
// args (specs/compressed-tensors.json layouts): block_n, block_k (float
// block strategy; first so that the shared hfq_fp8_dequant_bf16 fallback can
// read them), format (0 pack-quantized, 1 int-quantized, 2 naive-quantized
// int, 3 float-quantized, 4 naive-quantized float), num_bits, strategy
// (0 tensor, 1 channel, 2 group, 3 block), group_size, asymmetric, g_idx,
// input_mode (0 none, 1 dynamic int, 2 static, 3 dynamic float).
// Packed, in layout order: the weight (weight_packed or weight), weight_scale,
// weight_zero_point when asymmetric, weight_g_idx when g_idx,
// weight_shape (pack-quantized), input_scale (static activations).
//
// Forward: int8 W8A8 with dynamic per-token int8 activations (symmetric,
// channel or tensor) runs the exact integer GEMM with the W8A8 kernels'
// absmax/127 token scale; weight-only schemes dequantize then run a dense
// linear (float weights too, as the decompressed model does). Static input
// scales and other activation-quantized int schemes are reported as
// unsupported. compressed-tensors is pre-quantized only (requires_calibration).
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Abi.h"
#include "kernels/ref/CompressedTensors.h"

#include <cmath>

using namespace hfq::kernels;

namespace {

bool isNonNegInt(double v) {
  return v >= 0 && v == std::floor(v) && v <= (1 << 30);
}

bool ctForward(const LinearCall &call, std::string &error) {
  if (!expectArgs(call.args,
                  {"block_n", "block_k", "format", "num_bits", "strategy",
                   "group_size", "asymmetric", "g_idx", "input_mode"},
                  error))
    return false;
  const std::vector<double> &a = call.args;
  static const char *names[] = {"block_n", "block_k", "format",
                                "num_bits", "strategy", "group_size"};
  for (int i = 0; i < 6; ++i)
    if (!isNonNegInt(a[i])) {
      error = std::string(names[i]) + " must be a non-negative integer, got " +
              std::to_string(a[i]);
      return false;
    }
  int format = static_cast<int>(a[2]);
  int strategy = static_cast<int>(a[4]);
  bool asym = a[6] != 0.0, gidx = a[7] != 0.0;
  int inputMode = static_cast<int>(a[8]);
  if (format > 4 || strategy > 3 || inputMode < 0 || inputMode > 3 ||
      a[8] != std::floor(a[8])) {
    error = "format (0..4), strategy (0..3) or input_mode (0..3) out of range";
    return false;
  }
  CtWeightScheme scheme;
  scheme.bits = static_cast<int>(a[3]);
  scheme.strategy = static_cast<CtStrategy>(strategy);
  scheme.groupSize = static_cast<int64_t>(a[5]);
  scheme.blockN = static_cast<int64_t>(a[0]);
  scheme.blockK = static_cast<int64_t>(a[1]);
  if (scheme.strategy == CtStrategy::Group && scheme.groupSize == 0) {
    error = "group strategy needs a positive group_size";
    return false;
  }
  bool isFloat = format >= 3;
  size_t expected = 2 + (asym ? 1 : 0) + (gidx ? 1 : 0) + (format == 0 ? 1 : 0) +
                    (inputMode == 2 ? 1 : 0);
  if (call.packed.size() != expected) {
    error = "expected " + std::to_string(expected) +
            " packed tensors for this scheme, got " +
            std::to_string(call.packed.size());
    return false;
  }
  const auto &p = call.packed;
  size_t next = 2;
  const TensorView *zp = asym ? &p[next++] : nullptr;
  const TensorView *gi = gidx ? &p[next++] : nullptr;
  const TensorView *shape = format == 0 ? &p[next++] : nullptr;

  if (!isFloat && inputMode == 2) {
    error = "compressed-tensors int schemes with static input scales "
            "(input_scale) have no CPU reference forward";
    return false;
  }
  if (!isFloat && inputMode == 1) {
    if (format == 0 || scheme.bits != 8 || asym ||
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
  bool ok = format == 0 ? dequantizeCtPacked(scheme, p[0], p[1], zp, gi, shape,
                                             call.n, call.k, w, error)
            : isFloat   ? dequantizeCtFloat(scheme, p[0], p[1], call.n, call.k,
                                            w, error)
                        : dequantizeCtInt(scheme, p[0], p[1], zp, gi, call.n,
                                          call.k, w, error);
  if (!ok)
    return false;
  return linearWithWeight(call, w, error);
}

bool ctQuantize(const QuantizeCall &, std::vector<StoredTensor> &,
                std::string &error) {
  error = "compressed-tensors requires a pre-quantized checkpoint "
          "(requires_calibration: llm-compressor produces it with "
          "calibration data); hfq runs compressed-tensors checkpoints only";
  return false;
}

} // namespace

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_compressed_tensors, ctForward)
HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_compressed_tensors, ctQuantize)
