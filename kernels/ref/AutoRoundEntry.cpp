//===- AutoRoundEntry.cpp - AutoRound through the kernel ABI --------------===//
//
// args: AutoRoundArgs (specs/auto-round.json: bits, group_size,
// zero_stored_minus_one, g_idx). The spec's kernel rules pick the kernel
// from packing_format: hfq_ref_auto_round_gptq for the GPTQ packings
// (qweight, qzeros, scales, and g_idx when args.g_idx),
// hfq_ref_auto_round_awq for the AWQ one (qweight, qzeros, scales).
// auto-round is pre-quantized only (transformers' AutoRoundQuantizer
// refuses anything else), so the quantize entry of the last rule reports
// that.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/AutoRound.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

static bool autoRoundGptqDequantize(const LinearCall &call,
                                    const AutoRoundArgs &args,
                                    std::vector<float> &w, std::string &error) {
  return dequantizeAutoRoundGptq(call.packed, call.n, call.k, args, w, error);
}

static bool autoRoundAwqDequantize(const LinearCall &call,
                                   const AutoRoundArgs &args,
                                   std::vector<float> &w, std::string &error) {
  return dequantizeAutoRoundAwq(call.packed, call.n, call.k, args, w, error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_auto_round_gptq, autoRoundGptqDequantize)
HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_auto_round_awq, autoRoundAwqDequantize)
HFQ_REFUSE_QUANTIZE_KERNEL(
    hfq_ref_auto_round_gptq,
    "AutoRound quantization needs calibration data (auto-round tunes the "
    "rounding over a dataset; transformers loads pre-quantized AutoRound "
    "checkpoints only)")
