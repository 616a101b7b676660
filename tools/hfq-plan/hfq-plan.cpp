//===- hfq-plan.cpp - What will happen on this GPU, before the download ---===//
//
// The dry-run planner: given a checkpoint's config.json (and optionally its
// safetensors index or files, read header-only), the user's quantization
// config, a device map and a target GPU, prints what transformers would
// decide — quantizer, merged config, warnings or the error — and, per
// linear layer, whether it is quantized (and why not) and which kernel runs
// it for decode and for prefill. No model IR, no weights.
//
//   hfq-plan --config=config.json --target=sm_80
//   hfq-plan --config=config.json --index=model.safetensors.index.json \
//            --quantization-config='{"quant_method":"gptq","bits":8}' --json
//
// main() runs the steps in order: options, registry, inputs, decision,
// modules, plan, then the table or the JSON report (quantizer/Report.h, the
// serializer the passes' report= uses too).
//
//===----------------------------------------------------------------------===//

#include "checkpoint/ModelShapes.h"
#include "checkpoint/Safetensors.h"
#include "quantizer/Report.h"
#include "spec/BuiltinSpecs.h"
#include "spec/Input.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <map>
#include <regex>
#include <unordered_map>

using namespace hfq;
using spec::Json;

namespace {

struct Options {
  std::string config, index, quantizationConfig, deviceMap, dtype = "auto";
  std::string target = "sm_90";
  std::vector<std::string> safetensors, specPaths;
  int64_t decodeRows = 1, prefillRows = 4096;
  bool json = false, weightsOnly = true, allModules = false;
};

const char *kUsage =
    "usage: hfq-plan --config=config.json [options]\n"
    "  --index=FILE                 safetensors index (module names; shapes "
    "from shards present)\n"
    "  --safetensors=FILE           a safetensors file (header only); "
    "repeatable\n"
    "  --quantization-config=JSON   the quantization_config= you would pass "
    "(inline or @file)\n"
    "  --device-map=MAP             auto, cpu, cuda:0, or a JSON object "
    "(inline or @file)\n"
    "  --dtype=DTYPE                auto (default), float16, bfloat16, "
    "float32\n"
    "  --weights-only=true|false    weights_only= (default true)\n"
    "  --target=TARGET              sm_90 (default), sm_89, sm_80, ..., or "
    "cpu\n"
    "  --decode-rows=M              activation rows of a decode step "
    "(default 1)\n"
    "  --prefill-rows=M             activation rows of a prefill step "
    "(default 4096)\n"
    "  --hfq-spec-path=FILE|DIR     load more method specs; repeatable\n"
    "  --all-modules                one line per module instead of grouping "
    "layers\n"
    "  --json                       print the report as JSON\n";

/// Exit codes: 1 for a problem with the inputs, 2 for a usage error.
int fail(const std::string &message) {
  std::cerr << "error: " << message << "\n";
  return 1;
}

int usageError(const std::string &message) {
  std::cerr << "error: " << message << "\n" << kUsage;
  return 2;
}

/// Parses JSON given inline or as @file, under the limits of
/// spec/Limits.h (a regular file of at most kMaxJsonFileBytes, nesting of
/// at most kMaxJsonDepth); the message names the file or the option, the
/// JSON pointer and the problem.
bool parseJsonArg(const std::string &what, const std::string &arg, Json &out,
                  std::string &error) {
  if (!arg.empty() && arg[0] == '@')
    return spec::readJsonFile(arg.substr(1), (what + " file").c_str(), out,
                              error);
  spec::JsonParseError parseError;
  if (spec::parseJsonText(arg, out, parseError))
    return true;
  error = what + ": " +
          (parseError.pointer.empty() ? "" : parseError.pointer + ": ") +
          parseError.message;
  return false;
}

/// A decimal integer that fits int64 (strtoll clamps; this refuses).
bool parseInt(const std::string &text, int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    return false;
  out = value;
  return true;
}

std::string dump(const Json &value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

/// Parses one argument that is not a plain `--name=value` string option.
/// Returns -1 when it was understood, else the exit code.
int parseFlag(const std::string &arg, Options &opts) {
  auto value = [&](const char *name, std::string &out) {
    std::string prefix = std::string(name) + "=";
    if (arg.compare(0, prefix.size(), prefix) != 0)
      return false;
    out = arg.substr(prefix.size());
    return true;
  };
  std::string text;
  if (value("--safetensors", text)) {
    opts.safetensors.push_back(text);
  } else if (value("--hfq-spec-path", text)) {
    opts.specPaths.push_back(text);
  } else if (value("--weights-only", text)) {
    if (text != "true" && text != "false")
      return fail("--weights-only must be true or false");
    opts.weightsOnly = text == "true";
  } else if (value("--decode-rows", text)) {
    if (!parseInt(text, opts.decodeRows) || opts.decodeRows < 1 ||
        opts.decodeRows > limits::kMaxLinearDim)
      return fail("--decode-rows must be a positive integer up to " +
                  std::to_string(limits::kMaxLinearDim));
  } else if (value("--prefill-rows", text)) {
    if (!parseInt(text, opts.prefillRows) || opts.prefillRows < 1 ||
        opts.prefillRows > limits::kMaxLinearDim)
      return fail("--prefill-rows must be a positive integer up to " +
                  std::to_string(limits::kMaxLinearDim));
  } else if (arg == "--json") {
    opts.json = true;
  } else if (arg == "--all-modules") {
    opts.allModules = true;
  } else {
    return usageError("unknown argument '" + arg + "'");
  }
  return -1;
}

/// Returns -1 to go on, else the exit code (0 after --help).
int parseOptions(int argc, char **argv, Options &opts) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    bool isString = false;
    for (auto [name, out] :
         {std::make_pair("--config=", &opts.config),
          std::make_pair("--index=", &opts.index),
          std::make_pair("--quantization-config=", &opts.quantizationConfig),
          std::make_pair("--device-map=", &opts.deviceMap),
          std::make_pair("--dtype=", &opts.dtype),
          std::make_pair("--target=", &opts.target)}) {
      std::string prefix = name;
      if (!isString && arg.compare(0, prefix.size(), prefix) == 0) {
        *out = arg.substr(prefix.size());
        isString = true;
      }
    }
    if (isString)
      continue;
    if (int status = parseFlag(arg, opts); status >= 0)
      return status;
  }
  if (opts.config.empty())
    return usageError("--config is required");
  return -1;
}

//===----------------------------------------------------------------------===//
// Inputs and decision
//===----------------------------------------------------------------------===//

bool loadRegistry(const Options &opts, spec::MethodRegistry &registry,
                  std::string &error) {
  spec::SpecError specError;
  bool loaded = spec::loadBuiltinSpecs(registry, specError);
  for (const std::string &path : opts.specPaths)
    loaded = loaded && registry.loadPath(path, specError);
  if (!loaded)
    error = specError.str();
  return loaded;
}

/// What from_pretrained would receive, from the options; the target is
/// parsed here, once.
bool readInputs(const Options &opts, spec::DispatchInputs &inputs,
                std::string &error) {
  // A regular file within the limits; invalid JSON is reported as such,
  // where it stands.
  if (!spec::readJsonFile(opts.config, "config.json", inputs.modelConfig,
                          error))
    return false;
  if (!inputs.modelConfig.is_object()) {
    error = opts.config + ": not a JSON object (expected a config.json)";
    return false;
  }
  if (!opts.quantizationConfig.empty()) {
    Json user;
    if (!parseJsonArg("--quantization-config", opts.quantizationConfig, user,
                      error))
      return false;
    inputs.userConfig = user;
  }
  if (!opts.deviceMap.empty()) {
    if (opts.deviceMap[0] != '{' && opts.deviceMap[0] != '@')
      inputs.deviceMap = opts.deviceMap;
    else if (!parseJsonArg("--device-map", opts.deviceMap, inputs.deviceMap,
                           error))
      return false;
  }
  inputs.target = opts.target;
  if (!inputs.target.valid()) {
    error = inputs.target.error();
    return false;
  }
  inputs.dtype = opts.dtype;
  inputs.weightsOnly = opts.weightsOnly;
  return true;
}

/// The model's linear layers: from safetensors headers or an index when
/// given, else from config.json for the architectures it describes.
/// `source` says which.
bool findLinears(const Options &opts, const spec::DispatchInputs &inputs,
                 const spec::DispatchDecision &decision,
                 std::vector<checkpoint::LinearInfo> &linears,
                 std::string &source, std::string &error) {
  std::map<std::string, checkpoint::TensorInfo> tensors;
  for (const std::string &file : opts.safetensors)
    if (!checkpoint::readSafetensorsHeader(file, tensors, error))
      return false;
  if (!opts.index.empty() &&
      !checkpoint::readSafetensorsIndex(opts.index, tensors, error))
    return false;
  if (!tensors.empty()) {
    // A quantized linear is found by its layout's first tensor (qweight).
    std::vector<std::string> anchors;
    if (decision.quantizer)
      for (const spec::LayoutSpec &layout : decision.quantizer->layouts)
        if (!layout.tensors.empty())
          anchors.push_back(layout.tensors.front().name);
    linears = checkpoint::linearsFromTensors(tensors, anchors);
    source = "checkpoint tensor names";
    // A quantized layer's packed tensors do not give its N and K; the
    // config of a known architecture does (as hfq-import reads them).
    std::vector<checkpoint::LinearInfo> fromConfig;
    std::string ignored;
    if (checkpoint::linearsFromConfig(inputs.modelConfig, fromConfig,
                                      ignored)) {
      std::unordered_map<std::string, const checkpoint::LinearInfo *> byName;
      for (const checkpoint::LinearInfo &info : fromConfig)
        byName.emplace(info.name, &info);
      bool filled = false;
      for (checkpoint::LinearInfo &info : linears) {
        auto it = byName.find(info.name);
        if ((info.n < 0 || info.k < 0) && it != byName.end() &&
            it->second->n > 0 && it->second->k > 0) {
          info.n = it->second->n;
          info.k = it->second->k;
          filled = true;
        }
      }
      if (filled)
        source += ", shapes from config.json";
    }
  } else if (checkpoint::linearsFromConfig(inputs.modelConfig, linears,
                                           error)) {
    source = "config.json (model_type " +
             inputs.modelConfig.value("model_type", std::string()) + ")";
  } else if (!error.empty()) {
    // A field out of range (spec/Limits.h), before any arithmetic on it.
    error = opts.config + ": " + error;
    return false;
  } else {
    source = "none: pass --index or --safetensors for this architecture";
  }
  return true;
}

//===----------------------------------------------------------------------===//
// The plan
//===----------------------------------------------------------------------===//

/// The report: the decision and, when it quantizes, every linear's plan
/// with its shape and its kernel for a decode and a prefill step.
spec::Report planReport(const Options &opts, const spec::DispatchInputs &in,
                        const spec::DispatchDecision &decision,
                        const std::vector<checkpoint::LinearInfo> &linears,
                        const std::string &source) {
  std::vector<spec::ModulePlan> plans;
  if (decision.quantizer && !decision.error) {
    std::vector<std::string> names;
    spec::ModelHints hints;
    for (const checkpoint::LinearInfo &linear : linears) {
      names.push_back(linear.name);
      if (linear.name == "lm_head") {
        hints.outputEmbeddings = {"lm_head"};
        hints.lastParameter = "lm_head.weight";
      }
    }
    plans = spec::planModules(decision, names, hints);
  }
  spec::Report report = spec::makeReport(decision, in.target, plans);
  report.moduleSource = source;
  std::string actDtype = spec::activationDtype(decision.dtype);
  for (size_t i = 0; i < report.modules.size(); ++i) {
    spec::ModuleReport &module = report.modules[i];
    const checkpoint::LinearInfo &linear = linears[i];
    module.shape = spec::ModuleReport::Shape{linear.n, linear.k, linear.repeat};
    module.steps.emplace();
    if (!module.quantized || linear.n <= 0 || linear.k <= 0)
      continue;
    for (auto [m, out] :
         {std::make_pair(opts.decodeRows, &module.steps->decode),
          std::make_pair(opts.prefillRows, &module.steps->prefill)}) {
      std::string error;
      std::optional<spec::KernelChoice> choice = spec::selectKernel(
          *decision.quantizer, decision.config, plans[i].scheme, linear.n,
          linear.k, m, in.target, actDtype, error);
      *out = !choice                  ? "error: " + error
             : choice->kernel.empty() ? "(none accepts it)"
                                      : choice->kernel;
    }
  }
  return report;
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

/// "model.layers.12.mlp.up_proj" -> "model.layers.*.mlp.up_proj".
std::string layerPattern(const std::string &name) {
  static const std::regex layerIndex(R"(\.(layers|h|blocks)\.[0-9]+\.)");
  return std::regex_replace(name, layerIndex, ".$1.*.");
}

std::string pad(const std::string &s, size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

/// Rows with the same decision for the same module of every layer.
struct Group {
  std::string name;
  const spec::ModuleReport *module;
  int64_t count = 0;
};

/// In the order each group first appears; a hash of the grouping fields
/// keeps this linear in the number of modules (a 91k-tensor index took
/// seconds when every row searched the groups).
std::vector<Group> groupModules(const spec::Report &report, bool allModules) {
  std::vector<Group> groups;
  std::unordered_map<std::string, size_t> index;
  for (const spec::ModuleReport &module : report.modules) {
    std::string name = allModules ? module.name : layerPattern(module.name);
    // Each field length-prefixed, so no two field lists share a key.
    std::string key;
    for (const std::string &field :
         {name, std::string(module.quantized ? "q" : "s"), module.rule,
          std::to_string(module.shape->n), std::to_string(module.shape->k),
          module.steps->decode, module.steps->prefill})
      key += std::to_string(field.size()) + ":" + field;
    auto [it, added] = index.emplace(std::move(key), groups.size());
    if (added)
      groups.push_back({name, &module, module.shape->repeat});
    else
      groups[it->second].count += module.shape->repeat;
  }
  return groups;
}

/// The decision's lines: target, quantizer, dtype, config, messages.
void printDecision(const spec::Report &report) {
  std::cout << "target       " << report.target << "\n";
  if (report.quantMethod.empty())
    std::cout << "quantizer    none: the model loads unquantized\n";
  else
    std::cout << "quantizer    " << report.quantMethod << " ("
              << report.quantizerClass << ", " << report.configClass << "), "
              << (report.preQuantized ? "pre-quantized checkpoint"
                                      : "quantized on the fly")
              << "\n";
  std::cout << "dtype        " << report.dtype << "\n"
            << "device_map   " << dump(report.deviceMap) << "\n";
  if (!report.quantMethod.empty())
    std::cout << "config       " << dump(report.config) << "\n";
  for (const spec::DispatchMessage &m : report.messages)
    std::cout << (m.level == spec::DispatchMessage::Level::Warning
                      ? "warning      "
                      : "info         ")
              << m.text << "\n";
  if (report.error)
    std::cout << "error        " << report.error->str() << "\n";
}

void printModules(const spec::Report &report, const Options &opts) {
  std::vector<Group> groups = groupModules(report, opts.allModules);
  // The kernel columns are 22 wide, or wider where a kernel's name needs it
  // (hfq_ref_auto_round_gptq), so that two spaces separate the columns; an
  // error message does not widen them.
  size_t width = 6, kernelWidth = 22;
  for (const Group &g : groups) {
    width = std::max(width, g.name.size());
    for (const std::string *kernel :
         {&g.module->steps->decode, &g.module->steps->prefill})
      if (kernel->rfind("error: ", 0) != 0)
        kernelWidth = std::max(kernelWidth, kernel->size() + 2);
  }
  std::cout << pad("module", width) << "  " << pad("count", 6)
            << pad("N x K", 14) << pad("action", 11)
            << pad("kernel M=" + std::to_string(opts.decodeRows), kernelWidth)
            << pad("kernel M=" + std::to_string(opts.prefillRows), kernelWidth)
            << "rule\n";
  int64_t quantized = 0, skipped = 0;
  for (const Group &g : groups) {
    const spec::ModuleReport &m = *g.module;
    std::string shape = m.shape->n > 0 ? std::to_string(m.shape->n) + " x " +
                                             std::to_string(m.shape->k)
                                       : "?";
    (m.quantized ? quantized : skipped) += g.count;
    std::cout << pad(g.name, width) << "  " << pad(std::to_string(g.count), 6)
              << pad(shape, 14)
              << pad(m.quantized ? "quantized" : "skipped", 11)
              << pad(m.steps->decode.empty() ? "-" : m.steps->decode,
                     kernelWidth)
              << pad(m.steps->prefill.empty() ? "-" : m.steps->prefill,
                     kernelWidth)
              << m.rule << "\n";
  }
  std::cout << "\n"
            << quantized << " linear layers quantized, " << skipped
            << " left unquantized\n";
}

/// Exit code 1 when dispatch raised, as for a failed from_pretrained.
int printTable(const spec::Report &report, const Options &opts) {
  printDecision(report);
  if (report.error)
    return 1;
  if (report.quantMethod.empty())
    return 0;
  std::cout << "modules      from " << *report.moduleSource << "\n\n";
  if (!report.modules.empty())
    printModules(report, opts);
  return 0;
}

int printJson(const spec::Report &report) {
  std::cout << spec::reportToJson(report).dump(2, ' ', false,
                                               Json::error_handler_t::replace)
            << "\n";
  return report.error ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  Options opts;
  if (int status = parseOptions(argc, argv, opts); status >= 0)
    return status;
  spec::MethodRegistry registry;
  spec::DispatchInputs inputs;
  std::string error;
  if (!loadRegistry(opts, registry, error) || !readInputs(opts, inputs, error))
    return fail(error);
  spec::DispatchDecision decision = spec::dispatchQuantizer(registry, inputs);
  std::vector<checkpoint::LinearInfo> linears;
  std::string source;
  if (!findLinears(opts, inputs, decision, linears, source, error))
    return fail(error);
  spec::Report report = planReport(opts, inputs, decision, linears, source);
  return opts.json ? printJson(report) : printTable(report, opts);
}
