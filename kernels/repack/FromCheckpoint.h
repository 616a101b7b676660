//===- FromCheckpoint.h - Checkpoint tensors to QuantWeight -----*- C++ -*-===//
//
// The first stage of load-time repacking (QuantWeight.h): one converter per
// method from exactly what the method's CPU reference entry point receives
// through the kernel ABI (kernels/include/hfq_kernels.h) — the `args` of the
// method's layout in specs/<method>.json, in order, and the layout's tensors,
// in order — to the canonical QuantWeight. Shapes, dtypes and arguments are
// validated as the reference (kernels/ref) validates them, with its helpers
// where it exports them; anything malformed or not covered is an error
// naming the tensor or argument, never undefined behaviour.
//
// Covered (method key: layout -> ZeroKind):
//   gptq                 4/8-bit, both zero conventions, act-order g_idx
//                        -> Integer (Symmetric when every zero is 2^(b-1))
//   awq                  version 0 (gemm) -> Integer
//   compressed-tensors   int weight-only pack-quantized (4/8-bit; group,
//                        channel, tensor; sym/asym; actorder g_idx) and
//                        int-quantized / naive-quantized (4/8-bit)
//                        -> Symmetric or Integer (signed v -> v + 2^(b-1))
//   hqq                  axis 1, nbits 4 (bits 4) or 8/6/5 (bits 8) -> Offset
//   torchao              Int4WeightOnly (tile_packed_to_4d, plain) -> Offset;
//                        Int8WeightOnly -> Symmetric
//   quanto               int8 -> Symmetric; int4 -> Offset (float shift) or
//                        Integer (integer shift)
//   eetq                 int8 (FasterTransformer layout undone) -> Symmetric
//   bitsandbytes_8bit    LLM.int8() weight CB, SCB -> Symmetric, scale
//                        SCB / 127 (the activation side is not represented)
// docs/kernels.md ("Repacking at load") lists what is refused and why, and
// which conversions are bit-exact against the reference dequantizer.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REPACK_FROMCHECKPOINT_H
#define HFQ_KERNELS_REPACK_FROMCHECKPOINT_H

#include "kernels/abi/Tensor.h"
#include "kernels/repack/QuantWeight.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// Converts the checkpoint tensors `packed` of one linear W [n, k] of method
/// `methodKey` (a spec quantizer key) with layout arguments `args` into
/// `out`, which then passes out.verify(). Returns false with `error` (naming
/// the method and the tensor or argument at fault) for malformed input and
/// for methods or variants that have no integer weight-only kernel layout.
bool quantWeightFromCheckpoint(const std::string &methodKey,
                               const std::vector<double> &args,
                               const std::vector<TensorView> &packed, int64_t n,
                               int64_t k, QuantWeight &out, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REPACK_FROMCHECKPOINT_H
