//===- Mxfp8Entry.cpp - MXFP8 through the kernel ABI ----------------------===//
//
// args: Mxfp8Args (specs/mxfp8.json: block_n, block_k with 0, 0 = one scale,
// static_activation, dequantize). Packed: weight f8E4M3FN [N, K],
// weight_scale_inv ui8 [N/bn, K/bk] (or []) and, with activation_scheme
// "static", activation_scale.
//
// hfq_ref_mxfp8: transformers' dequantize path, the one it takes without a
// GPU or below sm_89: W = dequantizeMxfp8(weight, weight_scale_inv) (exact),
// then y = x·Wᵀ in f32 on unquantized activations; activation_scale is
// loaded and unused, as Fp8Dequantize drops it. On sm_89+ transformers
// quantizes activations per token per block_k instead (a planned CUDA
// kernel): kernels match this to a tolerance.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Mxfp8.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

static bool mxfp8Dequantize(const LinearCall &call, const Mxfp8Args &args,
                            std::vector<float> &w, std::string &error) {
  const size_t expected = args.static_activation ? 3 : 2;
  if (call.packed.size() != expected) {
    error = "expected " + std::to_string(expected) +
            " packed tensors (weight, weight_scale_inv" +
            (args.static_activation ? ", activation_scale" : "") + "), got " +
            std::to_string(call.packed.size());
    return false;
  }
  return dequantizeMxfp8(call.packed[0], call.packed[1], call.n, call.k,
                         args.block_n, args.block_k, w, error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_mxfp8, mxfp8Dequantize)
