//===- ModelOps.h - The model ops' CPU reference, on floats -----*- C++ -*-===//
//
// The math of the model ops of kernels/include/hfq_model_ops.h (embedding,
// RMSNorm, rotary embedding, attention over a KV cache, SiLU-gated product,
// residual add) on dense row-major float buffers, without the ABI: the
// entry points (ModelOpsEntry.cpp) decode and check the memrefs, convert the
// activations to f32, call these, and round the result once to the
// activation type on the way out. Where transformers' module holds an
// intermediate tensor in the activation dtype (RMSNorm's normalized x,
// rotary's cos / sin, SiLU's output), these round it to the activation
// type (roundToDType: the identity for f32). Reductions (sums of squares,
// dot products, softmax sums) accumulate in double and round to f32 once:
// the f32 result, not one particular summation order of it.
//
// The entry points themselves are declared at the end, for callers in C++
// (the unit tests); lowered IR calls them through `llvm.emit_c_interface`.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_MODELOPS_H
#define HFQ_KERNELS_REF_MODELOPS_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"
#include "kernels/include/hfq_model_ops.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// A float checkpoint tensor (f32, f16 or bf16) of exactly `shape`, as
/// floats; false with an error naming `name` (its dtype or shape) otherwise.
bool readFloatWeight(const TensorView &tensor,
                     const std::vector<int64_t> &shape, const char *name,
                     std::vector<float> &out, std::string &error);

/// y [T, H] = rows ids[t] of the embedding table [V, H] (any float dtype);
/// an id outside [0, V) or a table not [V, H] is an error.
bool embedding(const TensorView &table, const std::vector<int64_t> &ids,
               int64_t hidden, std::vector<float> &y, std::string &error);

/// LlamaRMSNorm of x [rows, d] with weight w [d] and `eps`:
/// h = round(x * rsqrt(mean(x^2) + eps)), y = w * h (rounded by the caller).
void rmsNorm(const std::vector<float> &x, int64_t rows, int64_t d, float eps,
             const std::vector<float> &w, DType act, std::vector<float> &y);

/// The args of rotary and attention, decoded and checked.
struct RotaryParams {
  int64_t headDim = 0;
  float attentionScaling = 1.0f;
};
struct AttentionParams {
  int64_t layer = 0, numHeads = 0, numKvHeads = 0, headDim = 0;
  float scaling = 1.0f;
  int64_t slidingWindow = 0; ///< 0: none
};

/// RMSNorm's [eps]: finite and non-negative.
bool decodeRmsNormArgs(const std::vector<double> &args, float &eps,
                       std::string &error);
/// Rotary's [head_dim, attention_scaling]: an even positive head_dim, a
/// finite scaling.
bool decodeRotaryArgs(const std::vector<double> &args, RotaryParams &out,
                      std::string &error);
/// Attention's six args (HfqAttentionArg): non-negative integral layer and
/// window, positive integral head counts (num_heads a multiple of
/// num_kv_heads) and head_dim, a finite scaling.
bool decodeAttentionArgs(const std::vector<double> &args, AttentionParams &out,
                         std::string &error);

/// Rotate-half RoPE of x [T, width] (heads of p.headDim, width a multiple
/// of it) at `positions` with `invFreq` [headDim / 2]; cos and sin round to
/// `act`, y is rounded by the caller.
void rotary(const std::vector<float> &x, int64_t width,
            const std::vector<int64_t> &positions,
            const std::vector<float> &invFreq, const RotaryParams &p, DType act,
            std::vector<float> &y);

/// out [T, H * D] of the queries q [T, H * D] at `positions` over one
/// layer's cached keys and values [P, KV, D] (positions 0..P-1, every
/// positions[t] < P): causal, with p.slidingWindow, query head h reading KV
/// head h / (H / KV). Rounded by the caller.
void attention(const std::vector<float> &q,
               const std::vector<int64_t> &positions,
               const std::vector<float> &keys, const std::vector<float> &values,
               const AttentionParams &p, std::vector<float> &out);

/// An elementwise op of two same-sized operands, for activation type
/// `act`; its final rounding is the caller's.
using ElementwiseOp = void (*)(const std::vector<float> &a,
                               const std::vector<float> &b, DType act,
                               std::vector<float> &y);

/// y = round(silu(gate)) * up.
void siluMul(const std::vector<float> &gate, const std::vector<float> &up,
             DType act, std::vector<float> &y);
/// y = a + b (the residual add).
void residualAdd(const std::vector<float> &a, const std::vector<float> &b,
                 DType act, std::vector<float> &y);

} // namespace hfq::kernels

// The entry points' declarations: kernels/abi/ModelOpEntries.h.
#include "kernels/abi/ModelOpEntries.h"

#endif // HFQ_KERNELS_REF_MODELOPS_H
