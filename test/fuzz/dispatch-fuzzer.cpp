//===- dispatch-fuzzer.cpp - libFuzzer target for quantizer dispatch
//-------===//
//
// Arbitrary bytes as the JSON a user or a checkpoint hands to dispatch:
// parsed under the limits (spec/Input.h), then run through every step the
// pass and the planner run — get_hf_quantizer (dispatchQuantizer), the
// module plan, kernel selection and the layout — with the shipped specs.
//
// The input is one JSON document. An object with any of the keys "model"
// (config.json), "user" (quantization_config=), "device_map", "dtype" and
// "target" supplies those; any other document is used as config.json and,
// when it is an object, also as the user's config. Layer names and shapes
// come from config.json (linearsFromConfig, range-checked) or a fixed set.
// Seeds: test/fuzz/corpus/dispatch/.
//
//===----------------------------------------------------------------------===//

#include "checkpoint/ModelShapes.h"
#include "quantizer/KernelRules.h"
#include "quantizer/ModulePlan.h"
#include "spec/BuiltinSpecs.h"
#include "spec/Input.h"
#include "spec/Layout.h"

#include <cstddef>
#include <cstdint>
#include <string>

using hfq::spec::Json;

namespace {

const hfq::spec::MethodRegistry &registry() {
  static const hfq::spec::MethodRegistry *shipped = [] {
    auto *r = new hfq::spec::MethodRegistry();
    hfq::spec::SpecError error;
    if (!hfq::spec::loadBuiltinSpecs(*r, error))
      __builtin_trap();
    return r;
  }();
  return *shipped;
}

std::string stringOr(const Json &doc, const char *key, const char *fallback) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : fallback;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  Json doc;
  hfq::spec::JsonParseError parseError;
  if (!hfq::spec::parseJsonText(text, doc, parseError))
    return 0;

  hfq::spec::DispatchInputs in;
  bool wrapped =
      doc.is_object() && (doc.contains("model") || doc.contains("user") ||
                          doc.contains("device_map") || doc.contains("target"));
  if (wrapped) {
    if (doc.contains("model"))
      in.modelConfig = doc["model"];
    if (doc.contains("user"))
      in.userConfig = doc["user"];
    if (doc.contains("device_map"))
      in.deviceMap = doc["device_map"];
    in.dtype = stringOr(doc, "dtype", "auto");
    in.target = hfq::spec::CompileTarget(stringOr(doc, "target", "sm_90"));
  } else {
    in.modelConfig = doc;
    if (doc.is_object())
      in.userConfig = doc;
  }
  if (!in.target.valid())
    return 0;
  if (!in.modelConfig.is_object())
    in.modelConfig = Json::object();

  hfq::spec::DispatchDecision decision =
      hfq::spec::dispatchQuantizer(registry(), in);
  decision.configDict.dump(-1, ' ', false, Json::error_handler_t::replace);

  // The model's layers: from config.json when its architecture is known
  // (bounded by the limits), else a fixed set.
  std::vector<hfq::checkpoint::LinearInfo> linears;
  std::string shapeError;
  if (!hfq::checkpoint::linearsFromConfig(in.modelConfig, linears,
                                          shapeError) ||
      linears.size() > 64)
    linears = {{"model.layers.0.self_attn.q_proj", 128, 64},
               {"model.layers.0.mlp.down_proj", 64, 256},
               {"lm_head", 1000, 64}};
  if (!decision.quantizer || decision.error)
    return 0;
  std::vector<std::string> names;
  for (const auto &linear : linears)
    names.push_back(linear.name);
  hfq::spec::ModelHints hints;
  hints.outputEmbeddings.push_back("lm_head");
  std::vector<hfq::spec::ModulePlan> plans =
      hfq::spec::planModules(decision, names, hints);
  const std::string act = hfq::spec::activationDtype(decision.dtype);
  for (size_t i = 0; i < plans.size() && i < linears.size(); ++i) {
    if (!plans[i].quantized || linears[i].n <= 0 || linears[i].k <= 0)
      continue;
    std::string error;
    hfq::spec::resolveLayout(*decision.quantizer, decision.config,
                             plans[i].scheme, linears[i].n, linears[i].k, act,
                             error);
    for (int64_t m : {int64_t(1), int64_t(4096)})
      hfq::spec::selectKernel(*decision.quantizer, decision.config,
                              plans[i].scheme, linears[i].n, linears[i].k, m,
                              in.target, act, error);
  }
  return 0;
}
