//===- ir-fuzzer.cpp - libFuzzer target for hfq-opt's model IR ------------===//
//
// Arbitrary bytes as hfq-opt's input: the nesting check hfq-opt runs first
// (findDeepNesting, spec/Input.h), then MLIR's parser with the hfq dialect
// (its attribute parsers and op verifiers: #hfq.method, hfq.linear,
// hfq.qlinear, hfq.quantize, hfq.weight), then the passes that read what
// was parsed: --hfq-dispatch (hfq.model_config, the method registry) and
// --hfq-select-kernel. The hfq sources are compiled into the fuzzer with
// its instrumentation; MLIR itself is the uninstrumented libMLIR.so.
// Seeds: test/fuzz/corpus/ir/. Dictionary: ir.dict.
//
//===----------------------------------------------------------------------===//

#include "dialect/HFQDialect.h"
#include "passes/Passes.h"
#include "spec/Input.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <cstddef>
#include <cstdint>
#include <string>

// libMLIR.so is not instrumented: its copies of llvm::BumpPtrAllocator do
// not unpoison what the fuzzer's instrumented copies poisoned (a false
// use-after-poison, docs/limits.md). Heap, stack and global redzones are
// still checked.
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  if (hfq::spec::findDeepNesting(text))
    return 0; // hfq-opt refuses it before MLIR's parser runs.

  static mlir::DialectRegistry *dialects = [] {
    auto *registry = new mlir::DialectRegistry();
    registry->insert<hfq::HFQDialect, mlir::func::FuncDialect,
                     mlir::arith::ArithDialect, mlir::tensor::TensorDialect>();
    return registry;
  }();
  // A fresh context per input: attributes are uniqued for the context's
  // lifetime, so one shared context would grow without bound.
  mlir::MLIRContext context(*dialects, mlir::MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  if (!module)
    return 0;
  mlir::PassManager pm(&context);
  pm.enableVerifier(true);
  pm.addPass(hfq::createHFQDispatch());
  hfq::HFQSelectKernelOptions select;
  select.targetOption = "cpu";
  pm.addPass(hfq::createHFQSelectKernel(select));
  (void)pm.run(*module);
  return 0;
}
