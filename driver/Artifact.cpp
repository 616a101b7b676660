//===- Artifact.cpp - A compiled model as an object, a library, a manifest -===//
//
// hfq-compile's output, for hosts without LLVM (hfq-exec; a GPU machine's
// runtime built with nvcc alone):
//
//   model.o        the lowered model, position-independent, for the host CPU
//   model.so       model.o linked as a shared library; its undefined symbols
//                  are the kernels' and the loader's, resolved by whichever
//                  kernel libraries the host loads first (RTLD_GLOBAL)
//   manifest.json  what the host needs: the model's shape and dtype, the
//                  target, the entry functions and every checkpoint tensor
//                  the code reads (name, dtype, shape)
//
//===----------------------------------------------------------------------===//

#include "driver/Driver.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include <fstream>

using namespace mlir;

namespace hfq::run {

namespace {

bool emitObject(ModuleOp module, const std::string &path,
                std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    error = "no target for this host: " + llvm::toString(builder.takeError());
    return false;
  }
  builder->setRelocationModel(llvm::Reloc::PIC_);
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Default);
  auto machine = builder->createTargetMachine();
  if (!machine) {
    error = llvm::toString(machine.takeError());
    return false;
  }
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule) {
    error = "the lowered module could not be translated to LLVM IR";
    return false;
  }
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  llvmModule->setDataLayout((*machine)->createDataLayout());
  if (llvm::Error e =
          makeOptimizingTransformer(2, 0, machine->get())(llvmModule.get())) {
    error = llvm::toString(std::move(e));
    return false;
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  llvm::legacy::PassManager pm;
  if (ec || (*machine)->addPassesToEmitFile(pm, os, nullptr,
                                            llvm::CodeGenFileType::ObjectFile)) {
    error = "cannot write an object file to '" + path + "'";
    return false;
  }
  pm.run(*llvmModule);
  return true;
}

/// Links `object` into the shared library `library` with the system's C
/// compiler driver (cc, else clang-22, gcc, clang).
bool linkShared(const std::string &object, const std::string &library,
                std::string &error) {
  llvm::ErrorOr<std::string> driver = std::make_error_code(std::errc::no_such_file_or_directory);
  for (const char *name : {"cc", "clang-22", "gcc", "clang"})
    if ((driver = llvm::sys::findProgramByName(name)))
      break;
  if (!driver) {
    error = "no C compiler driver (cc, clang-22, gcc, clang) to link " +
            library;
    return false;
  }
  std::string message;
  llvm::StringRef args[] = {*driver, "-shared", "-o", library, object};
  if (llvm::sys::ExecuteAndWait(*driver, args, std::nullopt, {}, 0, 0,
                                &message) != 0) {
    error = "linking " + library + " with " + *driver + " failed" +
            (message.empty() ? "" : ": " + message);
    return false;
  }
  return true;
}

spec::Json manifest(const CompiledModel &compiled,
                    const importer::ModelDirectory &model,
                    const CompileOptions &options) {
  const importer::DecoderConfig &c = compiled.config;
  spec::Json weights = spec::Json::array();
  for (const runtime::WeightUse &w : compiled.weights)
    weights.push_back({{"name", w.name}, {"dtype", w.dtype}, {"shape", w.shape}});
  return {{"format", "hfq-artifact-1"},
          {"model", {{"source", model.path},
                     {"architecture", c.architecture},
                     {"layers", c.numLayers},
                     {"hidden_size", c.hiddenSize},
                     {"kv_heads", c.numKvHeads},
                     {"head_dim", c.headDim},
                     {"vocab_size", c.vocabSize}}},
          {"dtype", compiled.dtype},
          {"target", options.target},
          {"activations", options.deviceResident ? "device" : "host"},
          {"library", "model.so"},
          {"entries", {"_mlir_ciface_prefill", "_mlir_ciface_decode"}},
          {"weights", weights}};
}

} // namespace

bool writeArtifact(const importer::ModelDirectory &model,
                   const CompileOptions &options, const std::string &dir,
                   std::string &error) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    error = "cannot create '" + dir + "': " + ec.message();
    return false;
  }
  std::unique_ptr<MLIRContext> context = makeContext();
  CompiledModel compiled;
  OwningOpRef<ModuleOp> module =
      lowerModel(*context, model, options, compiled, error);
  if (!module || !emitObject(*module, dir + "/model.o", error) ||
      !linkShared(dir + "/model.o", dir + "/model.so", error))
    return false;
  std::ofstream out(dir + "/manifest.json");
  out << manifest(compiled, model, options).dump(2) << "\n";
  if (!out) {
    error = "cannot write '" + dir + "/manifest.json'";
    return false;
  }
  return true;
}

} // namespace hfq::run
