//===- AutoRound.h - AutoRound checkpoint reference (GPTQ/AWQ) --*- C++ -*-===//
//
// Exact CPU reference of the integer weight-only checkpoints Intel's
// auto-round writes with quant_method "auto-round" (specs/auto-round.json).
// auto-round has no packing of its own for them: its packing_format names
// the GPTQ or the AWQ words, which the gptq and awq references already read
// (kernels/ref/Gptq.h, Awq.h). This file only maps the auto-round layout's
// args onto theirs; no bit is unpacked here.
//
//  GPTQ packing (kernel hfq_ref_auto_round_gptq):
//    qweight i32 [K * bits / 32, N], qzeros i32 [G, N * bits / 32],
//    scales f16 [G, N], and g_idx i32 [K] when args.g_idx
//    (auto_round:gptqmodel). zero_stored_minus_one: auto_round:auto_gptq and
//    auto_round:gptq (AutoGPTQ v1, auto-round's qlinear_torch_zp); the
//    zero as is: auto_round and auto_round:gptqmodel (qlinear_torch).
//    Bits 2, 3, 4, 8.
//
//  AWQ packing (kernel hfq_ref_auto_round_awq): AutoAWQ's WQLinear_GEMM
//    (auto_round:auto_awq, auto_round:awq), 4 bits, zero as is.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_AUTOROUND_H
#define HFQ_KERNELS_REF_AUTOROUND_H

#include "kernels/abi/Tensor.h"
#include "kernels/ref/Awq.h"
#include "kernels/ref/Gptq.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

struct AutoRoundArgs; // kernels/generated/MethodArgs.h

/// The GPTQ reference's parameters for an auto-round GPTQ packing.
GptqParams autoRoundGptqParams(const AutoRoundArgs &args);

/// The AWQ reference's parameters for auto-round's AWQ (gemm) packing.
AwqParams autoRoundAwqParams(const AutoRoundArgs &args);

/// Dequantizes a GPTQ-packed auto-round layer to W[N, K] row-major floats:
/// `packed` is qweight, qzeros, scales, then g_idx exactly when args.g_idx.
/// False with `error` on a wrong tensor count, shape, dtype, bit width or
/// group size (the gptq reference's checks).
bool dequantizeAutoRoundGptq(const std::vector<TensorView> &packed, int64_t n,
                             int64_t k, const AutoRoundArgs &args,
                             std::vector<float> &w, std::string &error);

/// Dequantizes an AWQ-packed auto-round layer (qweight, qzeros, scales) to
/// W[N, K]. The AWQ packing has neither a zero offset nor g_idx: args that
/// say otherwise are refused.
bool dequantizeAutoRoundAwq(const std::vector<TensorView> &packed, int64_t n,
                            int64_t k, const AutoRoundArgs &args,
                            std::vector<float> &w, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_AUTOROUND_H
