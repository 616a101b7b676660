//===- Nvfp4Entry.cpp - NVFP4 through the kernel ABI ----------------------===//
//
// No args (Nvfp4Args, specs/nvfp4.json). Packed: weight ui8 [N, K/2],
// weight_scale f8E4M3FN [N, K/16], weight_scale_2 f32 [], input_scale f32 [].
//
// hfq_ref_nvfp4: W = dequantizeNvfp4(weight, weight_scale, weight_scale_2)
// (exact up to the one f32 product), then y = x·Wᵀ in f32 on unquantized
// activations. transformers' NVFP4Linear runs the hub kernel, which
// quantizes activations for its W4A4 prefill GEMM and not for its W4A16
// decode GEMV; how is the kernel's, not transformers', so the reference is
// the weight side exactly and input_scale is checked (f32 [], positive and
// finite) but not applied: a CUDA kernel matches it to the tolerance of one
// NVFP4 rounding of x.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Nvfp4.h"
#include "kernels/ref/Runner.h"

#include "kernels/abi/StoredTensor.h"

#include <cmath>

using namespace hfq::kernels;

static bool nvfp4Dequantize(const LinearCall &call, const Nvfp4Args &,
                            std::vector<float> &w, std::string &error) {
  if (!expectLayoutTensors<Nvfp4Args>(call.packed, error) ||
      !expectView(call.packed[3], "input_scale", DType::F32, {}, error))
    return false;
  const float inputScale = call.packed[3].at(0);
  if (!(inputScale > 0.0f) || !std::isfinite(inputScale)) {
    error = "nvfp4: input_scale must be positive and finite, got " +
            std::to_string(inputScale);
    return false;
  }
  return dequantizeNvfp4(call.packed[0], call.packed[1], call.packed[2], call.n,
                         call.k, w, error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_nvfp4, nvfp4Dequantize)
