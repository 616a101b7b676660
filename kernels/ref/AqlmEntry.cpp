//===- AqlmEntry.cpp - AQLM through the kernel ABI -------------------------===//
//
// args (specs/aqlm.json layout): in_group_size, out_group_size,
// num_codebooks, nbits_per_codebook. Packed: codes, codebooks, scales.
// AQLM codebooks are learned over calibration data (aqlm's main.py), never
// at load, so the quantize entry reports that a pre-quantized checkpoint is
// required.
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Abi.h"
#include "kernels/ref/Aqlm.h"

using namespace hfq::kernels;

static bool aqlmDequantize(const LinearCall &call, std::vector<float> &w,
                           std::string &error) {
  if (!expectArgs(call.args,
                  {"in_group_size", "out_group_size", "num_codebooks",
                   "nbits_per_codebook"},
                  error))
    return false;
  if (call.packed.size() != 3) {
    error = "expected 3 packed tensors (codes, codebooks, scales), got " +
            std::to_string(call.packed.size());
    return false;
  }
  AqlmParams p;
  p.inGroupSize = static_cast<int64_t>(call.args[0]);
  p.outGroupSize = static_cast<int64_t>(call.args[1]);
  p.numCodebooks = static_cast<int64_t>(call.args[2]);
  p.nbitsPerCodebook = static_cast<int>(call.args[3]);
  return dequantizeAqlm(call.packed[0], call.packed[1], call.packed[2], call.n,
                        call.k, p, w, error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_aqlm, forwardByDequantizing(aqlmDequantize))

static bool aqlmQuantize(const QuantizeCall &, std::vector<StoredTensor> &,
                         std::string &error) {
  error = "AQLM quantization learns codebooks over calibration data (aqlm's "
          "main.py), which transformers never does at load; hfq runs "
          "pre-quantized AQLM checkpoints only";
  return false;
}

HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_aqlm, aqlmQuantize)
