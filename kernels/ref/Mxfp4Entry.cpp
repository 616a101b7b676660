//===- Mxfp4Entry.cpp - MXFP4 through the kernel ABI ----------------------===//
//
// args: Mxfp4Args (specs/mxfp4.json: dequantize). Packed: blocks ui8
// [N, K/32, 16], scales ui8 [N, K/32].
//
// hfq_ref_mxfp4: W = dequantizeMxfp4(blocks, scales) (exact in bf16, as
// transformers' dequantize path computes it), then y = x·Wᵀ in f32. The
// triton matmul transformers runs otherwise reads the same W and rounds its
// accumulation differently: kernels match this to a tolerance.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Mxfp4.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

static bool mxfp4Dequantize(const LinearCall &call, const Mxfp4Args &,
                            std::vector<float> &w, std::string &error) {
  return expectLayoutTensors<Mxfp4Args>(call.packed, error) &&
         dequantizeMxfp4(call.packed[0], call.packed[1], call.n, call.k, w,
                         error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_mxfp4, mxfp4Dequantize)
