//===- Passes.td - hfq passes, in pipeline order -----------*- tablegen -*-===//
//
// The passes over model IR, in the order a pipeline runs them: dispatch
// (transformers' get_hf_quantizer), checkpoint binding, kernel selection.
// The lowering to runtime calls is a conversion (conversion/Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_PASSES_TD
#define HFQ_PASSES_TD

include "mlir/Pass/PassBase.td"

def HFQDispatch : Pass<"hfq-dispatch", "::mlir::ModuleOp"> {
  let summary = "Choose the quantizer as transformers' get_hf_quantizer does, "
                "and quantize the model's linear layers";
  let description = [{
    Reads the checkpoint's config.json from the module attribute
    `hfq.model_config` (a dictionary; its `quantization_config` key, when
    present, makes the model pre-quantized, as in transformers) and the
    options that mirror `from_pretrained` (`quantization-config`,
    `device-map`, `dtype`, `weights-only`) plus the compile `target`. It then
    decides exactly what transformers decides — the quantizer, the merged
    config, the warnings and the errors (docs/dispatch.md) — and rewrites
    every `hfq.linear` the method's skip-module policy does not exclude:

    * pre-quantized: into `hfq.qlinear` whose packed operands are the
      checkpoint's tensors (`hfq.weight "<module>.<tensor>"`) in the method's
      layout;
    * on the fly: into `hfq.quantize` of the float weight feeding
      `hfq.qlinear`.

    transformers' warnings become MLIR warnings, its infos remarks (with
    `remarks=true`, since transformers logs them below its default level), its
    exceptions errors (`ValueError: ...`) that fail the pass. Each rewritten
    op records its resolved `layout`; the decision itself is recorded on the
    module as `hfq.dispatch` (a `#hfq.json`), and `report` writes it as JSON
    (docs/dispatch.md describes the fields).

    Module attributes read besides `hfq.model_config`: `hfq.output_embeddings`
    (module names of the output embeddings; default `["lm_head"]` when such a
    linear exists), `hfq.tied_weights` (parameter names) and
    `hfq.keep_in_fp32_modules`, which feed transformers' default skips.
  }];
  let dependentDialects = ["::hfq::HFQDialect"];
  let options = [
    Option<"quantizationConfig", "quantization-config", "std::string",
           /*default=*/"\"\"",
           "The user's quantization_config= as inline JSON, or @<file>">,
    Option<"deviceMap", "device-map", "std::string", /*default=*/"\"\"",
           "device_map=: auto, cpu, cuda:0, or a JSON object of module -> "
           "device (empty: not given)">,
    Option<"dtype", "dtype", "std::string", /*default=*/"\"auto\"",
           "dtype=: auto, float16, bfloat16, float32">,
    Option<"weightsOnly", "weights-only", "bool", /*default=*/"true",
           "weights_only=">,
    Option<"target", "target", "std::string", /*default=*/"\"sm_90\"",
           "Compile target: sm_<NN> (e.g. sm_90, sm_80) or cpu">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write the dispatch report (JSON) to this file">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit transformers' info messages and each skipped module as "
           "remarks (transformers logs infos below its default level)">
  ];
}

def HFQBindCheckpoint : Pass<"hfq-bind-checkpoint", "::mlir::ModuleOp"> {
  let summary = "Bind checkpoint tensors from safetensors files into the IR";
  let description = [{
    Replaces every `hfq.weight "<name>"` by an `arith.constant` holding the
    tensor `<name>` read from the given safetensors files, byte for byte.
    The tensor's dtype and shape must be exactly the op's type; a missing
    tensor or a mismatch is an error naming the tensor and the file.
    (For models too large to embed, a run-time loader is the next step;
    this pass serves examples, tests and small models.)

    ```
    hfq-opt model.mlir --hfq-dispatch --hfq-bind-checkpoint="safetensors=model.safetensors"
    ```
  }];
  let dependentDialects = ["::hfq::HFQDialect", "::mlir::arith::ArithDialect"];
  let options = [
    Option<"safetensors", "safetensors", "std::string", /*default=*/"\"\"",
           "Comma-separated safetensors files to read tensors from">
  ];
}

def HFQSelectKernel : Pass<"hfq-select-kernel", "::mlir::ModuleOp"> {
  let summary = "Choose each quantized linear's kernel from its method's rules";
  let description = [{
    For every `hfq.qlinear`, evaluates the ordered `kernels` rules of the
    op's method (specs/README.md) for the compile target, the layer's N and
    K, the activation rows M (the product of the input's leading
    dimensions, -1 when dynamic) and the activation element type, and
    records the first kernel whose condition holds in the op's `kernel`
    attribute, and the rules tried before it, with the reason each was
    rejected, in `rejected_kernels`. A layer no rule accepts is an error.
    `force-kernel` picks one kernel by name instead; a layer whose rule for
    it does not hold is an error saying so. Every `hfq.quantize` gets the
    kernel that quantizes for its method (the reference, its last rule).
    Without `target`, the target `--hfq-dispatch` recorded in the module's
    `hfq.dispatch` is used, else sm_90. `report` writes the dispatch report
    read off the IR, with each module's kernel and rejected kernels.

    ```
    hfq-opt --hfq-select-kernel="target=sm_90" model.mlir
    ```
  }];
  let dependentDialects = ["::hfq::HFQDialect"];
  let options = [
    Option<"targetOption", "target", "std::string", /*default=*/"\"\"",
           "Compile target: sm_<NN> (e.g. sm_90, sm_89, sm_80) or cpu "
           "(default: the one --hfq-dispatch recorded, else sm_90)">,
    Option<"forceKernel", "force-kernel", "std::string", /*default=*/"\"\"",
           "Use this kernel for every quantized linear; a layer it cannot "
           "run is an error with the reason (never a silent fallback)">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write the dispatch report, with each module's kernel and "
           "rejected kernels, to this file (needs the decision "
           "--hfq-dispatch records)">
  ];
}

#endif // HFQ_PASSES_TD
