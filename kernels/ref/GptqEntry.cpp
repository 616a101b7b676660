//===- GptqEntry.cpp - GPTQ through the kernel ABI ------------------------===//
//
// args: GptqArgs (specs/gptq.json: bits, group_size, zero_stored_minus_one).
// Packed: qweight, qzeros, scales, g_idx. GPTQ has no on-the-fly quantizer:
// transformers runs optimum's calibration with a dataset, which a compiler
// cannot do, so `hfq_ref_gptq_quantize_f32` reports that.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Gptq.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

GptqParams hfq::kernels::gptqParams(const GptqArgs &args) {
  GptqParams p;
  p.bits = static_cast<int>(args.bits);
  p.groupSize = args.group_size;
  p.zeroStoredMinusOne = args.zero_stored_minus_one;
  return p;
}

static bool gptqDequantize(const LinearCall &call, const GptqArgs &args,
                           std::vector<float> &w, std::string &error) {
  return expectLayoutTensors<GptqArgs>(call.packed, error) &&
         dequantizeGptq(call.packed[0], call.packed[1], call.packed[2],
                        call.packed[3], call.n, call.k, gptqParams(args), w,
                        error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_gptq, gptqDequantize)
HFQ_REFUSE_QUANTIZE_KERNEL(
    hfq_ref_gptq,
    "GPTQ quantization needs calibration data (transformers runs optimum's "
    "GPTQQuantizer over a dataset); hfq runs pre-quantized GPTQ checkpoints "
    "only")
