//===- Pipelines.cpp - The hfq pass pipelines, registered in one place -----===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace {
struct LowerToLLVMOptions : public PassPipelineOptions<LowerToLLVMOptions> {
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("Compile target for kernel selection: sm_<NN> or cpu"),
      llvm::cl::init("cpu")};
};
} // namespace

void hfq::registerHFQPipelines() {
  PassPipelineRegistration<LowerToLLVMOptions>(
      "hfq-lower-to-llvm",
      "Select kernels, lower hfq ops to kernel calls, bufferize, and lower "
      "everything to the LLVM dialect (for mlir-runner, or mlir-translate + "
      "llc to an object file)",
      [](OpPassManager &pm, const LowerToLLVMOptions &options) {
        std::string pipeline =
            "hfq-select-kernel{target=" + options.target +
            "},hfq-lower-to-runtime,convert-elementwise-to-linalg,"
            "one-shot-bufferize{bufferize-function-boundaries "
            "function-boundary-type-conversion=identity-layout-map},"
            "canonicalize,buffer-deallocation-pipeline,convert-linalg-to-loops,"
            "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
            "finalize-memref-to-llvm,convert-math-to-llvm,convert-arith-to-llvm,"
            "convert-func-to-llvm,"
            "convert-cf-to-llvm,reconcile-unrealized-casts";
        if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
          llvm::report_fatal_error("hfq-lower-to-llvm: invalid pipeline");
      });
}
