//===- hfq_model_ops.h - The model ops' kernels, one C ABI ------*- C++ -*-===//
//
// A whole decoder (hfq-import's model IR) needs, besides its linear layers
// (hfq_kernels.h), a handful of ops: the embedding gather, RMSNorm, rotary
// position embedding, attention over a KV cache, SiLU-gated product,
// residual add, and the unquantized linear. Each is one kernel behind a
// C signature of the same style as the linears' (MLIR's
// `llvm.emit_c_interface`), for activation element type <act> in
// {f32, f16, bf16}: `Act` is float, or the 16-bit storage of f16 / bf16.
// The CPU reference (kernels/ref/ModelOps*.cpp, in libhfq_kernels_ref.so)
// implements every one; a GPU runtime implements the same symbols.
//
// Weights (checkpoint tensors of any float dtype: f32, f16, bf16) travel in
// a tensor table exactly as a linear's packed tensors do (hfq_kernels.h:
// memref<?x8xi64>, one row per tensor), so a bf16 checkpoint runs with f32
// activations and vice versa. Activations are dense row-major memrefs.
//
// Numerics follow transformers' modules (docs/model-ops.md): each op
// computes in f32 and rounds its result once to Act, at the points where
// transformers' module returns a tensor of the activation dtype.
//
//   hfq_embedding_<act>(y [T, H], ids i64 [T], weights: table[0] = [V, H])
//     y[t] = weight[ids[t]]; an id outside [0, V) is an error.
//
//   hfq_rms_norm_<act>(y [R, D], x [R, D], args f64 [eps],
//                      weights: table[0] = w [D])
//     LlamaRMSNorm: h = x * rsqrt(mean(x^2) + eps) in f32, rounded to Act;
//     y = w * h, rounded to Act.
//
//   hfq_rotary_<act>(y [T, Hn*D], x [T, Hn*D], positions i64 [T],
//                    inv_freq f32 [D/2], args f64 [head_dim, attention_scaling])
//     Rotate-half RoPE on each of the Hn heads of width D = head_dim:
//     angle(t, i) = f32(positions[t]) * inv_freq[i] (i < D/2, repeated for
//     the second half); cos/sin times attention_scaling, rounded to Act;
//     y = x * cos + rotate_half(x) * sin, with rotate_half(x) =
//     cat(-x[D/2:], x[:D/2]).
//
//   hfq_attention_<act>(out [T, H*D], q [T, H*D], k [T, KV*D], v [T, KV*D],
//                       positions i64 [T], cache Act [L, 2, S, KV, D],
//                       args f64 [layer, num_heads, num_kv_heads, head_dim,
//                                 scaling, sliding_window])
//     First writes k[t] and v[t] into cache[layer][0 / 1][positions[t]]
//     for every t; then, for query t of head h (KV head h / (H / KV)),
//     softmax(scaling * q·k_j) over the cached positions j with
//     j <= positions[t] (and j > positions[t] - sliding_window when
//     sliding_window > 0), in f32, weighted sum of v_j, rounded to Act.
//     Positions must lie in [0, S); the cache rows of earlier positions
//     must have been written by earlier calls (prefill, then decode).
//
//   hfq_silu_mul_<act>(y [R, N], gate [R, N], up [R, N])
//     y = round(round(silu(gate)) * up)  (act_fn(gate_proj(x)) * up_proj(x))
//
//   hfq_add_<act>(y [R, N], a [R, N], b [R, N])
//     y = round(a + b)   (the residual add)
//
//   hfq_linear_<act>: the linear ABI of hfq_kernels.h (y, x, bias, args,
//     packed) with no args and packed = [weight [N, K]]: y = x·Wᵀ (+ bias),
//     accumulated in f32 and rounded once: the unquantized nn.Linear.
//
// Every entry returns 0, or non-zero with hfq_kernel_last_error() naming
// the kernel and what is wrong (a size that disagrees, a null descriptor, a
// position outside the cache, an unsupported weight dtype); outputs are
// then untouched. Nothing is assumed about the caller.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_MODEL_OPS_H
#define HFQ_MODEL_OPS_H

#include "kernels/include/hfq_kernels.h"

/// The args of hfq_attention_<act>, by position.
enum HfqAttentionArg {
  HFQ_ATTN_LAYER = 0,
  HFQ_ATTN_NUM_HEADS = 1,
  HFQ_ATTN_NUM_KV_HEADS = 2,
  HFQ_ATTN_HEAD_DIM = 3,
  HFQ_ATTN_SCALING = 4,
  HFQ_ATTN_SLIDING_WINDOW = 5,
  HFQ_ATTN_ARG_COUNT = 6,
};

/// The args of hfq_rotary_<act>, by position.
enum HfqRotaryArg {
  HFQ_ROPE_HEAD_DIM = 0,
  HFQ_ROPE_ATTENTION_SCALING = 1,
  HFQ_ROPE_ARG_COUNT = 2,
};

#endif // HFQ_MODEL_OPS_H
