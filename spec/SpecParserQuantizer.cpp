//===- SpecParserQuantizer.cpp - Reading one quantizer of a spec ----------===//
//
// A `quantizers` entry: the transformers quantizer key and class, how
// get_hf_quantizer selects and treats it (flags), its environment and dtype
// rules, its skip-module policy, its checkpoint layouts and its ordered
// kernel rules. parseQuantizer reads these in the order of the schema, one
// step each, and each step sees the scope its expressions are evaluated in.
//
//===----------------------------------------------------------------------===//

#include "spec/SpecParser.h"

namespace hfq::spec {

bool SpecParser::parseQuantizer(const Node &node, const ConfigSpec &config,
                                QuantizerSpec &quantizer) {
  if (!expectObject(node,
                    {"key", "class", "order", "selected_when",
                     "selection_priority", "overrides", "requires_calibration",
                     "serializable", "trainable", "environment", "dtype_rules",
                     "device_map_default", "skip_modules", "module_scheme",
                     "layouts", "kernels"},
                    {"key", "class", "order", "layouts", "kernels"}))
    return false;
  if (!getString(node.child("key"), quantizer.key) ||
      !getString(node.child("class"), quantizer.className) ||
      !getInt(node.child("order"), quantizer.order))
    return false;
  if (quantizer.key.empty())
    return fail(node.pointer + "/key", "the key must not be empty");
  Names fields = fieldNames(config);
  if (!parseQuantizerFlags(node, fields, quantizer) ||
      !parseQuantizerRules(node, config, quantizer) ||
      !parseDeviceMapDefault(node, quantizer))
    return false;
  if (node.has("skip_modules") &&
      !parseSkipModules(node.child("skip_modules"), config,
                        quantizer.skipModules))
    return false;
  if (node.has("module_scheme")) {
    std::string field;
    if (!getString(node.child("module_scheme"), field) ||
        !checkFieldName(node.child("module_scheme"), config, field))
      return false;
    quantizer.moduleScheme = field;
  }

  Names layoutScope = fields;
  layoutScope.insert({"N", "K", "act_dtype"});
  if (quantizer.moduleScheme)
    layoutScope.insert("scheme");
  if (!parseLayouts(node.child("layouts"), layoutScope, quantizer))
    return false;
  Names kernelScope = layoutScope;
  kernelScope.insert({"M", "target"});
  return parseKernels(node.child("kernels"), kernelScope, quantizer);
}

/// selected_when, selection_priority, overrides, requires_calibration,
/// serializable and trainable: expressions over the config's fields.
bool SpecParser::parseQuantizerFlags(const Node &node, const Names &fields,
                                     QuantizerSpec &quantizer) {
  if (node.has("selected_when")) {
    quantizer.selectedWhen.emplace();
    if (!getExpr(node.child("selected_when"), fields, *quantizer.selectedWhen))
      return false;
  }
  if (node.has("selection_priority") &&
      !getInt(node.child("selection_priority"), quantizer.selectionPriority))
    return false;
  if (node.has("overrides") &&
      !getBool(node.child("overrides"), quantizer.overrides))
    return false;
  if (node.has("requires_calibration") &&
      !getBool(node.child("requires_calibration"),
               quantizer.requiresCalibration))
    return false;
  quantizer.serializable.constant = true;
  if (node.has("serializable") &&
      !parseBoolOrExpr(node.child("serializable"), fields,
                       quantizer.serializable))
    return false;
  if (node.has("trainable") &&
      !parseBoolOrExpr(node.child("trainable"), fields, quantizer.trainable))
    return false;
  return true;
}

bool SpecParser::parseBoolOrExpr(const Node &node, const Names &scope,
                                 BoolOrExpr &out) {
  if (node.value.is_boolean()) {
    out.constant = node.value.get<bool>();
    return true;
  }
  out.expr.emplace();
  return getExpr(node, scope, *out.expr);
}

/// The environment rules (which may set config fields) and the dtype rules
/// (which may set only `dtype`), over the config and the load's arguments.
bool SpecParser::parseQuantizerRules(const Node &node, const ConfigSpec &config,
                                     QuantizerSpec &quantizer) {
  Names envScope = fieldNames(config);
  envScope.insert(
      {"pre_quantized", "dtype", "device_map", "target", "weights_only"});
  Names assignable = fieldNames(config);
  assignable.erase("quant_method");
  if (node.has("environment") &&
      !parseRules(node.child("environment"), envScope, assignable,
                  quantizer.environment))
    return false;
  Names dtypeAssignable{"dtype"};
  if (node.has("dtype_rules") &&
      !parseRules(node.child("dtype_rules"), envScope, dtypeAssignable,
                  quantizer.dtypeRules))
    return false;
  return true;
}

bool SpecParser::parseDeviceMapDefault(const Node &node,
                                       QuantizerSpec &quantizer) {
  if (!node.has("device_map_default"))
    return true;
  std::string value;
  if (!getChoice(node.child("device_map_default"), {"cuda", "cpu", "mps"},
                 value))
    return false;
  quantizer.deviceMapDefault = value;
  return true;
}

bool SpecParser::parseSkipModules(const Node &skip, const ConfigSpec &config,
                                  SkipPolicy &policy) {
  if (!expectObject(skip, {"field", "default_skips", "keep_in_fp32", "match",
                           "convert_only_under"}))
    return false;
  if (skip.has("convert_only_under")) {
    Node under = skip.child("convert_only_under");
    std::string field;
    // A config whose __init__ keeps every other keyword (extra_kwargs:
    // AutoRoundConfig) may name one of those: the resolved config has it.
    if (!expectObject(under, {"field", "default"}, {"field", "default"}) ||
        !getString(under.child("field"), field) ||
        !getStringList(under.child("default"), policy.blockDefaults) ||
        (!config.serializeExtraKwargs &&
         !checkFieldName(under.child("field"), config, field)))
      return false;
    policy.blockField = field;
  }
  if (skip.has("field") && !skip.value["field"].is_null()) {
    std::string field;
    if (!getString(skip.child("field"), field) ||
        !checkFieldName(skip.child("field"), config, field))
      return false;
    policy.field = field;
  }
  if (skip.has("default_skips")) {
    std::string value;
    if (!getChoice(skip.child("default_skips"), {"if_unset", "always", "never"},
                   value))
      return false;
    policy.defaults = value == "always"  ? SkipPolicy::Defaults::Always
                      : value == "never" ? SkipPolicy::Defaults::Never
                                         : SkipPolicy::Defaults::IfUnset;
  }
  if (skip.has("keep_in_fp32") &&
      !getBool(skip.child("keep_in_fp32"), policy.keepInFp32))
    return false;
  if (skip.has("match")) {
    std::string value;
    if (!getChoice(skip.child("match"), {"module", "weight"}, value))
      return false;
    policy.match = value == "weight" ? SkipPolicy::Match::Weight
                                     : SkipPolicy::Match::Module;
  }
  return true;
}

bool SpecParser::parseLayouts(const Node &layouts, const Names &scope,
                              QuantizerSpec &quantizer) {
  if (!expectNonEmptyList(layouts, "layouts"))
    return false;
  for (size_t i = 0; i < layouts.value.size(); ++i) {
    LayoutSpec layout;
    if (!parseLayout(layouts.item(i), scope, layout))
      return false;
    quantizer.layouts.push_back(std::move(layout));
  }
  return true;
}

bool SpecParser::parseKernels(const Node &kernels, const Names &scope,
                              QuantizerSpec &quantizer) {
  if (!expectNonEmptyList(kernels, "kernel rules"))
    return false;
  for (size_t i = 0; i < kernels.value.size(); ++i) {
    Node item = kernels.item(i);
    KernelRule rule;
    if (!expectObject(item, {"name", "when", "planned"}, {"name", "when"}) ||
        !getString(item.child("name"), rule.name) ||
        !getExpr(item.child("when"), scope, rule.when))
      return false;
    if (item.has("planned")) {
      if (!getString(item.child("planned"), rule.planned))
        return false;
      if (rule.planned.empty())
        return fail(item.child("planned").pointer,
                    "expected a non-empty string saying what the planned "
                    "kernel waits for");
    }
    if (item.has("doc"))
      rule.doc = item.value["doc"].get<std::string>();
    quantizer.kernels.push_back(std::move(rule));
  }
  return true;
}

} // namespace hfq::spec
