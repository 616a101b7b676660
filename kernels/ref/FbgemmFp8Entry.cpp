//===- FbgemmFp8Entry.cpp - FBGEMM FP8 through the kernel ABI -------------===//
//
// No args (FbgemmFp8Args, specs/fbgemm_fp8.json). Packed: weight f8E4M3FN
// [N, K], weight_scale f32 [N, 1].
//
// hfq_ref_fbgemm_fp8: W = dequantizeFbgemmFp8(weight, weight_scale), then
// y = x·Wᵀ in f32 (activations are not quantized; FbgemmFp8.h says why).
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/FbgemmFp8.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

static bool fbgemmFp8Dequantize(const LinearCall &call, const FbgemmFp8Args &,
                                std::vector<float> &w, std::string &error) {
  return expectLayoutTensors<FbgemmFp8Args>(call.packed, error) &&
         dequantizeFbgemmFp8(call.packed[0], call.packed[1], call.n, call.k, w,
                             error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_fbgemm_fp8, fbgemmFp8Dequantize)
