//===- ModulePlan.cpp - Which modules a method converts -------------------===//

#include "quantizer/ModulePlan.h"
#include "quantizer/SkipPatterns.h"

#include <algorithm>

namespace hfq::spec {

namespace {

/// `object[key]`, or null when absent (const operator[] must not be used on
/// a missing key).
Json member(const Json &object, const std::string &key) {
  if (!object.is_object())
    return Json();
  auto it = object.find(key);
  return it == object.end() ? Json() : *it;
}

std::vector<std::string> stringList(const Json &value) {
  std::vector<std::string> out;
  if (value.is_string())
    out.push_back(value.get<std::string>());
  else if (value.is_array())
    for (const Json &item : value)
      if (item.is_string())
        out.push_back(item.get<std::string>());
  return out;
}

bool startsWith(const std::string &text, const std::string &prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

/// transformers' skip list, each pattern with the reason it is on it.
class SkipList {
public:
  void add(const std::string &pattern, const std::string &why) {
    for (const auto &entry : entries)
      if (entry.first == pattern)
        return;
    entries.emplace_back(pattern, why);
  }

  /// Drops `pattern` (an exact entry, as Python's list filter does).
  void remove(const std::string &pattern) {
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const auto &entry) {
                                   return entry.first == pattern;
                                 }),
                  entries.end());
  }

  std::optional<std::string> match(const std::string &name) const {
    for (const auto &[pattern, why] : entries)
      if (shouldSkipModule(name, {pattern}))
        return why + " '" + pattern + "'";
    return std::nullopt;
  }

private:
  std::vector<std::pair<std::string, std::string>> entries;
};

/// The compressed-tensors config group targeting `name`: a class target
/// ("Linear"), a regex ("re:...", matched at the start), or the name.
std::optional<Json> schemeFor(const Json &groups, const std::string &name) {
  if (!groups.is_object())
    return std::nullopt;
  for (const auto &group : groups.items())
    for (const std::string &target :
         stringList(member(group.value(), "targets"))) {
      bool matches = target == "Linear" || target == name;
      if (!matches && startsWith(target, "re:"))
        matches = SkipPatterns({target.substr(3)}).skips(name);
      if (matches)
        return group.value();
    }
  return std::nullopt;
}

} // namespace

std::vector<ModulePlan> planModules(const DispatchDecision &decision,
                                    const std::vector<std::string> &names,
                                    const ModelHints &hints) {
  const QuantizerSpec &quantizer = *decision.quantizer;
  const SkipPolicy &policy = quantizer.skipModules;

  // get_modules_to_not_convert(model, skip_modules, keep_in_fp32_modules,
  // add_default_skips).
  SkipList skips;
  Json userList =
      policy.field ? member(decision.config, *policy.field) : Json();
  bool addDefaults =
      policy.defaults == SkipPolicy::Defaults::Always ||
      (policy.defaults == SkipPolicy::Defaults::IfUnset && userList.is_null());
  if (addDefaults) {
    for (const std::string &name : hints.outputEmbeddings)
      skips.add(name, "default skip (output embedding)");
    for (const std::string &name : hints.tiedWeights)
      skips.add(name, "default skip (tied weight)");
    if (!hints.lastParameter.empty())
      skips.add(hints.lastParameter, "default skip (last parameter)");
  }
  for (const std::string &name : stringList(userList))
    skips.add(name, *policy.field);
  if (policy.keepInFp32)
    for (const std::string &name : hints.keepInFp32)
      skips.add(name, "keep_in_fp32_modules");
  // bitsandbytes' _process_model_before_weight_loading: with fp32 CPU
  // offload, the device map's keys on "cpu" or "disk" stay unquantized.
  if (member(decision.config, "llm_int8_enable_fp32_cpu_offload") == true &&
      decision.deviceMap.is_object())
    for (const auto &entry : decision.deviceMap.items())
      if (entry.value() == "cpu" || entry.value() == "disk")
        skips.add(entry.key(), "fp32 CPU offload (device_map: " +
                                   entry.value().get<std::string>() + ")");
  // torchao's include_input_output_embeddings takes the embeddings' names
  // off the finished list, whichever rule put them there.
  if (member(decision.config, "include_input_output_embeddings") == true)
    for (const std::string &name : hints.outputEmbeddings)
      skips.remove(name);

  // optimum's GPTQ converts only the linears inside the transformer blocks:
  // block_name_to_quantize, else the first pattern that prefixes a module.
  std::vector<std::string> blocks;
  if (policy.blockField) {
    blocks = stringList(member(decision.config, *policy.blockField));
    for (const std::string &pattern : policy.blockDefaults) {
      if (!blocks.empty())
        break;
      for (const std::string &name : names)
        if (startsWith(name, pattern)) {
          blocks.push_back(pattern);
          break;
        }
    }
  }

  std::vector<ModulePlan> plans;
  for (const std::string &name : names) {
    ModulePlan plan;
    plan.name = name;
    std::optional<std::string> why;
    if (policy.blockField) {
      bool inside = false;
      for (const std::string &block : blocks)
        inside = inside || startsWith(name, block);
      if (!inside) {
        std::string list;
        for (const std::string &block : blocks)
          list += (list.empty() ? "'" : ", '") + block + "'";
        why = blocks.empty() ? "no transformer block found (" +
                                   *policy.blockField + " is None)"
                             : "outside the quantized blocks (" +
                                   *policy.blockField + " = " + list + ")";
      }
    }
    // AQLM's skip list holds parameter names ("lm_head.weight").
    if (!why)
      why = skips.match(
          policy.match == SkipPolicy::Match::Weight ? name + ".weight" : name);
    if (!why && quantizer.moduleScheme) {
      std::optional<Json> scheme =
          schemeFor(member(decision.config, *quantizer.moduleScheme), name);
      if (scheme)
        plan.scheme = *scheme;
      else
        why =
            "no entry of '" + *quantizer.moduleScheme + "' targets this module";
    }
    plan.quantized = !why;
    plan.rule =
        why ? *why
            : (decision.preQuantized ? "pre-quantized checkpoint tensors"
                                     : "quantized on the fly");
    plans.push_back(std::move(plan));
  }
  return plans;
}

} // namespace hfq::spec
