//===- Passes.td - hfq conversions to runtime calls --------*- tablegen -*-===//
//
// The lowering of hfq ops to calls through the kernel ABI
// (kernels/include/hfq_kernels.h). Like MLIR's own Conversion/Passes.td, it
// sits apart from the passes that rewrite hfq IR into hfq IR.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_CONVERSION_PASSES_TD
#define HFQ_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def HFQLowerToRuntime : Pass<"hfq-lower-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower hfq ops to calls of the kernel ABI";
  let description = [{
    Every `hfq.qlinear` (whose `kernel` --hfq-select-kernel chose) becomes a
    call of `<kernel>_<act>` through the one C ABI of
    kernels/include/hfq_kernels.h: the output, activations and bias as
    memrefs, the layout's `args` as a `memref<?xf64>`, and the packed
    tensors as a tensor table `memref<?x8xi64>` (address, element type, rank,
    sizes). The layout is the one the op records (`layout`), else the
    registry's. A non-zero status calls `hfq_kernel_fail`, which reports the
    kernel's message. `hfq.quantize` becomes a call of its kernel's
    `<kernel>_quantize_<wt>` filling the packed tensors, and `hfq.linear` a
    `linalg` contraction. The result is ordinary tensor/bufferization IR for
    the standard lowering (see the `hfq-lower-to-llvm` pipeline).
  }];
  let dependentDialects = [
    "::hfq::HFQDialect", "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect", "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"
  ];
}

def HFQResolveWeights : Pass<"hfq-resolve-weights", "::mlir::ModuleOp"> {
  let summary = "Resolve checkpoint tensors through the run-time loader";
  let description = [{
    Runs after bufferization and buffer deallocation: every
    `hfq.weight_buffer "<name>" : memref<...xT>` becomes a call of the
    run-time loader's `hfq_weight_<T>_<rank>` (runtime/hfq_runtime.h) with
    the tensor's name and expected shape as constant buffers, which returns
    the tensor's bytes in the memory-mapped checkpoint. Nothing of the
    checkpoint is embedded, so compile time and memory do not depend on its
    size.
  }];
  let dependentDialects = [
    "::hfq::HFQDialect", "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

def HFQCheckDeviceResident
    : Pass<"hfq-check-device-resident", "::mlir::ModuleOp"> {
  let summary = "Check that only kernel calls touch device-resident buffers";
  let description = [{
    For a GPU target every activation buffer (each `memref.alloc`) and every
    memref argument of a public function (ids, positions, the KV cache)
    lives in device memory: the lowering turns `memref.alloc` into the
    device runtime's `_mlir_memref_to_llvm_alloc`. The host may pass such a
    buffer to a call, take views and metadata of it, and free it; it must
    never load, store or copy its elements, nor hand it to an on-the-fly
    quantizer (`*_quantize_*`), which runs on the host. Runs after buffer
    deallocation
    and `hfq-resolve-weights`; reports the first op that would read or
    write device memory on the host, with the buffer's origin, and fails.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // HFQ_CONVERSION_PASSES_TD
