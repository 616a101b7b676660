//===- EetqEntry.cpp - EETQ through the kernel ABI -------------------------===//
//
// No args (specs/eetq.json). Packed: weight (FasterTransformer-preprocessed
// i8 [K, N]), weight_scales (f16 [N]). transformers quantizes EETQ at load,
// so the quantize entry runs EETQ's symmetric_quantize + preprocessing.
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Abi.h"
#include "kernels/ref/Eetq.h"

using namespace hfq::kernels;

static bool eetqDequantize(const LinearCall &call, std::vector<float> &w,
                           std::string &error) {
  if (!expectArgs(call.args, {}, error))
    return false;
  if (call.packed.size() != 2) {
    error = "expected 2 packed tensors (weight, weight_scales), got " +
            std::to_string(call.packed.size());
    return false;
  }
  return dequantizeEetq(call.packed[0], call.packed[1], call.n, call.k, w,
                        error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_eetq, forwardByDequantizing(eetqDequantize))

static bool eetqQuantize(const QuantizeCall &call,
                         std::vector<StoredTensor> &packed,
                         std::string &error) {
  if (!expectArgs(call.args, {}, error))
    return false;
  StoredTensor weight, scales;
  if (!quantizeEetq(call.w, call.n, call.k, weight, scales, error))
    return false;
  packed.push_back(std::move(weight));
  packed.push_back(std::move(scales));
  return true;
}

HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_eetq, eetqQuantize)
