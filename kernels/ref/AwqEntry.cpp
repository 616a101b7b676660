//===- AwqEntry.cpp - AWQ through the kernel ABI ---------------------------===//
//
// args (specs/awq.json layouts): bits, group_size, version (0 = gemm,
// 1 = gemv, 2 = gemv_fast / llm-awq). Packed: qweight, qzeros, scales
// (gemm / gemv). The reference has no gemv_fast dequantizer and says so.
// AWQ has no on-the-fly quantizer in transformers (AutoAWQ calibrates
// activation-aware scales over a dataset), so the quantize entry reports it.
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Abi.h"
#include "kernels/ref/Awq.h"

using namespace hfq::kernels;

static bool awqDequantize(const LinearCall &call, std::vector<float> &w,
                          std::string &error) {
  if (!expectArgs(call.args, {"bits", "group_size", "version"}, error))
    return false;
  AwqParams p;
  p.bits = static_cast<int>(call.args[0]);
  p.groupSize = static_cast<int64_t>(call.args[1]);
  double version = call.args[2];
  if (version == 0.0) {
    p.version = AwqVersion::Gemm;
  } else if (version == 1.0) {
    p.version = AwqVersion::Gemv;
  } else if (version == 2.0) {
    error = "AWQ gemv_fast / llm-awq checkpoints have no CPU reference "
            "dequantizer in hfq yet (supported: gemm, gemv)";
    return false;
  } else {
    error = "unknown AWQ layout version " + std::to_string(version) +
            " (0 = gemm, 1 = gemv, 2 = gemv_fast)";
    return false;
  }
  if (call.packed.size() != 3) {
    error = "expected 3 packed tensors (qweight, qzeros, scales), got " +
            std::to_string(call.packed.size());
    return false;
  }
  return dequantizeAwq(call.packed[0], call.packed[1], call.packed[2], call.n,
                       call.k, p, w, error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_awq, forwardByDequantizing(awqDequantize))

static bool awqQuantize(const QuantizeCall &, std::vector<StoredTensor> &,
                        std::string &error) {
  error = "AWQ quantization needs calibration data (AutoAWQ searches "
          "activation-aware scales over a dataset); hfq runs pre-quantized "
          "AWQ checkpoints only";
  return false;
}

HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_awq, awqQuantize)
