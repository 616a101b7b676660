//===- hfq-plan.cpp - What will happen on this GPU, before the download ----===//
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
//===----------------------------------------------------------------------===//

#include "spec/BuiltinSpecs.h"
#include "quantizer/ModulePlan.h"
#include "checkpoint/Safetensors.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>

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
    "  --index=FILE                 safetensors index (module names; shapes from shards present)\n"
    "  --safetensors=FILE           a safetensors file (header only); repeatable\n"
    "  --quantization-config=JSON   the quantization_config= you would pass (inline or @file)\n"
    "  --device-map=MAP             auto, cpu, cuda:0, or a JSON object (inline or @file)\n"
    "  --dtype=DTYPE                auto (default), float16, bfloat16, float32\n"
    "  --weights-only=true|false    weights_only= (default true)\n"
    "  --target=TARGET              sm_90 (default), sm_89, sm_80, ..., or cpu\n"
    "  --decode-rows=M              activation rows of a decode step (default 1)\n"
    "  --prefill-rows=M             activation rows of a prefill step (default 4096)\n"
    "  --hfq-spec-path=FILE|DIR     load more method specs; repeatable\n"
    "  --all-modules                one line per module instead of grouping layers\n"
    "  --json                       print the report as JSON\n";

bool readText(const std::string &path, std::string &text) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  text = buffer.str();
  return true;
}

/// Parses JSON given inline or as @file; exits with a message on failure.
bool parseJsonArg(const std::string &what, const std::string &arg, Json &out,
                  std::string &error) {
  std::string text = arg;
  if (!arg.empty() && arg[0] == '@' && !readText(arg.substr(1), text)) {
    error = "cannot read " + what + " file '" + arg.substr(1) + "'";
    return false;
  }
  std::optional<Json> parsed = spec::parseJson(text);
  if (!parsed) {
    error = what + " is not valid JSON";
    return false;
  }
  out = std::move(*parsed);
  return true;
}

bool parseInt(const std::string &text, int64_t &out) {
  char *end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0')
    return false;
  out = value;
  return true;
}

std::string dump(const Json &value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

/// One row of the module table.
struct Row {
  spec::ModulePlan plan;
  checkpoint::LinearInfo linear;
  std::string decodeKernel, prefillKernel;
};

/// "model.layers.12.mlp.up_proj" -> "model.layers.*.mlp.up_proj".
std::string layerPattern(const std::string &name) {
  static const std::regex layerIndex(R"(\.(layers|h|blocks)\.[0-9]+\.)");
  return std::regex_replace(name, layerIndex, ".$1.*.");
}

int fail(const std::string &message) {
  std::cerr << "error: " << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *name, std::string &out) {
      std::string prefix = std::string(name) + "=";
      if (arg.compare(0, prefix.size(), prefix) != 0)
        return false;
      out = arg.substr(prefix.size());
      return true;
    };
    std::string text;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (value("--config", opts.config) || value("--index", opts.index) ||
        value("--quantization-config", opts.quantizationConfig) ||
        value("--device-map", opts.deviceMap) || value("--dtype", opts.dtype) ||
        value("--target", opts.target))
      continue;
    if (value("--safetensors", text)) {
      opts.safetensors.push_back(text);
    } else if (value("--hfq-spec-path", text)) {
      opts.specPaths.push_back(text);
    } else if (value("--weights-only", text)) {
      if (text != "true" && text != "false")
        return fail("--weights-only must be true or false");
      opts.weightsOnly = text == "true";
    } else if (value("--decode-rows", text)) {
      if (!parseInt(text, opts.decodeRows) || opts.decodeRows < 1)
        return fail("--decode-rows must be a positive integer");
    } else if (value("--prefill-rows", text)) {
      if (!parseInt(text, opts.prefillRows) || opts.prefillRows < 1)
        return fail("--prefill-rows must be a positive integer");
    } else if (arg == "--json") {
      opts.json = true;
    } else if (arg == "--all-modules") {
      opts.allModules = true;
    } else {
      std::cerr << "error: unknown argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  if (opts.config.empty()) {
    std::cerr << "error: --config is required\n" << kUsage;
    return 2;
  }

  spec::MethodRegistry registry;
  spec::SpecError specError;
  bool loaded = spec::loadBuiltinSpecs(registry, specError);
  for (const std::string &path : opts.specPaths)
    loaded = loaded && registry.loadPath(path, specError);
  if (!loaded)
    return fail(specError.str());

  std::string error, text;
  spec::DispatchInputs inputs;
  if (!readText(opts.config, text))
    return fail("cannot read config '" + opts.config + "'");
  inputs.modelConfig = spec::parseJson(text).value_or(Json());
  if (!inputs.modelConfig.is_object())
    return fail(opts.config + ": not a JSON object (expected a config.json)");
  if (!opts.quantizationConfig.empty()) {
    Json user;
    if (!parseJsonArg("--quantization-config", opts.quantizationConfig, user,
                      error))
      return fail(error);
    inputs.userConfig = user;
  }
  if (!opts.deviceMap.empty()) {
    if (opts.deviceMap[0] == '{' || opts.deviceMap[0] == '@') {
      if (!parseJsonArg("--device-map", opts.deviceMap, inputs.deviceMap, error))
        return fail(error);
    } else {
      inputs.deviceMap = opts.deviceMap;
    }
  }
  std::optional<Json> target = spec::targetScope(opts.target);
  if (!target)
    return fail("unknown target '" + opts.target +
                "' (expected sm_<NN> such as sm_90, or cpu)");
  inputs.dtype = opts.dtype;
  inputs.weightsOnly = opts.weightsOnly;
  inputs.target = opts.target;
  spec::DispatchDecision decision = spec::dispatchQuantizer(registry, inputs);

  // The model's linear layers.
  std::map<std::string, checkpoint::TensorInfo> tensors;
  for (const std::string &file : opts.safetensors)
    if (!checkpoint::readSafetensorsHeader(file, tensors, error))
      return fail(error);
  if (!opts.index.empty() &&
      !checkpoint::readSafetensorsIndex(opts.index, tensors, error))
    return fail(error);
  std::vector<checkpoint::LinearInfo> linears;
  std::string source;
  if (!tensors.empty()) {
    std::vector<std::string> anchors;
    if (decision.quantizer)
      for (const spec::LayoutSpec &layout : decision.quantizer->layouts)
        if (!layout.tensors.empty())
          anchors.push_back(layout.tensors.front().name);
    linears = checkpoint::linearsFromTensors(tensors, anchors);
    source = "checkpoint tensor names";
  } else if (checkpoint::linearsFromConfig(inputs.modelConfig, linears)) {
    source = "config.json (model_type " +
             inputs.modelConfig.value("model_type", std::string()) + ")";
  } else {
    source = "none: pass --index or --safetensors for this architecture";
  }

  std::vector<Row> rows;
  if (decision.quantizer && !decision.error) {
    std::vector<std::string> names;
    bool hasLmHead = false;
    for (const checkpoint::LinearInfo &linear : linears) {
      names.push_back(linear.name);
      hasLmHead = hasLmHead || linear.name == "lm_head";
    }
    spec::ModelHints hints;
    if (hasLmHead)
      hints.outputEmbeddings.push_back("lm_head");
    if (hasLmHead)
      hints.lastParameter = "lm_head.weight";
    std::vector<spec::ModulePlan> plans =
        spec::planModules(decision, names, hints);
    std::string actDtype = decision.dtype == "bfloat16" ? "bf16"
                           : decision.dtype == "float32" ? "f32"
                                                         : "f16";
    for (size_t i = 0; i < plans.size(); ++i) {
      Row row{plans[i], linears[i], "", ""};
      if (row.plan.quantized && linears[i].n > 0 && linears[i].k > 0) {
        for (auto [m, out] : {std::make_pair(opts.decodeRows, &row.decodeKernel),
                              std::make_pair(opts.prefillRows, &row.prefillKernel)}) {
          std::optional<spec::KernelChoice> choice = spec::selectKernel(
              *decision.quantizer, decision.config, row.plan.scheme,
              linears[i].n, linears[i].k, m, *target, actDtype, error);
          *out = !choice ? "error: " + error
                 : choice->kernel.empty() ? "(none accepts it)"
                                          : choice->kernel;
        }
      }
      rows.push_back(std::move(row));
    }
  }

  const spec::QuantizerSpec *q = decision.quantizer;
  if (opts.json) {
    Json out = Json::object();
    out["quant_method"] = q ? Json(q->key) : Json();
    out["quantizer_class"] = q ? Json(q->className) : Json();
    out["config_class"] = q ? Json(q->method->config.className) : Json();
    out["pre_quantized"] = decision.preQuantized;
    out["config"] = decision.configDict;
    Json warnings = Json::array(), infos = Json::array();
    for (const spec::DispatchMessage &m : decision.messages)
      (m.level == spec::DispatchMessage::Level::Warning ? warnings : infos)
          .push_back(m.text);
    out["warnings"] = warnings;
    out["infos"] = infos;
    out["error"] = decision.error ? Json{{"kind", decision.error->kind},
                                         {"message", decision.error->message}}
                                  : Json();
    out["dtype"] = decision.dtype;
    out["device_map"] = decision.deviceMap;
    out["target"] = opts.target;
    out["module_source"] = source;
    Json modules = Json::array();
    for (const Row &row : rows)
      modules.push_back(
          {{"name", row.plan.name},
           {"n", row.linear.n},
           {"k", row.linear.k},
           {"repeat", row.linear.repeat},
           {"action", row.plan.quantized ? "quantized" : "skipped"},
           {"rule", row.plan.rule},
           {"method", row.plan.quantized ? Json(q->key) : Json()},
           {"kernel_decode", row.decodeKernel.empty() ? Json() : Json(row.decodeKernel)},
           {"kernel_prefill", row.prefillKernel.empty() ? Json() : Json(row.prefillKernel)}});
    out["modules"] = modules;
    std::cout << out.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    return decision.error ? 1 : 0;
  }

  std::cout << "target       " << opts.target << "\n";
  if (!q) {
    std::cout << "quantizer    none: the model loads unquantized\n";
  } else {
    std::cout << "quantizer    " << q->key << " (" << q->className << ", "
              << q->method->config.className << "), "
              << (decision.preQuantized ? "pre-quantized checkpoint"
                                        : "quantized on the fly")
              << "\n";
  }
  std::cout << "dtype        " << decision.dtype << "\n"
            << "device_map   " << dump(decision.deviceMap) << "\n";
  if (q)
    std::cout << "config       " << dump(decision.configDict) << "\n";
  for (const spec::DispatchMessage &m : decision.messages)
    std::cout << (m.level == spec::DispatchMessage::Level::Warning ? "warning      "
                                                                   : "info         ")
              << m.text << "\n";
  if (decision.error) {
    std::cout << "error        " << decision.error->str() << "\n";
    return 1;
  }
  if (!q)
    return 0;
  std::cout << "modules      from " << source << "\n\n";
  if (rows.empty())
    return 0;

  // Group identical decisions of the same module in every layer.
  struct Group {
    std::string name;
    Row row;
    int64_t count = 0;
  };
  std::vector<Group> groups;
  for (const Row &row : rows) {
    std::string name = opts.allModules ? row.plan.name : layerPattern(row.plan.name);
    auto same = [&](const Group &g) {
      return g.name == name && g.row.plan.quantized == row.plan.quantized &&
             g.row.plan.rule == row.plan.rule && g.row.linear.n == row.linear.n &&
             g.row.linear.k == row.linear.k &&
             g.row.decodeKernel == row.decodeKernel &&
             g.row.prefillKernel == row.prefillKernel;
    };
    auto it = std::find_if(groups.begin(), groups.end(), same);
    if (it == groups.end())
      groups.push_back({name, row, row.linear.repeat});
    else
      it->count += row.linear.repeat;
  }
  size_t width = 6;
  for (const Group &g : groups)
    width = std::max(width, g.name.size());
  auto pad = [](const std::string &s, size_t w) {
    return s + std::string(w > s.size() ? w - s.size() : 0, ' ');
  };
  std::string decodeHead = "kernel M=" + std::to_string(opts.decodeRows);
  std::string prefillHead = "kernel M=" + std::to_string(opts.prefillRows);
  std::cout << pad("module", width) << "  " << pad("count", 6) << pad("N x K", 14)
            << pad("action", 11) << pad(decodeHead, 22) << pad(prefillHead, 22)
            << "rule\n";
  int64_t quantized = 0, skipped = 0;
  for (const Group &g : groups) {
    std::string shape = g.row.linear.n > 0 ? std::to_string(g.row.linear.n) +
                                                 " x " +
                                                 std::to_string(g.row.linear.k)
                                           : "?";
    (g.row.plan.quantized ? quantized : skipped) += g.count;
    std::cout << pad(g.name, width) << "  " << pad(std::to_string(g.count), 6)
              << pad(shape, 14)
              << pad(g.row.plan.quantized ? "quantized" : "skipped", 11)
              << pad(g.row.decodeKernel.empty() ? "-" : g.row.decodeKernel, 22)
              << pad(g.row.prefillKernel.empty() ? "-" : g.row.prefillKernel, 22)
              << g.row.plan.rule << "\n";
  }
  std::cout << "\n" << quantized << " linear layers quantized, " << skipped
            << " left unquantized\n";
  return 0;
}
