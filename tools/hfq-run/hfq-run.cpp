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

#include "tools/hfq-run/Session.h"

#include "runtime/WeightStore.h"
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
    cl::desc("The prompt as text (needs a tokenizer; see docs/model-import.md)"));
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

/// generation_config.json's eos_token_id (else config.json's): an int or a
/// list of ints.
static std::vector<int64_t> eosTokens(const importer::ModelDirectory &model) {
  spec::Json generation;
  std::string ignored;
  const spec::Json *source = &model.config;
  if (llvm::sys::fs::exists(model.path + "/generation_config.json") &&
      spec::readJsonFile(model.path + "/generation_config.json",
                         "generation_config.json", generation, ignored))
    source = &generation;
  std::vector<int64_t> eos;
  auto it = source->find("eos_token_id");
  if (it == source->end())
    return eos;
  if (it->is_number_integer())
    eos.push_back(it->get<int64_t>());
  else if (it->is_array())
    for (const auto &id : *it)
      if (id.is_number_integer())
        eos.push_back(id.get<int64_t>());
  return eos;
}

static std::string idList(const std::vector<int64_t> &ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i)
    out += (i ? ", " : "") + std::to_string(ids[i]);
  return out + "]";
}

static bool writeLogits(const std::string &path,
                        const std::vector<int64_t> &prompt,
                        const run::GenerateResult &result, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    error = "cannot write '" + path + "': " + ec.message();
    return false;
  }
  os << "{\"input_ids\": " << idList(prompt) << ",\n \"generated_ids\": "
     << idList(result.generated) << ",\n \"logits\": [";
  for (size_t t = 0; t < result.promptLogits.size(); ++t) {
    os << (t ? ",\n  [" : "\n  [");
    for (size_t v = 0; v < result.promptLogits[t].size(); ++v)
      os << (v ? ", " : "") << llvm::format("%.9g", result.promptLogits[t][v]);
    os << "]";
  }
  os << "]}\n";
  return true;
}

static void progress(uint64_t done, uint64_t total, const std::string &file) {
  if (total >= (uint64_t(1) << 30))
    llvm::errs() << llvm::format("hfq-run: mapped %.1f of %.1f GB (%s)\n",
                                 done / 1e9, total / 1e9, file.c_str());
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
      "hfq-run: import, compile and run a Hugging Face checkpoint "
      "directory (greedy generation)\n");
  if (!promptText.empty())
    return fail("--prompt needs a tokenizer, which hfq-run does not read yet; "
                "pass the prompt as --prompt-ids (docs/model-import.md)");
  if (promptIds.empty())
    return fail("no prompt: pass --prompt-ids=1,2,3");
  if (maxNewTokens < 1 || maxNewTokens > (1 << 20))
    return fail("--max-new-tokens must be in [1, 1048576]");
  std::vector<int64_t> prompt(promptIds.begin(), promptIds.end());
  std::string error;
  importer::ModelDirectory model;
  if (!importer::readModelDirectory(modelDir, model, error))
    return fail(error);

  Clock::time_point start = Clock::now();
  auto store = runtime::WeightStore::open(modelDir, error, progress);
  if (!store)
    return fail(error);
  double loadMs = msSince(start);

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
  start = Clock::now();
  run::CompiledModel compiled;
  if (!run::compileModel(model, options, compiled, error))
    return fail(error);
  double compileMs = msSince(start);
  for (const auto &w : compiled.weights)
    if (!store->validate(w.name, w.dtype, w.shape, error))
      return fail(error);
  runtime::installWeightStore(store.get());

  run::GenerateResult result;
  bool ok = run::generate(compiled, prompt, maxNewTokens, eosTokens(model),
                          result, error);
  runtime::installWeightStore(nullptr);
  if (!ok)
    return fail(error);
  if (!logitsOut.empty() && !writeLogits(logitsOut, prompt, result, error))
    return fail(error);

  const importer::DecoderConfig &c = model.decoder;
  size_t steps = result.generated.size();
  llvm::outs() << "model      " << modelDir << " (" << c.architecture << ", "
               << c.numLayers << " layers, hidden " << c.hiddenSize
               << ", vocab " << c.vocabSize << ")\n"
               << "run        dtype " << compiled.dtype << ", target "
               << target << "\n"
               << "prompt     " << idList(prompt) << "\n"
               << "generated  " << idList(result.generated) << "\n"
               << llvm::format("load       %.1f ms (%zu tensors, %.1f MB "
                               "mapped, %.1f MB copied for alignment)\n",
                               loadMs, store->tensorCount(),
                               store->mappedBytes() / 1e6,
                               store->copiedBytes() / 1e6)
               << llvm::format("compile    %.1f ms\n", compileMs)
               << llvm::format("prefill    %.2f ms (%zu tokens, %.1f tokens/s)\n",
                               result.prefillMs, prompt.size(),
                               prompt.size() * 1000.0 / result.prefillMs);
  if (steps > 1)
    llvm::outs() << llvm::format(
        "decode     %.2f ms/token (%.1f tokens/s)\n",
        result.decodeMs / double(steps - 1),
        double(steps - 1) * 1000.0 / result.decodeMs);
  return 0;
}
