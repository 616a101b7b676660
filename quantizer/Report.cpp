//===- Report.cpp - The dispatch report, one serializer -------------------===//

#include "quantizer/Report.h"

#include <exception>

namespace hfq::spec {

namespace {

using Level = DispatchMessage::Level;

/// A string that may be absent: "" is null.
Json orNull(const std::string &text) {
  return text.empty() ? Json() : Json(text);
}
std::string fromOrNull(const Json &value) {
  return value.is_null() ? std::string() : value.get<std::string>();
}

Json moduleToJson(const ModuleReport &module) {
  Json out = Json::object();
  out["name"] = module.name;
  if (module.shape) {
    out["n"] = module.shape->n;
    out["k"] = module.shape->k;
    out["repeat"] = module.shape->repeat;
  }
  out["action"] = module.quantized ? "quantized" : "skipped";
  out["rule"] = module.rule;
  out["method"] = orNull(module.method);
  if (module.kernel) {
    out["kernel"] = module.kernel->kernel;
    Json rejected = Json::array();
    for (const auto &[name, why] : module.kernel->rejected)
      rejected.push_back({{"kernel", name}, {"reason", why}});
    out["rejected_kernels"] = std::move(rejected);
  }
  if (module.steps) {
    out["kernel_decode"] = orNull(module.steps->decode);
    out["kernel_prefill"] = orNull(module.steps->prefill);
  }
  return out;
}

ModuleReport moduleFromJson(const Json &json) {
  ModuleReport module;
  module.name = json.at("name").get<std::string>();
  if (json.contains("n"))
    module.shape = ModuleReport::Shape{json.at("n").get<int64_t>(),
                                       json.at("k").get<int64_t>(),
                                       json.at("repeat").get<int64_t>()};
  module.quantized = json.at("action") == "quantized";
  module.rule = json.at("rule").get<std::string>();
  module.method = fromOrNull(json.at("method"));
  if (json.contains("kernel")) {
    KernelChoice choice;
    choice.kernel = json.at("kernel").get<std::string>();
    for (const Json &rejected : json.at("rejected_kernels"))
      choice.rejected.emplace_back(rejected.at("kernel").get<std::string>(),
                                   rejected.at("reason").get<std::string>());
    module.kernel = std::move(choice);
  }
  if (json.contains("kernel_decode"))
    module.steps =
        ModuleReport::StepKernels{fromOrNull(json.at("kernel_decode")),
                                  fromOrNull(json.at("kernel_prefill"))};
  return module;
}

} // namespace

Report makeReport(const DispatchDecision &decision, const CompileTarget &target,
                  const std::vector<ModulePlan> &plans) {
  Report report;
  if (const QuantizerSpec *q = decision.quantizer) {
    report.quantMethod = q->key;
    report.quantizerClass = q->className;
    report.configClass = q->method->config.className;
  }
  report.preQuantized = decision.preQuantized;
  report.config = decision.configDict;
  report.messages = decision.messages;
  report.error = decision.error;
  report.dtype = decision.dtype;
  report.deviceMap = decision.deviceMap;
  report.target = target.name();
  for (const ModulePlan &plan : plans) {
    ModuleReport module;
    module.name = plan.name;
    module.quantized = plan.quantized;
    module.rule = plan.rule;
    if (plan.quantized)
      module.method = report.quantMethod;
    report.modules.push_back(std::move(module));
  }
  return report;
}

Json reportToJson(const Report &report) {
  Json out = Json::object();
  out["quant_method"] = orNull(report.quantMethod);
  out["quantizer_class"] = orNull(report.quantizerClass);
  out["config_class"] = orNull(report.configClass);
  out["pre_quantized"] = report.preQuantized;
  out["config"] = report.config;
  Json warnings = Json::array(), infos = Json::array();
  for (const DispatchMessage &message : report.messages)
    (message.level == Level::Warning ? warnings : infos)
        .push_back(message.text);
  out["warnings"] = std::move(warnings);
  out["infos"] = std::move(infos);
  out["error"] = report.error ? Json{{"kind", report.error->kind},
                                     {"message", report.error->message}}
                              : Json();
  out["dtype"] = report.dtype;
  out["device_map"] = report.deviceMap;
  out["target"] = report.target;
  if (report.kernelTarget)
    out["kernel_target"] = *report.kernelTarget;
  if (report.moduleSource)
    out["module_source"] = *report.moduleSource;
  Json modules = Json::array();
  for (const ModuleReport &module : report.modules)
    modules.push_back(moduleToJson(module));
  out["modules"] = std::move(modules);
  return out;
}

std::optional<Report> reportFromJson(const Json &json, std::string &error) {
  try {
    Report report;
    report.quantMethod = fromOrNull(json.at("quant_method"));
    report.quantizerClass = fromOrNull(json.at("quantizer_class"));
    report.configClass = fromOrNull(json.at("config_class"));
    report.preQuantized = json.at("pre_quantized").get<bool>();
    report.config = json.at("config");
    for (const Json &text : json.at("warnings"))
      report.messages.push_back({Level::Warning, text.get<std::string>()});
    for (const Json &text : json.at("infos"))
      report.messages.push_back({Level::Info, text.get<std::string>()});
    if (const Json &raised = json.at("error"); !raised.is_null())
      report.error = RaisedError{raised.at("kind").get<std::string>(),
                                 raised.at("message").get<std::string>()};
    report.dtype = json.at("dtype").get<std::string>();
    report.deviceMap = json.at("device_map");
    report.target = json.at("target").get<std::string>();
    if (json.contains("kernel_target"))
      report.kernelTarget = json.at("kernel_target").get<std::string>();
    if (json.contains("module_source"))
      report.moduleSource = json.at("module_source").get<std::string>();
    for (const Json &module : json.at("modules"))
      report.modules.push_back(moduleFromJson(module));
    return report;
  } catch (const std::exception &e) {
    error = std::string("not a dispatch report: ") + e.what();
    return std::nullopt;
  }
}

} // namespace hfq::spec
