//===- GptqEntry.cpp - GPTQ through the kernel ABI -------------------------===//
//
// args (specs/gptq.json layout): bits, group_size, zero_stored_minus_one.
// Packed: qweight, qzeros, scales, g_idx. GPTQ has no on-the-fly quantizer:
// transformers runs optimum's calibration with a dataset, which a compiler
// cannot do, so `hfq_ref_gptq_quantize_f32` reports that.
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Abi.h"
#include "kernels/ref/Gptq.h"

using namespace hfq::kernels;

static bool gptqDequantize(const LinearCall &call, std::vector<float> &w,
                           std::string &error) {
  if (!expectArgs(call.args, {"bits", "group_size", "zero_stored_minus_one"},
                  error))
    return false;
  if (call.packed.size() != 4) {
    error = "expected 4 packed tensors (qweight, qzeros, scales, g_idx), got " +
            std::to_string(call.packed.size());
    return false;
  }
  GptqParams p;
  p.bits = static_cast<int>(call.args[0]);
  p.groupSize = static_cast<int64_t>(call.args[1]);
  p.zeroStoredMinusOne = call.args[2] != 0.0;
  return dequantizeGptq(call.packed[0], call.packed[1], call.packed[2],
                        call.packed[3], call.n, call.k, p, w, error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_gptq, forwardByDequantizing(gptqDequantize))

static bool gptqQuantize(const QuantizeCall &, std::vector<StoredTensor> &,
                         std::string &error) {
  error = "GPTQ quantization needs calibration data (transformers runs "
          "optimum's GPTQQuantizer over a dataset); hfq runs pre-quantized "
          "GPTQ checkpoints only";
  return false;
}

HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_gptq, gptqQuantize)
