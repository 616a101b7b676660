//===- HFQAttrs.td - hfq attributes ------------------------*- tablegen -*-===//

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

#endif // HFQ_ATTRS_TD
