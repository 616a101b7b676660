//===- hfq-compile.cpp - A checkpoint directory to a compiled artifact ----===//
//
//   hfq-compile MODEL_DIR -o ARTIFACT_DIR [--target=cpu|sm_90|...]
//               [--quantization-config=JSON|@file] [--device-map=...]
//               [--dtype=auto|float32|float16|bfloat16] [--config-only]
//
// Writes ARTIFACT_DIR/model.o, model.so and manifest.json (driver/
// Artifact.cpp); `hfq-exec ARTIFACT_DIR MODEL_DIR` runs it on a machine
// without LLVM. Errors are one line; exit 1.
//
//===----------------------------------------------------------------------===//

#include "driver/Driver.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;
using namespace hfq;

static cl::opt<std::string> modelDir(cl::Positional, cl::Required,
                                     cl::desc("<checkpoint directory>"));
static cl::opt<std::string> outputDir("o", cl::Required,
                                      cl::desc("The artifact directory"));
static cl::opt<std::string> target("target", cl::init("cpu"),
    cl::desc("Compile target: cpu, or sm_<NN>"));
static cl::opt<std::string> quantizationConfig("quantization-config",
    cl::desc("from_pretrained's quantization_config=: JSON or @file"));
static cl::opt<std::string> deviceMap("device-map",
    cl::desc("from_pretrained's device_map="));
static cl::opt<std::string> dtype("dtype", cl::init("auto"),
    cl::desc("from_pretrained's dtype=: auto, float32, float16, bfloat16"));
static cl::opt<bool> configOnly("config-only", cl::init(false),
    cl::desc("Compile from config.json alone (no safetensors read)"));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
      "hfq-compile: a Hugging Face checkpoint directory to a compiled "
      "artifact (object, shared library, manifest)\n");
  std::string error;
  importer::ModelDirectory model;
  run::CompileOptions options;
  options.target = target;
  // A GPU artifact runs device-resident (docs/runtime.md, "The GPU target").
  options.deviceResident = llvm::StringRef(target).starts_with("sm_");
  options.quantizationConfig = quantizationConfig;
  options.deviceMap = deviceMap;
  options.dtype = dtype;
  if (!importer::readModelDirectory(modelDir, model, error, configOnly) ||
      !run::writeArtifact(model, options, outputDir, error)) {
    llvm::errs() << "hfq-compile: error: " << error << "\n";
    return 1;
  }
  llvm::outs() << "hfq-compile: wrote " << outputDir
               << "/{model.o, model.so, manifest.json}\n";
  return 0;
}
