//===- AwqEntry.cpp - AWQ through the kernel ABI --------------------------===//
//
// args: AwqArgs (specs/awq.json: bits, group_size, version with 0 = gemm,
// 1 = gemv, 2 = gemv_fast / llm-awq). Packed: qweight, qzeros, scales
// (gemm / gemv). The reference has no gemv_fast dequantizer and says so.
// AWQ has no on-the-fly quantizer in transformers (AutoAWQ calibrates
// activation-aware scales over a dataset), so the quantize entry reports it.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Awq.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

static bool awqDequantize(const LinearCall &call, const AwqArgs &args,
                          std::vector<float> &w, std::string &error) {
  if (args.version == 2) {
    error = "AWQ gemv_fast / llm-awq checkpoints have no CPU reference "
            "dequantizer in hfq yet (supported: gemm, gemv)";
    return false;
  }
  AwqParams p;
  p.bits = static_cast<int>(args.bits);
  p.groupSize = args.group_size;
  p.version = args.version == 0 ? AwqVersion::Gemm : AwqVersion::Gemv;
  return expectTensorCount(call.packed.size(), 3, "qweight, qzeros, scales",
                           error) &&
         dequantizeAwq(call.packed[0], call.packed[1], call.packed[2], call.n,
                       call.k, p, w, error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_awq, awqDequantize)
HFQ_REFUSE_QUANTIZE_KERNEL(
    hfq_ref_awq,
    "AWQ quantization needs calibration data (AutoAWQ searches "
    "activation-aware scales over a dataset); hfq runs pre-quantized AWQ "
    "checkpoints only")
