//===- HFQAttrs.td - hfq attributes ------------------------*- tablegen -*-===//
//
// Config values (#hfq.none, #hfq.method), the resolved layout a quantized op
// records (#hfq.layout), and ordered JSON for what dispatch records on the
// module (#hfq.json).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_ATTRS_TD
#define HFQ_ATTRS_TD

include "dialect/HFQDialect.td"

def HFQ_NoneAttr : HFQ_Attr<"None", "none"> {
  let summary = "Python's None inside a config dictionary";
  let description = [{
    Config values are JSON; MLIR attributes have no null, so a `None`
    (e.g. GPTQ's `tokenizer`) is written `#hfq.none`.
  }];
}

def HFQ_MethodAttr : HFQ_Attr<"Method", "method"> {
  let summary = "A quantization method key and its resolved config";
  let description = [{
    The registry key of a quantizer (`"gptq"`, `"bitsandbytes_4bit"`) and
    the config it runs with, every field resolved (defaults applied, legacy
    keys renamed). Values map from JSON as: int → i64, float → f64,
    bool, string, list → array, dict → dictionary, null → `#hfq.none`.

    ```mlir
    #hfq.method<"gptq", {bits = 4 : i64, group_size = 128 : i64, sym = true}>
    ```
  }];
  let parameters = (ins "::mlir::StringAttr":$key,
                        "::mlir::DictionaryAttr":$config);
  let assemblyFormat = "`<` $key `,` $config `>`";
  let extraClassDeclaration = [{
    /// The config as a JSON object (for spec expressions).
    ::hfq::spec::Json getConfigJson() const;
  }];
}

def HFQ_LayoutAttr : HFQ_Attr<"Layout", "layout"> {
  let summary = "A method's checkpoint layout, resolved for one layer";
  let description = [{
    What the method's spec layout evaluates to for one layer's config,
    scheme, N and K: the packed tensors in order (name and type) and the
    layout's kernel arguments in order (name and value, as the kernel ABI's
    `args` carries them). `--hfq-dispatch` records it on `hfq.qlinear` and
    `hfq.quantize`, so later passes read the op instead of evaluating the
    spec again; the printer shows it under an alias.

    ```mlir
    #hfq.layout<(qweight: tensor<8x128xi32>, qzeros: tensor<2x16xi32>,
                 scales: tensor<2x128xf16>, g_idx: tensor<64xi32>),
                args(bits = 4.0, group_size = 32.0, zero_stored_minus_one = 1.0)>
    ```
  }];
  let parameters = (ins
    ArrayRefParameter<"::mlir::StringAttr", "tensor names">:$names,
    ArrayRefParameter<"::mlir::Type", "tensor types">:$types,
    ArrayRefParameter<"::mlir::StringAttr", "argument names">:$argNames,
    "::mlir::DenseF64ArrayAttr":$argValues);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def HFQ_JsonAttr : HFQ_Attr<"Json", "json"> {
  let summary = "A JSON value with its key order";
  let description = [{
    JSON whose object keys keep their order, which MLIR dictionaries (sorted
    by key) do not: `to_dict()` and a device map are ordered. The syntax is
    JSON's, with MLIR string literals:

    ```mlir
    #hfq.json<{"quant_method": "gptq", "bits": 4, "damp_percent": 0.01}>
    ```
  }];
  let parameters = (ins StringRefParameter<"compact JSON text">:$text);
  let builders = [
    AttrBuilder<(ins "const ::hfq::spec::Json &":$value)>
  ];
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The value (null for text that is not JSON, which verify() refuses).
    ::hfq::spec::Json getJson() const;
  }];
}

#endif // HFQ_ATTRS_TD
