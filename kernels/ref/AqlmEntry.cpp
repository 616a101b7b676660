//===- AqlmEntry.cpp - AQLM through the kernel ABI ------------------------===//
//
// args: AqlmArgs (specs/aqlm.json: in_group_size, out_group_size,
// num_codebooks, nbits_per_codebook). Packed: codes, codebooks, scales.
// AQLM codebooks are learned over calibration data (aqlm's main.py), never
// at load, so the quantize entry reports that a pre-quantized checkpoint is
// required.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Aqlm.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

static bool aqlmDequantize(const LinearCall &call, const AqlmArgs &args,
                           std::vector<float> &w, std::string &error) {
  if (!expectLayoutTensors<AqlmArgs>(call.packed, error))
    return false;
  AqlmParams p;
  p.inGroupSize = args.in_group_size;
  p.outGroupSize = args.out_group_size;
  p.numCodebooks = args.num_codebooks;
  p.nbitsPerCodebook = static_cast<int>(args.nbits_per_codebook);
  return dequantizeAqlm(call.packed[0], call.packed[1], call.packed[2], call.n,
                        call.k, p, w, error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_aqlm, aqlmDequantize)
HFQ_REFUSE_QUANTIZE_KERNEL(
    hfq_ref_aqlm,
    "AQLM quantization learns codebooks over calibration data (aqlm's "
    "main.py), which transformers never does at load; hfq runs pre-quantized "
    "AQLM checkpoints only")
