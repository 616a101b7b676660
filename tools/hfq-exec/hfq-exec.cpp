//===- hfq-exec.cpp - Run a compiled artifact (no LLVM) -------------------===//
//
//   hfq-exec ARTIFACT_DIR MODEL_DIR --prompt-ids=1,2,3 [--max-new-tokens=N]
//            [--logits-out=FILE.json] [--kernels=lib1.so,lib2.so]
//            [--warmup] [--no-graphs]
//
// Loads the kernel libraries with their symbols global, then
// ARTIFACT_DIR/model.so (hfq-compile), maps the checkpoint and checks every
// tensor the manifest names, and generates as hfq-run does, printing the
// same summary. The default libraries are those beside this executable
// (../lib): the CPU reference for a CPU artifact; for a GPU artifact
// (target sm_<NN>) the device runtime, the CUDA model ops, the CUDA
// weight-only kernels and the reference, in that order, the first
// definition of a symbol winning (docs/runtime.md, "The GPU target").
// --warmup generates once before the measured run (the first run uploads
// and repacks the weights). It links no LLVM or MLIR: a GPU machine's host
// is built this way with nvcc alone.
//
//===----------------------------------------------------------------------===//

#include "kernels/include/hfq_kernels.h"
#include "runtime/Host.h"
#include "runtime/hfq_device.h"
#include "spec/Input.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace hfq;

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "hfq-exec: error: %s\n", message.c_str());
  return 1;
}

struct Options {
  std::string artifact, model, logitsOut;
  std::vector<int64_t> prompt;
  std::vector<std::string> kernels;
  int64_t maxNewTokens = 16;
  bool warmup = false, graphs = true;
};

std::vector<std::string> splitCommas(const std::string &text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// Parses an integer of the whole of `text`.
bool parseInt(const std::string &text, int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno)
    return false;
  out = v;
  return true;
}

bool parseArgs(int argc, char **argv, Options &o, std::string &error) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *name, std::string &out) {
      size_t n = std::strlen(name);
      if (arg.compare(0, n, name) != 0)
        return false;
      out = arg.substr(n);
      return true;
    };
    std::string v;
    if (value("--prompt-ids=", v)) {
      for (const std::string &id : splitCommas(v)) {
        int64_t parsed;
        if (!parseInt(id, parsed)) {
          error = "--prompt-ids: '" + id + "' is not an integer";
          return false;
        }
        o.prompt.push_back(parsed);
      }
    } else if (value("--max-new-tokens=", v)) {
      if (!parseInt(v, o.maxNewTokens) || o.maxNewTokens < 1 ||
          o.maxNewTokens > (1 << 20)) {
        error = "--max-new-tokens must be in [1, 1048576]";
        return false;
      }
    } else if (value("--logits-out=", v)) {
      o.logitsOut = v;
    } else if (value("--kernels=", v)) {
      o.kernels = splitCommas(v);
    } else if (arg == "--warmup") {
      o.warmup = true;
    } else if (arg == "--no-graphs") {
      o.graphs = false;
    } else if (arg.rfind("-", 0) == 0) {
      error = "unknown option '" + arg + "'";
      return false;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2 || o.prompt.empty()) {
    error = "usage: hfq-exec ARTIFACT_DIR MODEL_DIR --prompt-ids=1,2,3 "
            "[--max-new-tokens=N] [--logits-out=F] [--kernels=a.so,b.so] "
            "[--warmup] [--no-graphs]";
    return false;
  }
  o.artifact = positional[0];
  o.model = positional[1];
  return true;
}

/// The kernel libraries beside this executable (../lib) for an artifact
/// whose activations live on the device or the host.
std::vector<std::string> defaultKernels(bool device) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string dir = n > 0 ? std::string(exe, n) : std::string(".");
  for (int up = 0; up < 2; ++up)
    dir = dir.substr(0, dir.find_last_of('/'));
  dir += "/lib/";
  if (!device)
    return {dir + "libhfq_kernels_ref.so"};
  return {dir + "libhfq_runtime_cuda.so", dir + "libhfq_model_ops_cuda.so",
          dir + "libhfq_kernels_cuda.so", dir + "libhfq_kernels_ref.so"};
}

bool readManifest(const std::string &artifact, spec::Json &manifest,
                  std::vector<runtime::WeightUse> &uses, std::string &error) {
  std::string path = artifact + "/manifest.json";
  if (!spec::readJsonFile(path, "manifest.json", manifest, error))
    return false;
  if (manifest.value("format", std::string()) != "hfq-artifact-1" ||
      !manifest.contains("weights") || !manifest["weights"].is_array() ||
      !manifest.contains("model") || !manifest["model"].is_object()) {
    error = path + ": not an hfq-compile manifest (format hfq-artifact-1)";
    return false;
  }
  for (const spec::Json &w : manifest["weights"]) {
    if (!w.is_object() || !w.value("name", spec::Json()).is_string() ||
        !w.value("dtype", spec::Json()).is_string() ||
        !w.value("shape", spec::Json()).is_array()) {
      error = path + ": /weights: every entry needs name, dtype and shape";
      return false;
    }
    runtime::WeightUse use{w["name"], w["dtype"], {}};
    for (const spec::Json &d : w["shape"])
      use.shape.push_back(d.is_number_integer() ? d.get<int64_t>() : -1);
    uses.push_back(use);
  }
  return true;
}

/// The device runtime the loaded libraries export, for a device-resident
/// artifact.
bool deviceRuntime(bool device, const std::string &target,
                   const hfq_device_runtime *&out, std::string &error) {
  out = nullptr;
  if (!device)
    return true;
  using Get = const hfq_device_runtime *(*)();
  auto get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "hfq_device_runtime_get"));
  if (!get) {
    error = "the artifact is compiled for " + target + ", but no device "
            "runtime (libhfq_runtime_cuda.so) is among the kernel libraries";
    return false;
  }
  out = get();
  if (!out)
    error = std::string("the device runtime cannot start: ") +
            hfq_kernel_last_error();
  return out;
}

/// dlopen's error as a string.
std::string dlerrorText() {
  const char *e = dlerror();
  return e ? e : "unknown error";
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  std::string error;
  if (!parseArgs(argc, argv, o, error))
    return fail(error);
  spec::Json manifest;
  std::vector<runtime::WeightUse> uses;
  if (!readManifest(o.artifact, manifest, uses, error))
    return fail(error);
  auto start = std::chrono::steady_clock::now();
  const std::string target = manifest.value("target", std::string());
  const bool device = manifest.value("activations", std::string()) == "device";
  for (const std::string &lib :
       o.kernels.empty() ? defaultKernels(device) : o.kernels)
    if (!dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL))
      return fail("cannot load kernel library " + lib + ": " + dlerrorText());
  // The device runtime first: it defines the allocation functions the
  // model's library needs to load at all.
  const hfq_device_runtime *deviceRuntimeTable = nullptr;
  if (!deviceRuntime(device, target, deviceRuntimeTable, error))
    return fail(error);
  std::string library = o.artifact + "/model.so";
  void *model = dlopen(library.c_str(), RTLD_NOW);
  if (!model)
    return fail("cannot load " + library + ": " + dlerrorText());
  runtime::EntryPoints entries{dlsym(model, "_mlir_ciface_prefill"),
                               dlsym(model, "_mlir_ciface_decode")};
  entries.device = deviceRuntimeTable;
  entries.graphs = o.graphs;
  entries.allPromptLogits = !o.logitsOut.empty();
  double linkMs = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  start = std::chrono::steady_clock::now();
  auto store = runtime::openCheckedStore(o.model, uses, "hfq-exec", error);
  if (!store)
    return fail(error);
  double loadMs = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  const spec::Json &m = manifest["model"];
  runtime::ModelShape shape{m.value("layers", int64_t(0)),
                            m.value("kv_heads", int64_t(0)),
                            m.value("head_dim", int64_t(0)),
                            m.value("vocab_size", int64_t(0)),
                            manifest.value("dtype", std::string())};
  runtime::installWeightStore(store.get());
  runtime::GenerateResult result;
  bool ok = !o.warmup ||
            runtime::generate(shape, entries, o.prompt, o.maxNewTokens,
                              runtime::eosTokens(o.model), result, error);
  result = runtime::GenerateResult();
  ok = ok && runtime::generate(shape, entries, o.prompt, o.maxNewTokens,
                               runtime::eosTokens(o.model), result, error);
  runtime::installWeightStore(nullptr);
  if (!ok)
    return fail(error);
  if (!o.logitsOut.empty() &&
      !runtime::writeLogits(o.logitsOut, o.prompt, result, error))
    return fail(error);
  runtime::RunSummary summary;
  summary.model = o.model + " (" + m.value("architecture", std::string()) +
                  ", artifact " + o.artifact + ")";
  summary.dtype = shape.dtype;
  summary.target = manifest.value("target", std::string());
  summary.prompt = o.prompt;
  summary.result = &result;
  summary.store = store.get();
  summary.loadMs = loadMs;
  summary.compileMs = linkMs;
  summary.compileLabel = "link";
  if (entries.device) {
    summary.device = entries.device->device_name();
    summary.peakDeviceBytes = entries.device->peak_bytes();
  }
  runtime::printRunSummary(stdout, summary);
  return 0;
}
