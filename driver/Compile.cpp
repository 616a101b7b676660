//===- Compile.cpp - Checkpoint directory to JIT-compiled model -----------===//
//
// import (importer/) -> --hfq-dispatch with from_pretrained's options ->
// --hfq-select-kernel for the target -> hfq-lower-to-llvm -> MLIR's
// ExecutionEngine with the kernel libraries. The same passes hfq-opt runs,
// in one process, on IR that never holds a weight.
//
//===----------------------------------------------------------------------===//

#include "driver/Driver.h"

#include "passes/DispatchRecord.h"
#include "passes/Passes.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

using namespace mlir;

namespace hfq::run {

namespace {

/// safetensors' spelling of a checkpoint tensor's element type.
std::string safetensorsDtype(Type type) {
  if (type.isF32())
    return "F32";
  if (type.isF16())
    return "F16";
  if (type.isBF16())
    return "BF16";
  if (isa<Float8E4M3FNType>(type))
    return "F8_E4M3";
  if (isa<Float8E5M2Type>(type))
    return "F8_E5M2";
  if (auto i = dyn_cast<IntegerType>(type))
    return (i.isUnsigned() ? "U" : "I") + std::to_string(i.getWidth());
  return "?";
}

/// Every hfq.weight the dispatched module reads, once each.
std::vector<runtime::WeightUse> collectWeights(ModuleOp module) {
  std::vector<runtime::WeightUse> weights;
  std::set<std::string> seen;
  module.walk([&](hfq::WeightOp op) {
    if (!seen.insert(op.getName().str()).second)
      return;
    auto type = cast<RankedTensorType>(op.getResult().getType());
    weights.push_back({op.getName().str(),
                       safetensorsDtype(type.getElementType()),
                       std::vector<int64_t>(type.getShape().begin(),
                                            type.getShape().end())});
  });
  return weights;
}

bool runPasses(ModuleOp module, const CompileOptions &options,
               std::string &error) {
  PassManager pm(module.getContext());
  hfq::HFQDispatchOptions dispatch;
  dispatch.quantizationConfig = options.quantizationConfig;
  dispatch.deviceMap = options.deviceMap;
  dispatch.dtype = options.dtype;
  dispatch.target = options.target;
  pm.addPass(hfq::createHFQDispatch(dispatch));
  hfq::HFQSelectKernelOptions select;
  select.targetOption = options.target;
  select.report = options.report;
  pm.addPass(hfq::createHFQSelectKernel(select));
  if (failed(pm.run(module))) {
    error = "dispatch or kernel selection failed (the diagnostic above)";
    return false;
  }
  return true;
}

bool lower(ModuleOp module, const CompileOptions &options,
           std::string &error) {
  PassManager pm(module.getContext());
  if (failed(parsePassPipeline("hfq-lower-to-llvm{target=" +
                                   options.target + " device-resident=" +
                                   (options.deviceResident ? "1" : "0") +
                                   "}",
                               pm, llvm::errs())) ||
      failed(pm.run(module))) {
    error = "lowering failed (the diagnostic above)";
    return false;
  }
  return true;
}

void dump(ModuleOp module, const CompileOptions &options, const char *stage) {
  if (options.dumpIr.empty())
    return;
  std::error_code ec;
  llvm::raw_fd_ostream os(options.dumpIr + "." + stage + ".mlir", ec);
  if (!ec)
    module.print(os);
}

} // namespace

/// A context with every dialect and translation the pipeline needs.
std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  hfq::registerHFQDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  hfq::registerHFQPipelines();
  return std::make_unique<MLIRContext>(registry);
}

OwningOpRef<ModuleOp> lowerModel(MLIRContext &context,
                                 const importer::ModelDirectory &model,
                                 const CompileOptions &options,
                                 CompiledModel &out, std::string &error) {
  out.config = model.decoder;
  out.dtype = importer::resolveActivationDtype(options.dtype, model.decoder,
                                               error);
  if (out.dtype.empty())
    return nullptr;
  OwningOpRef<ModuleOp> module =
      importer::importModel(&context, model, out.dtype, error);
  if (!module)
    return nullptr;
  dump(*module, options, "imported");
  if (!runPasses(*module, options, error))
    return nullptr;
  // The quantizer may change the dtype (update_dtype): the activations
  // follow transformers' decision, so import again in that dtype.
  std::optional<spec::Report> decision = readDispatch(*module);
  if (decision && decision->dtype != out.dtype &&
      importer::resolveActivationDtype(decision->dtype, model.decoder,
                                       error) == decision->dtype) {
    out.dtype = decision->dtype;
    module = importer::importModel(&context, model, out.dtype, error);
    if (!module || !runPasses(*module, options, error))
      return nullptr;
  }
  dump(*module, options, "dispatched");
  out.weights = collectWeights(*module);
  if (!lower(*module, options, error))
    return nullptr;
  return module;
}

bool compileModel(const importer::ModelDirectory &model,
                  const CompileOptions &options, CompiledModel &out,
                  std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::unique_ptr<MLIRContext> context = makeContext();
  OwningOpRef<ModuleOp> module =
      lowerModel(*context, model, options, out, error);
  if (!module)
    return false;
  ExecutionEngineOptions engineOptions;
  std::function<llvm::Error(llvm::Module *)> optimize =
      makeOptimizingTransformer(2, 0, nullptr);
  engineOptions.transformer = optimize;
  std::vector<llvm::StringRef> libs(options.kernelLibraries.begin(),
                                    options.kernelLibraries.end());
  engineOptions.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(*module, engineOptions);
  if (!engine) {
    error = "JIT compilation failed: " + llvm::toString(engine.takeError());
    return false;
  }
  out.engine = std::move(*engine);
  return true;
}

runtime::EntryPoints entryPoints(const CompiledModel &model,
                                 std::string &error) {
  runtime::EntryPoints entries;
  for (auto [name, slot] : {std::make_pair("prefill", &entries.prefill),
                            std::make_pair("decode", &entries.decode)}) {
    auto fn = model.engine->lookup(std::string("_mlir_ciface_") + name);
    if (!fn) {
      error = std::string("the compiled model has no entry '") + name +
              "': " + llvm::toString(fn.takeError());
      return {};
    }
    *slot = *fn;
  }
  return entries;
}

std::string describe(const importer::ModelDirectory &model) {
  const importer::DecoderConfig &c = model.decoder;
  return model.path + " (" + c.architecture + ", " +
         std::to_string(c.numLayers) + " layers, hidden " +
         std::to_string(c.hiddenSize) + ", vocab " +
         std::to_string(c.vocabSize) + ")";
}

runtime::ModelShape modelShape(const CompiledModel &model) {
  return {model.config.numLayers, model.config.numKvHeads,
          model.config.headDim, model.config.vocabSize, model.dtype};
}

} // namespace hfq::run
