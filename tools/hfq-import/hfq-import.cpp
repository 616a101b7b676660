//===- hfq-import.cpp - A Hugging Face checkpoint directory as model IR ---===//
//
//   hfq-import MODEL_DIR [-o model.mlir] [--dtype=auto|float32|float16|bfloat16]
//              [--config-only]
//
// Reads config.json and the safetensors headers (never the tensor data) and
// writes the model's forward as hfq model IR (importer/ModelImporter.h),
// ready for hfq-opt --hfq-dispatch. Errors are one line naming the file and
// the key or tensor; exit 1, and no output file is written.
//
//===----------------------------------------------------------------------===//

#include "importer/ModelImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::opt<std::string> modelDir(cl::Positional, cl::Required,
                                     cl::desc("<checkpoint directory>"));
static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::init("-"));
static cl::opt<std::string>
    dtype("dtype",
          cl::desc("Activation dtype, as from_pretrained's dtype=: auto "
                   "(config.json's), float32, float16 or bfloat16"),
          cl::init("auto"));

static cl::opt<bool> configOnly(
    "config-only",
    cl::desc("Read config.json alone (no safetensors): every weight typed "
             "from the config, for compiling or planning a model whose "
             "weights are not at hand"),
    cl::init(false));

static int fail(const std::string &message) {
  llvm::errs() << "hfq-import: error: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "hfq-import: a Hugging Face checkpoint directory (config.json + "
      "safetensors) as hfq model IR\n");
  hfq::importer::ModelDirectory model;
  std::string error;
  if (!hfq::importer::readModelDirectory(modelDir, model, error, configOnly))
    return fail(error);
  std::string act =
      hfq::importer::resolveActivationDtype(dtype, model.decoder, error);
  if (act.empty())
    return fail(error);
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      hfq::importer::importModel(&context, model, act, error);
  if (!module)
    return fail(error);
  std::string openError;
  auto output = mlir::openOutputFile(outputFile, &openError);
  if (!output)
    return fail(openError);
  module->print(output->os());
  output->os() << "\n";
  output->keep();
  return 0;
}
