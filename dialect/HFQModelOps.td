//===- HFQModelOps.td - the ops of a decoder besides its linears -*- tablegen -*-===//
//
// What hfq-import needs to write a whole causal decoder (Llama, Mistral,
// Qwen2, Qwen3) besides hfq.linear: the embedding gather, RMSNorm, rotary
// embedding, attention over an explicit KV cache, the SiLU-gated product
// and the residual add. Each is one call of a kernel of the model-op ABI
// (kernels/include/hfq_model_ops.h) after --hfq-lower-to-runtime, with a
// CPU reference and, for GPU targets, a device kernel of the same
// signature. docs/model-import.md says why these are ops rather than
// linalg (the short version: a GPU runtime must own every buffer they
// touch, and each has a fused kernel worth more than its loops).
// Verifiers are in HFQModelOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_MODEL_OPS_TD
#define HFQ_MODEL_OPS_TD

include "dialect/HFQDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def HFQ_EmbeddingOp : HFQ_Op<"embedding", [Pure]> {
  let summary = "Token embedding: y[t] = table[ids[t]]";
  let description = [{
    The model's `nn.Embedding` named by its module path: gathers rows of the
    `[V, H]` table (any float type) for the `[T]` token ids into a `[T, H]`
    activation tensor of the result's element type.

    ```mlir
    %h = hfq.embedding "model.embed_tokens" %ids, %table
        : tensor<?xi64>, tensor<256x128xbf16> -> tensor<?x128xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name, RankedTensorOf<[I64]>:$ids,
                       AnyRankedTensor:$table);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $name $ids `,` $table attr-dict `:` type($ids) `,` type($table) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def HFQ_RmsNormOp : HFQ_Op<"rms_norm", [Pure]> {
  let summary = "RMSNorm over the last dimension (LlamaRMSNorm)";
  let description = [{
    `y = weight * (x * rsqrt(mean(x^2) + eps))`, normalized in f32 and
    rounded to the activation type as transformers' `LlamaRMSNorm` does
    (also Mistral's, Qwen2's, and Qwen3's, including its per-head q/k norm,
    applied to `[T * heads, head_dim]`).

    ```mlir
    %y = hfq.rms_norm "model.norm" %x, %w eps 1.0e-06
        : tensor<?x128xf32>, tensor<128xbf16> -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, AnyRankedTensor:$input,
                       AnyRankedTensor:$weight, F64Attr:$eps);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $name $input `,` $weight `eps` $eps attr-dict `:` type($input) `,`
    type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def HFQ_RotaryOp : HFQ_Op<"rotary", [Pure]> {
  let summary = "Rotary position embedding (rotate-half) of every head";
  let description = [{
    Applies RoPE to each `head_dim`-wide head of the `[T, heads * head_dim]`
    input at the token positions `[T]`. The rope type's frequencies are
    resolved when the model is imported (default, `llama3`, ...): `inv_freq`
    holds `head_dim / 2` frequencies and `attention_scaling` the factor on
    cos and sin, exactly as transformers' `ROPE_INIT_FUNCTIONS` return them.

    ```mlir
    %q = hfq.rotary %x, %pos head_dim 32 scaling 1.0
        inv_freq dense<[1.0, 0.5, ...]> : tensor<16xf32>
        : tensor<?x128xf32>, tensor<?xi64> -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[I64]>:$positions,
                       I64Attr:$head_dim, F64Attr:$attention_scaling,
                       FloatElementsAttr<32>:$inv_freq);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $positions `head_dim` $head_dim `scaling` $attention_scaling
    `inv_freq` $inv_freq attr-dict `:` type($input) `,` type($positions) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def HFQ_AttentionOp : HFQ_Op<"attention"> {
  let summary = "Causal grouped-query attention over an explicit KV cache";
  let description = [{
    Writes this step's keys and values (`[T, kv_heads * head_dim]`) into
    layer `layer` of the cache at the token positions, then attends each
    query head to the cached positions up to its own (and within
    `sliding_window` when it is non-zero), softmax in f32, scaled by
    `scaling`. The cache is the caller's buffer `[layers, 2, S, kv_heads,
    head_dim]` of the activation type (index 0 keys, 1 values); it lives
    across calls of the model's entry functions, which is why it is a
    memref here rather than a value.

    ```mlir
    %o = hfq.attention "model.layers.0.self_attn" %q, %k, %v, %pos, %cache
        layer 0 heads 4 kv_heads 2 head_dim 32 scaling 0.1767 window 0
        : tensor<?x128xf32>, tensor<?x64xf32>, tensor<?x64xf32>,
          tensor<?xi64>, memref<2x2x?x2x32xf32> -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, AnyRankedTensor:$query,
                       AnyRankedTensor:$key, AnyRankedTensor:$value,
                       RankedTensorOf<[I64]>:$positions,
                       Arg<AnyMemRef, "the KV cache", [MemRead, MemWrite]>:$cache,
                       I64Attr:$layer, I64Attr:$num_heads,
                       I64Attr:$num_kv_heads, I64Attr:$head_dim,
                       F64Attr:$scaling, I64Attr:$sliding_window);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $name $query `,` $key `,` $value `,` $positions `,` $cache
    `layer` $layer `heads` $num_heads `kv_heads` $num_kv_heads
    `head_dim` $head_dim `scaling` $scaling `window` $sliding_window
    attr-dict `:` type($query) `,` type($key) `,` type($value) `,`
    type($positions) `,` type($cache) `->` type($result)
  }];
  let hasVerifier = 1;
}

def HFQ_SiluMulOp : HFQ_Op<"silu_mul",
    [Pure, AllTypesMatch<["gate", "up", "result"]>]> {
  let summary = "The gated MLP's act_fn(gate) * up, act_fn = SiLU";
  let arguments = (ins AnyRankedTensor:$gate, AnyRankedTensor:$up);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def HFQ_AddOp : HFQ_Op<"add",
    [Pure, AllTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "The residual add, rounded once to the activation type";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif // HFQ_MODEL_OPS_TD
