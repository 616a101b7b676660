//===- Pipelines.cpp - The hfq pipelines and what they need ---------------===//
//
// hfq-lower-to-llvm, the upstream passes it runs (registered so that each
// can be run on its own), and the dialects and interface models of the IR
// it reads and writes. hfq-opt registers exactly this and nothing else, as
// circt-opt does, so its --help lists hfq's passes among a dozen others
// rather than three hundred.
//
//===----------------------------------------------------------------------===//

#include "conversion/Passes.h"
#include "passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferViewFlowOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/ControlFlow/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/ControlFlow/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/AllInterfaces.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/Transforms/AllocationOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/BufferViewFlowOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/TensorInferTypeOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
struct HFQLowerToLLVMOptions
    : public PassPipelineOptions<HFQLowerToLLVMOptions> {
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("Compile target for kernel selection: sm_<NN> or cpu"),
      llvm::cl::init("cpu")};
  Option<bool> deviceResident{
      *this, "device-resident",
      llvm::cl::desc("Keep activations in device memory: buffers from the "
                     "device runtime's allocation functions, checked by "
                     "hfq-check-device-resident (hfq-compile's GPU "
                     "artifacts)"),
      llvm::cl::init(false)};
};

/// The upstream passes of hfq-lower-to-llvm, in the order it runs them.
void registerLoweringPasses() {
  registerConvertElementwiseToLinalgPass();
  bufferization::registerOneShotBufferizePass();
  registerCanonicalizerPass();
  registerCSEPass();
  bufferization::registerBufferizationPipelines();
  registerConvertLinalgToLoopsPass();
  memref::registerExpandStridedMetadataPass();
  registerLowerAffinePass();
  registerSCFToControlFlowPass();
  registerFinalizeMemRefToLLVMConversionPass();
  registerConvertMathToLLVMPass();
  registerArithToLLVMConversionPass();
  registerConvertFuncToLLVMPass();
  registerConvertControlFlowToLLVMPass();
  registerReconcileUnrealizedCastsPass();
}
} // namespace

void hfq::registerHFQPipelines() {
  registerHFQPasses();
  registerHFQConversionPasses();
  registerLoweringPasses();
  PassPipelineRegistration<HFQLowerToLLVMOptions>(
      "hfq-lower-to-llvm",
      "Select kernels, lower hfq ops to kernel calls, bufferize, and lower "
      "everything to the LLVM dialect (for mlir-runner, or mlir-translate + "
      "llc to an object file)",
      [](OpPassManager &pm, const HFQLowerToLLVMOptions &options) {
        // Device-resident code keeps every activation on the device:
        // buffers come from the device runtime's allocation functions, and
        // nothing but kernel calls may touch them (docs/runtime.md, "The
        // GPU target").
        bool gpu = options.deviceResident;
        std::string pipeline =
            "hfq-select-kernel{target=" + options.target +
            "},hfq-lower-to-runtime,convert-elementwise-to-linalg,"
            "one-shot-bufferize{bufferize-function-boundaries "
            "allow-return-allocs-from-loops "
            "function-boundary-type-conversion=identity-layout-map},"
            "canonicalize,buffer-deallocation-pipeline,hfq-resolve-weights," +
            std::string(gpu ? "hfq-check-device-resident," : "") +
            "convert-linalg-to-"
            "loops,expand-strided-metadata,lower-affine,convert-scf-to-cf,"
            "finalize-memref-to-llvm{use-generic-functions=" +
            (gpu ? "true" : "false") +
            "},convert-math-to-llvm,convert-arith-to-"
            "llvm,convert-func-to-llvm,convert-cf-to-llvm,reconcile-"
            "unrealized-casts";
        if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
          llvm::report_fatal_error("hfq-lower-to-llvm: invalid pipeline");
      });
}

void hfq::registerHFQDialects(DialectRegistry &registry) {
  // Model IR (func, arith, tensor, linalg around the hfq ops), and what the
  // lowering turns it into.
  registry.insert<HFQDialect, affine::AffineDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  func::FuncDialect, linalg::LinalgDialect, LLVM::LLVMDialect,
                  math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect>();
  // One-Shot Bufferize and the buffer deallocation pipeline work through
  // interfaces these dialects implement externally.
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  arith::registerBufferDeallocationOpInterfaceExternalModels(registry);
  arith::registerBufferViewFlowOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  cf::registerBufferizableOpInterfaceExternalModels(registry);
  cf::registerBufferDeallocationOpInterfaceExternalModels(registry);
  linalg::registerAllDialectInterfaceImplementations(registry);
  memref::registerAllocationOpInterfaceExternalModels(registry);
  memref::registerBufferViewFlowOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferDeallocationOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerInferTypeOpInterfaceExternalModels(registry);
}
