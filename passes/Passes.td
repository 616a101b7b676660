//===- Passes.td - hfq passes ------------------------------*- tablegen -*-===//

#ifndef HFQ_PASSES_TD
#define HFQ_PASSES_TD

include "mlir/Pass/PassBase.td"

def HFQSelectKernel : Pass<"hfq-select-kernel", "::mlir::ModuleOp"> {
  let summary = "Choose each quantized linear's kernel from its method's rules";
  let description = [{
    For every `hfq.qlinear`, evaluates the ordered `kernels` rules of the
    op's method (specs/README.md) for the compile target, the layer's N and
    K, the activation rows M (the product of the input's leading
    dimensions, -1 when dynamic) and the activation element type, and
    records the first kernel whose condition holds in the op's `kernel`
    attribute. A layer no rule accepts is an error.

    ```
    hfq-opt --hfq-select-kernel="target=sm_90" model.mlir
    ```
  }];
  let dependentDialects = ["::hfq::HFQDialect"];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"sm_90\"",
           "Compile target: sm_<NN> (e.g. sm_90, sm_89, sm_80) or cpu">
  ];
}

#endif // HFQ_PASSES_TD
