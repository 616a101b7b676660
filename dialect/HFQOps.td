//===- HFQOps.td - hfq operations --------------------------*- tablegen -*-===//
//
// A checkpoint tensor, a float linear layer, its quantized form and
// on-the-fly quantization. Verifiers are in HFQOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_OPS_TD
#define HFQ_OPS_TD

include "dialect/HFQAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def HFQ_WeightOp : HFQ_Op<"weight", [Pure]> {
  let summary = "A checkpoint tensor, by its state-dict name";
  let description = [{
    Binds a tensor of the model's checkpoint (a safetensors key such as
    `model.layers.0.mlp.up_proj.qweight`) into the IR. The name is the
    tensor's published name; the type is its dtype and shape.

    ```mlir
    %w = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<128x64xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def HFQ_LinearOp : HFQ_Op<"linear", [Pure]> {
  let summary = "An unquantized linear layer: y = x·Wᵀ + b";
  let description = [{
    The model's `torch.nn.Linear` named by its module path. `weight` is
    `[N, K]` (PyTorch's layout), `input` is `[..., K]`, the result
    `[..., N]`; the optional `bias` is `[N]`.

    ```mlir
    %y = hfq.linear "model.layers.0.mlp.up_proj" %x, %w
        : tensor<4x64xf32>, tensor<128x64xf32> -> tensor<4x128xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, AnyRankedTensor:$input,
                       AnyRankedTensor:$weight,
                       Optional<AnyRankedTensor>:$bias);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $name $input `,` $weight (`,` `bias` $bias^)? attr-dict `:`
    type($input) `,` type($weight) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def HFQ_QLinearOp : HFQ_Op<"qlinear", [Pure, AttrSizedOperandSegments]> {
  let summary = "A linear layer under a quantization method";
  let description = [{
    The linear layer `name` with its weight in the checkpoint layout of
    `method`: `packed` holds the layer's tensors in the order and with the
    element types and shapes the method's spec declares for this config and
    this layer's `N` (the result's last dimension) and `K` (the input's last
    dimension). `kernel`, once chosen, names the runtime kernel, and
    `rejected_kernels` the rules tried before it, each with why it did not
    apply.
    `scheme` is the module's own scheme for methods with per-module schemes
    (compressed-tensors `config_groups`). `layout`, which `--hfq-dispatch`
    records, is that layout resolved (tensor names and types, kernel
    arguments); without it the verifier and later passes derive it from the
    method registry.

    ```mlir
    #gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
    %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x,
        packed(%qweight, %qzeros, %scales, %g_idx) method #gptq
        : tensor<4x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>,
          tensor<2x128xf16>, tensor<64xi32>) -> tensor<4x128xf16>
    ```

    (Written inline, a method attribute right before `:` would take the
    `: type` as its own; use an alias, as the printer does.)
  }];
  let arguments = (ins StrAttr:$name, AnyRankedTensor:$input,
                       Variadic<AnyRankedTensor>:$packed,
                       Optional<AnyRankedTensor>:$bias,
                       HFQ_MethodAttr:$method,
                       OptionalAttr<DictionaryAttr>:$scheme,
                       OptionalAttr<StrAttr>:$kernel,
                       OptionalAttr<StrArrayAttr>:$rejected_kernels,
                       OptionalAttr<HFQ_LayoutAttr>:$layout);
  let results = (outs AnyRankedTensor:$result);
  // The layout restates the packed types, so it follows them.
  let assemblyFormat = [{
    $name $input `,` `packed` `(` $packed `)` (`,` `bias` $bias^)?
    `method` $method attr-dict `:` type($input) `,` `(` type($packed) `)`
    (`,` type($bias)^)? `->` type($result) (`layout` $layout^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The layer's N (the result's last dimension) and K (the input's).
    int64_t getN();
    int64_t getK();
    /// The packed tensors' layout (getPackedLayout in HFQDialect.h).
    ::hfq::LayoutAttr getPackedLayout(std::string &error);
  }];
}

def HFQ_QuantizeOp : HFQ_Op<"quantize", [Pure]> {
  let summary = "On-the-fly quantization of a float weight";
  let description = [{
    Quantizes the `[N, K]` float weight of the linear layer `name` into the
    checkpoint tensors of `method`, as the reference library would write
    them at load time. The results are checked against the spec's layout
    like `hfq.qlinear`'s packed operands, and `layout` is recorded the same
    way. `kernel`, chosen by `--hfq-select-kernel`, names the kernel whose
    `<kernel>_quantize_<wt>` entry point quantizes.

    ```mlir
    #bnb8 = #hfq.method<"bitsandbytes_8bit", {load_in_8bit = true}>
    %q:2 = hfq.quantize "model.layers.0.mlp.up_proj" %w method #bnb8
        : tensor<128x64xf32> -> (tensor<128x64xi8>, tensor<128xf32>)
    ```
  }];
  let arguments = (ins StrAttr:$name, AnyRankedTensor:$weight,
                       HFQ_MethodAttr:$method,
                       OptionalAttr<DictionaryAttr>:$scheme,
                       OptionalAttr<StrAttr>:$kernel,
                       OptionalAttr<HFQ_LayoutAttr>:$layout);
  let results = (outs Variadic<AnyRankedTensor>:$packed);
  let assemblyFormat = [{
    $name $weight `method` $method attr-dict `:` type($weight) `->`
    `(` type($packed) `)` (`layout` $layout^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The weight's N and K.
    int64_t getN();
    int64_t getK();
    /// The packed tensors' layout (getPackedLayout in HFQDialect.h).
    ::hfq::LayoutAttr getPackedLayout(std::string &error);
  }];
}

def HFQ_WeightBufferOp : HFQ_Op<"weight_buffer", [Pure]> {
  let summary = "A checkpoint tensor's buffer, resolved by the run-time loader";
  let description = [{
    What `hfq.weight` becomes when `--hfq-lower-to-runtime` lowers a model
    whose weights are loaded at run time: the buffer of the tensor `name`
    in the memory-mapped checkpoint. It allocates nothing and owns nothing
    (buffer deallocation leaves it alone); `--hfq-resolve-weights`, after
    deallocation, turns it into a call of the loader's
    `hfq_weight_<type>_<rank>` (runtime/hfq_runtime.h, docs/runtime.md).

    ```mlir
    %w = hfq.weight_buffer "model.norm.weight" : memref<128xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs AnyStaticShapeMemRef:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

// The ops of a whole decoder besides its linears.
include "dialect/HFQModelOps.td"

#endif // HFQ_OPS_TD
