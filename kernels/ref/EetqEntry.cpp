//===- EetqEntry.cpp - EETQ through the kernel ABI ------------------------===//
//
// No args (EetqArgs, specs/eetq.json). Packed: weight
// (FasterTransformer-preprocessed i8 [K, N]), weight_scales (f16 [N]).
// transformers quantizes EETQ at load, so the quantize entry runs EETQ's
// symmetric_quantize + preprocessing.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Eetq.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

static bool eetqDequantize(const LinearCall &call, const EetqArgs &,
                           std::vector<float> &w, std::string &error) {
  return expectLayoutTensors<EetqArgs>(call.packed, error) &&
         dequantizeEetq(call.packed[0], call.packed[1], call.n, call.k, w,
                        error);
}

static bool eetqQuantize(const QuantizeCall &call, const EetqArgs &,
                         std::vector<StoredTensor> &packed,
                         std::string &error) {
  StoredTensor weight, scales;
  if (!quantizeEetq(call.w, call.n, call.k, weight, scales, error))
    return false;
  packed.push_back(std::move(weight));
  packed.push_back(std::move(scales));
  return true;
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_eetq, eetqDequantize)
HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_eetq, eetqQuantize)
