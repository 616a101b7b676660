//===- hfq-opt.cpp - The hfq optimizer driver -----------------------------===//
//
// mlir-opt with the hfq dialect and passes, and only the upstream dialects
// and passes hfq's pipelines use. Before any IR is read, the method registry
// is built from the shipped specs and every --hfq-spec-path; a bad spec
// stops the tool with one error line and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "dialect/HFQDialect.h"
#include "passes/Passes.h"
#include "spec/BuiltinSpecs.h"
#include "spec/Input.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace mlir;

static llvm::cl::OptionCategory hfqCategory("hfq options");

static llvm::cl::list<std::string> specPaths(
    "hfq-spec-path",
    llvm::cl::desc("Load method specs from a file, or every *.json of a "
                   "directory (repeatable)"),
    llvm::cl::value_desc("file|dir"), llvm::cl::cat(hfqCategory));

static llvm::cl::opt<bool>
    listMethods("hfq-list-methods",
                llvm::cl::desc("Print the method registry (key, config class, "
                               "pre-quantized only, kernels) and exit"),
                llvm::cl::init(false), llvm::cl::cat(hfqCategory));

/// Prints the registry as a table, one quantizer per line.
static void printRegistry(const hfq::spec::MethodRegistry &registry,
                          llvm::raw_ostream &os) {
  os << llvm::left_justify("key", 20) << llvm::left_justify("config class", 28)
     << llvm::left_justify("quantizer class", 32)
     << llvm::left_justify("pre-quantized only", 20) << "kernels\n";
  for (const hfq::spec::QuantizerSpec *quantizer : registry.quantizers()) {
    llvm::SmallVector<std::string> kernels;
    for (const hfq::spec::KernelRule &rule : quantizer->kernels)
      kernels.push_back(rule.planned.empty() ? rule.name
                                             : rule.name + " (planned)");
    os << llvm::left_justify(quantizer->key, 20)
       << llvm::left_justify(quantizer->method->config.className, 28)
       << llvm::left_justify(quantizer->className, 32)
       << llvm::left_justify(quantizer->requiresCalibration ? "yes" : "no", 20)
       << llvm::join(kernels, ", ") << "\n";
  }
}

/// MlirOptMain's own steps (open the input and the output, run, keep the
/// output), with the input checked first against spec/Limits.h: not a
/// directory or device (/dev/zero would be read without end; stdin and
/// FIFOs are fine), and no bracket nesting deeper than kMaxIrNesting, which
/// MLIR's recursive-descent parser would overflow the stack on.
static LogicalResult runOnInput(StringRef inputFilename,
                                StringRef outputFilename,
                                DialectRegistry &registry,
                                const MlirOptMainConfig &config) {
  if (inputFilename != "-") {
    llvm::sys::fs::file_status status;
    if (!llvm::sys::fs::status(inputFilename, status) &&
        !llvm::sys::fs::is_regular_file(status) &&
        status.type() != llvm::sys::fs::file_type::fifo_file) {
      llvm::errs() << "error: " << inputFilename
                   << ": the input must be a file, a FIFO or stdin, not "
                   << (llvm::sys::fs::is_directory(status) ? "a directory"
                                                           : "a device")
                   << "\n";
      return failure();
    }
  } else if (llvm::sys::Process::FileDescriptorIsDisplayed(fileno(stdin))) {
    llvm::errs() << "(processing input from stdin now, hit ctrl-c/ctrl-d to "
                    "interrupt)\n";
  }
  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file =
      openInputFile(inputFilename, &errorMessage);
  if (!file) {
    llvm::errs() << errorMessage << "\n";
    return failure();
  }
  if (auto at = hfq::spec::findDeepNesting(
          std::string_view(file->getBufferStart(), file->getBufferSize()))) {
    llvm::errs() << inputFilename << ":" << at->first << ":" << at->second
                 << ": error: brackets nested deeper than "
                 << hfq::limits::kMaxIrNesting << " levels "
                 << hfq::spec::limitNote("kMaxIrNesting",
                                         hfq::limits::kMaxIrNesting)
                 << "\n";
    return failure();
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::errs() << errorMessage << "\n";
    return failure();
  }
  if (failed(MlirOptMain(output->os(), std::move(file), registry, config)))
    return failure();
  output->keep();
  return success();
}

int main(int argc, char **argv) {
  // Only what hfq's passes and pipelines use (passes/Pipelines.cpp).
  DialectRegistry registry;
  hfq::registerHFQDialects(registry);
  hfq::registerHFQPipelines();

  auto [inputFilename, outputFilename] =
      registerAndParseCLIOptions(argc, argv, "hfq optimizer driver", registry);

  auto methods = std::make_shared<hfq::spec::MethodRegistry>();
  hfq::spec::SpecError error;
  bool loaded = hfq::spec::loadBuiltinSpecs(*methods, error);
  for (const std::string &path : specPaths)
    loaded = loaded && methods->loadPath(path, error);
  if (!loaded) {
    llvm::errs() << "error: " << error.str() << "\n";
    return 1;
  }
  hfq::setMethodRegistry(methods);

  if (listMethods) {
    printRegistry(*methods, llvm::outs());
    return 0;
  }
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return asMainReturnCode(
        MlirOptMain(argc, argv, inputFilename, outputFilename, registry));
  return asMainReturnCode(
      runOnInput(inputFilename, outputFilename, registry, config));
}
