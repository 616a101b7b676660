//===- hfq-run.cpp - Run a Hugging Face checkpoint directory --------------===//
//
//   hfq-run MODEL_DIR [--target=cpu|sm_90|...] [--quantization-config=JSON|@file]
//           [--device-map=...] [--dtype=auto|float32|bfloat16|float16]
//           --prompt-ids=1,2,3 [--max-new-tokens=N] [--logits-out=FILE.json]
//           [--report=FILE.json]
//
// Maps the checkpoint (runtime/WeightStore), imports and compiles the model
// (Session.h), checks every weight the compiled code reads against the
// checkpoint (name, dtype, shape) before running anything, then prefills
// and decodes greedily, printing the ids and the timings. Every error is
// one line, exit 1.
//
//===----------------------------------------------------------------------===//

#include "driver/Driver.h"

#include "runtime/Host.h"
#include "runtime/Tokenizer.h"
#include "spec/Input.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <fstream>

namespace cl = llvm::cl;
using namespace hfq;

static cl::opt<std::string> modelDir(cl::Positional, cl::Required,
                                     cl::desc("<checkpoint directory>"));
static cl::opt<std::string> target("target", cl::init("cpu"),
    cl::desc("Compile target: cpu, or sm_<NN> (the CUDA kernel library)"));
static cl::opt<std::string> quantizationConfig("quantization-config",
    cl::desc("from_pretrained's quantization_config=: JSON or @file"));
static cl::opt<std::string> deviceMap("device-map",
    cl::desc("from_pretrained's device_map= (auto, cpu, cuda:0, or JSON)"));
static cl::opt<std::string> dtype("dtype", cl::init("auto"),
    cl::desc("from_pretrained's dtype=: auto, float32, float16, bfloat16 "
             "(the activation and compute dtype)"));
static cl::list<int64_t> promptIds("prompt-ids", cl::CommaSeparated,
    cl::desc("The prompt as token ids: 1,2,3"));
static cl::opt<std::string> promptText("prompt",
    cl::desc("The prompt as text (the checkpoint's tokenizer.model, read "
             "with SentencePiece)"));
static cl::opt<int64_t> maxNewTokens("max-new-tokens", cl::init(16),
    cl::desc("Greedy steps after the prompt"));
static cl::opt<std::string> logitsOut("logits-out",
    cl::desc("Write the prefill's logits and the generated ids as JSON"));
static cl::opt<std::string> report("report",
    cl::desc("Write the dispatch report (JSON) with each layer's kernel"));
static cl::list<std::string> kernelLibs("kernels", cl::CommaSeparated,
    cl::desc("Kernel libraries to link (default: the CPU reference, and for "
             "sm_* targets the CUDA kernels, next to hfq-run)"));
static cl::opt<std::string> dumpIr("dump-ir", cl::Hidden,
    cl::desc("Write the IR after import and dispatch to <prefix>.*.mlir"));

static int fail(const std::string &message) {
  llvm::errs() << "hfq-run: error: " << message << "\n";
  return 1;
}

using Clock = std::chrono::steady_clock;
static double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

/// The kernel libraries beside this executable (../lib).
static std::vector<std::string> defaultKernelLibraries(const char *argv0) {
  std::string exe = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&defaultKernelLibraries));
  llvm::SmallString<256> lib(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(lib, "lib");
  std::vector<std::string> libs;
  if (target != "cpu") {
    llvm::SmallString<256> cuda(lib);
    llvm::sys::path::append(cuda, "libhfq_kernels_cuda.so");
    if (llvm::sys::fs::exists(cuda))
      libs.push_back(cuda.str().str());
  }
  llvm::sys::path::append(lib, "libhfq_kernels_ref.so");
  libs.push_back(lib.str().str());
  return libs;
}

/// The BOS id transformers' Llama-family tokenizers prepend: config.json's
/// bos_token_id, unless tokenizer_config.json sets add_bos_token false.
static int64_t bosToken(const importer::ModelDirectory &model) {
  auto bos = model.config.find("bos_token_id");
  if (bos == model.config.end() || !bos->is_number_integer())
    return -1;
  spec::Json tokenizerConfig;
  std::string ignored;
  std::string path = model.path + "/tokenizer_config.json";
  if (llvm::sys::fs::exists(path) &&
      spec::readJsonFile(path, "tokenizer_config.json", tokenizerConfig,
                         ignored) &&
      tokenizerConfig.value("add_bos_token", true) == false)
    return -1;
  return bos->get<int64_t>();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
      "hfq-run: import, compile and run a Hugging Face checkpoint "
      "directory (greedy generation)\n");
  if (!promptText.empty() && !promptIds.empty())
    return fail("pass the prompt as --prompt or as --prompt-ids, not both");
  if (promptText.empty() && promptIds.empty())
    return fail("no prompt: pass --prompt=TEXT or --prompt-ids=1,2,3");
  if (maxNewTokens < 1 || maxNewTokens > (1 << 20))
    return fail("--max-new-tokens must be in [1, 1048576]");
  std::vector<int64_t> prompt(promptIds.begin(), promptIds.end());
  std::string error;
  importer::ModelDirectory model;
  if (!importer::readModelDirectory(modelDir, model, error))
    return fail(error);
  // Text in and out where the checkpoint has a tokenizer SentencePiece reads.
  std::string ignored;
  std::unique_ptr<runtime::Tokenizer> tokenizer = runtime::Tokenizer::open(
      modelDir, bosToken(model), promptText.empty() ? ignored : error);
  if (!promptText.empty() &&
      (!tokenizer || !tokenizer->encode(promptText, prompt, error)))
    return fail(error);

  run::CompileOptions options;
  options.target = target;
  options.quantizationConfig = quantizationConfig;
  options.deviceMap = deviceMap;
  options.dtype = dtype;
  options.report = report;
  options.dumpIr = dumpIr;
  options.kernelLibraries = kernelLibs.empty()
                                ? defaultKernelLibraries(argv[0])
                                : std::vector<std::string>(kernelLibs.begin(),
                                                           kernelLibs.end());
  Clock::time_point start = Clock::now();
  run::CompiledModel compiled;
  if (!run::compileModel(model, options, compiled, error))
    return fail(error);
  double compileMs = msSince(start);

  start = Clock::now();
  auto store =
      runtime::openCheckedStore(modelDir, compiled.weights, "hfq-run", error);
  if (!store)
    return fail(error);
  double loadMs = msSince(start);
  runtime::EntryPoints entries = run::entryPoints(compiled, error);
  if (!entries.prefill)
    return fail(error);
  entries.allPromptLogits = !logitsOut.empty();
  runtime::installWeightStore(store.get());
  runtime::GenerateResult result;
  bool ok = runtime::generate(run::modelShape(compiled), entries, prompt,
                              maxNewTokens, runtime::eosTokens(modelDir),
                              result, error);
  runtime::installWeightStore(nullptr);
  if (!ok)
    return fail(error);
  if (!logitsOut.empty() &&
      !runtime::writeLogits(logitsOut, prompt, result, error))
    return fail(error);

  runtime::RunSummary summary;
  summary.model = run::describe(model);
  summary.dtype = compiled.dtype;
  summary.target = target;
  summary.prompt = prompt;
  summary.result = &result;
  summary.store = store.get();
  summary.loadMs = loadMs;
  summary.compileMs = compileMs;
  if (tokenizer)
    summary.text = tokenizer->decode(result.generated);
  runtime::printRunSummary(stdout, summary);
  return 0;
}
