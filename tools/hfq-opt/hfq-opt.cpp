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

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

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
  return asMainReturnCode(
      MlirOptMain(argc, argv, inputFilename, outputFilename, registry));
}
