//===- GetHfQuantizer.cpp - transformers' quantizer dispatch over specs ---------===//
//
// The order of every step, and every message text that is not a spec's,
// follows transformers (newest `quantizers/auto.py`, `base.py` and
// `utils/quantization_config.py`); comments name the Python function each
// piece stands for. Specs supply the per-class and per-quantizer parts.
//
// nlohmann::json reports misuse by exception, and const operator[] on a
// missing key is undefined behaviour, so this file reads JSON only through
// find()/contains() and the public entry points catch std::exception as a
// last line of defence (reported as an InternalError, never rethrown).
//
//===----------------------------------------------------------------------===//

#include "quantizer/GetHfQuantizer.h"

#include <algorithm>
#include <exception>

namespace hfq::spec {

std::string RaisedError::str() const { return kind + ": " + message; }

namespace {

using Level = DispatchMessage::Level;

const char *const kNoQuantMethod =
    "The model's quantization config from the arguments has no `quant_method` "
    "attribute. Make sure that the model has been correctly quantized";

const char *const kMergeWarning =
    "You passed `quantization_config` or equivalent parameters to "
    "`from_pretrained` but the model you're loading already has a "
    "`quantization_config` attribute. The `quantization_config` from the "
    "model will be used.";

RaisedError internalError(const std::exception &e) {
  return {"InternalError", std::string("internal error in hfq dispatch: ") +
                               e.what()};
}

/// A rule, type check or serialized entry whose expression fails on the
/// values at hand. Python would raise a TypeError (or AttributeError) from
/// the operation itself; the expression and its JSON pointer say which.
RaisedError evaluationError(const std::string &what, const Expr &expr,
                            const ExprError &error) {
  return {"TypeError", "cannot evaluate " + what + " '" + expr.text() +
                           "': " + error.str()};
}

/// Renders a spec message. A template that cannot be rendered (a value of
/// an unexpected type reaching a placeholder) keeps its raw text rather than
/// hiding the message.
std::string render(const std::string &tmpl, const Json &scope) {
  ExprError ignored;
  std::optional<std::string> text = renderTemplate(tmpl, scope, ignored);
  return text ? *text : tmpl;
}

std::string asciiLower(std::string text) {
  // Only ASCII letters: a byte of a UTF-8 sequence must not change.
  for (char &c : text)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return text;
}

/// Python's `list(keys)` of str, e.g. "['awq', 'gptq']".
std::string pythonStrList(const std::vector<std::string> &items) {
  Json list = Json::array();
  for (const std::string &item : items)
    list.push_back(item);
  return pythonStr(list);
}

/// CPython's wording for missing positional arguments:
/// "'a'", "'a' and 'b'", "'a', 'b', and 'c'".
std::string missingArgumentsMessage(const std::string &className,
                                    const std::vector<std::string> &names) {
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0)
      list += names.size() == 2 ? " and " : (i + 1 == names.size() ? ", and " : ", ");
    list += "'" + names[i] + "'";
  }
  return className + ".__init__() missing " + std::to_string(names.size()) +
         " required positional argument" + (names.size() == 1 ? "" : "s") +
         ": " + list;
}

/// Runs a rule list against `scope`. `set` writes into `scope`
/// sequentially (later rules see earlier assignments, as the statements of
/// a Python post_init do); the names written are appended to `assigned` so
/// the caller can copy them back to where they live.
bool runRules(const std::vector<Rule> &rules, Json &scope,
              std::vector<DispatchMessage> &messages,
              std::vector<std::string> &assigned, RaisedError &error) {
  for (const Rule &rule : rules) {
    ExprError exprError;
    std::optional<bool> applies = rule.when.evaluateCondition(scope, exprError);
    if (!applies) {
      error = evaluationError("the condition of " + rule.pointer, rule.when,
                              exprError);
      return false;
    }
    if (!*applies)
      continue;
    if (rule.error) {
      error = {rule.error->kind, render(rule.error->text, scope)};
      return false;
    }
    // The message first: it describes the state before the assignment.
    if (rule.warning)
      messages.push_back({Level::Warning, render(*rule.warning, scope)});
    if (rule.info)
      messages.push_back({Level::Info, render(*rule.info, scope)});
    for (const auto &[name, expr] : rule.assignments) {
      std::optional<Json> value = expr.evaluate(scope, exprError);
      if (!value) {
        error = evaluationError("the assignment to '" + name + "' in " +
                                    rule.pointer,
                                expr, exprError);
        return false;
      }
      scope[name] = std::move(*value);
      assigned.push_back(name);
    }
  }
  return true;
}

/// Type check, `normalize`, `map` and `allowed` of one given field value.
bool checkField(const FieldSpec &field, Json &value, RaisedError &error) {
  auto raise = [&](const RaisedMessage &raised) {
    Json scope = Json::object();
    scope[field.name] = value;
    error = {raised.kind, render(raised.text, scope)};
    return false;
  };
  if (value.is_null()) {
    // `any` admits None like any other value; rules decide about it
    // (AwqConfig(backend=None) fails the backend rule, not a type check).
    if (field.nullable || field.type.kind == FieldType::Kind::Any)
      return true;
    return raise(field.typeError);
  }
  if (!field.type.accepts(value))
    return raise(field.typeError);
  if (field.lowerCase && value.is_string())
    value = asciiLower(value.get<std::string>());
  if (value.is_string()) {
    auto mapped = field.valueMap.find(value.get<std::string>());
    if (mapped != field.valueMap.end())
      value = *mapped;
  }
  if (!field.allowed.empty() &&
      std::find(field.allowed.begin(), field.allowed.end(), value) ==
          field.allowed.end())
    return raise(field.valueError);
  return true;
}

std::optional<Json> resolveConfigImpl(const ConfigSpec &spec, const Json &dict,
                                      std::vector<DispatchMessage> &messages,
                                      RaisedError &error) {
  if (!dict.is_object()) {
    // `cls(**d)` with a non-mapping.
    error = {"TypeError", spec.className +
                              "() argument after ** must be a mapping, not " +
                              pythonTypeName(dict)};
    return std::nullopt;
  }
  // Strict classes (HQQ) index the dict directly in from_dict.
  for (const std::string &key : spec.strictKeys)
    if (!dict.contains(key)) {
      error = {"KeyError", pythonRepr(Json(key))};
      return std::nullopt;
    }

  // The values the dict gives, per field; legacy keys override in order
  // (AwqConfig: `version` replaces `format`, then GPTQConfig's
  // `checkpoint_format` replaces that), skipping None as transformers'
  // `kwargs.get(key) is not None` does.
  Json given = Json::object();
  for (const FieldSpec &field : spec.fields) {
    auto it = dict.find(field.name);
    if (it != dict.end())
      given[field.name] = *it;
  }
  for (const LegacyKey &legacy : spec.legacyKeys) {
    auto it = dict.find(legacy.from);
    if (it != dict.end() && !it->is_null())
      given[legacy.to] = *it;
  }

  std::vector<std::string> missing;
  for (const FieldSpec &field : spec.fields)
    if (!field.defaultValue && !given.contains(field.name))
      missing.push_back(field.name);
  if (!missing.empty()) {
    error = {"TypeError", missingArgumentsMessage(spec.className, missing)};
    return std::nullopt;
  }

  Json config = Json::object();
  config["quant_method"] = spec.quantMethod;
  for (const FieldSpec &field : spec.fields) {
    auto it = given.find(field.name);
    if (it == given.end()) {
      config[field.name] = *field.defaultValue;
      continue;
    }
    Json value = *it;
    if (!checkField(field, value, error))
      return std::nullopt;
    config[field.name] = std::move(value);
  }

  Json scope = configScope(spec, config);
  std::vector<std::string> assigned;
  if (!runRules(spec.rules, scope, messages, assigned, error))
    return std::nullopt;
  for (const std::string &name : assigned)
    config[name] = scope[name];
  return config;
}

/// The quantizers of the registry that a `selected_when` picks (bnb's
/// 4-bit and 8-bit keys), in the order they are tried: `selection_priority`
/// first, registry order among equals.
std::vector<const QuantizerSpec *> selectionVariants(
    const std::vector<const QuantizerSpec *> &candidates) {
  // (priority, position) pairs: std::stable_sort would do, but libstdc++'s
  // uses the deprecated get_temporary_buffer, an error under -Werror.
  std::vector<std::pair<int64_t, size_t>> ranks;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (candidates[i]->selectedWhen)
      ranks.emplace_back(candidates[i]->selectionPriority, i);
  std::sort(ranks.begin(), ranks.end());
  std::vector<const QuantizerSpec *> variants;
  for (const auto &rank : ranks)
    variants.push_back(candidates[rank.second]);
  return variants;
}

/// Whether `quantizer`'s `selected_when` holds over `dict` (a raw dict or a
/// resolved config). An expression that cannot be evaluated on the values
/// at hand does not select: Python's `d.get(flag, False)` never fails.
bool isSelected(const QuantizerSpec &quantizer, const Json &dict) {
  Json scope = configScope(quantizer.method->config, dict);
  ExprError ignored;
  std::optional<bool> selected =
      quantizer.selectedWhen->evaluateCondition(scope, ignored);
  return selected && *selected;
}

/// The method of a quantization config dict, as `supports_quant_method` and
/// `AutoQuantizationConfig.from_dict` both determine it.
struct MethodChoice {
  /// The quantizer whose key the method names (its spec is the config
  /// class); null for an unknown method.
  const QuantizerSpec *quantizer = nullptr;
  /// The method as Python's str() prints it, for the "Unknown ..." texts.
  std::string printed;
};

bool chooseMethod(const MethodRegistry &registry, const Json &dict,
                  MethodChoice &choice, RaisedError &error) {
  if (!dict.is_object()) {
    // Both functions start with `d.get("quant_method")`.
    error = {"AttributeError",
             "'" + pythonTypeName(dict) + "' object has no attribute 'get'"};
    return false;
  }
  // A truthy load flag overrides whatever quant_method says; the specs
  // declare which flag selects which key and which flag wins.
  for (const QuantizerSpec *quantizer : selectionVariants(registry.quantizers()))
    if (isSelected(*quantizer, dict)) {
      choice.quantizer = quantizer;
      choice.printed = quantizer->key;
      return true;
    }
  auto it = dict.find("quant_method");
  if (it == dict.end() || it->is_null()) {
    error = {"ValueError", kNoQuantMethod};
    return false;
  }
  choice.printed = pythonStr(*it);
  if (it->is_string())
    choice.quantizer = registry.lookup(it->get<std::string>());
  return true;
}

std::string unknownMethodMessage(const MethodRegistry &registry,
                                 const MethodChoice &choice) {
  return "Unknown quantization type, got " + choice.printed +
         " - supported types are: " + pythonStrList(registry.keys());
}

/// `AutoHfQuantizer.from_config`: the quantizer of a resolved config. For a
/// class served by several keys (bnb), the key follows the resolved flags;
/// when none holds, transformers' `"_8bit" if load_in_8bit else "_4bit"`
/// falls back to the variant tried first.
const QuantizerSpec *quantizerForConfig(const MethodRegistry &registry,
                                        const QuantizerSpec &chosen,
                                        const Json &config) {
  std::vector<const QuantizerSpec *> live;
  for (const QuantizerSpec &quantizer : chosen.method->quantizers)
    if (registry.lookup(quantizer.key) == &quantizer)
      live.push_back(&quantizer);
  std::vector<const QuantizerSpec *> variants = selectionVariants(live);
  if (variants.empty())
    return &chosen;
  for (const QuantizerSpec *quantizer : variants)
    if (isSelected(*quantizer, config))
      return quantizer;
  return variants.front();
}

/// The `device_map` value of environment expressions.
Json deviceMapScope(const Json &deviceMap) {
  Json scope = Json::object();
  Json values = Json::array();
  bool hasCpu = false, hasDisk = false, onlyCpu = false;
  if (deviceMap.is_object()) {
    onlyCpu = !deviceMap.empty();
    for (const auto &entry : deviceMap.items()) {
      const Json &value = entry.value();
      values.push_back(value);
      bool isCpu = value.is_string() && value.get_ref<const std::string &>() == "cpu";
      hasCpu = hasCpu || isCpu;
      hasDisk = hasDisk || (value.is_string() &&
                            value.get_ref<const std::string &>() == "disk");
      // `set(device_map.values()) == {"cpu"}`.
      onlyCpu = onlyCpu && isCpu;
    }
  }
  scope["is_none"] = deviceMap.is_null();
  scope["is_dict"] = deviceMap.is_object();
  scope["size"] =
      static_cast<int64_t>(deviceMap.is_object() ? deviceMap.size() : 0);
  scope["has_cpu"] = hasCpu;
  scope["has_disk"] = hasDisk;
  scope["values"] = std::move(values);
  scope["only_cpu"] = onlyCpu;
  return scope;
}

/// A dtype name as given to `from_pretrained` or stored in config.json
/// ("bfloat16" or "torch.bfloat16"); nullopt if it names no torch dtype.
std::optional<std::string> dtypeName(const std::string &text) {
  std::string name = text;
  const std::string prefix = "torch.";
  if (name.compare(0, prefix.size(), prefix) == 0)
    name = name.substr(prefix.size());
  FieldType dtype;
  dtype.kind = FieldType::Kind::Dtype;
  if (!dtype.accepts(Json(name)))
    return std::nullopt;
  // torch's aliases are the same dtype objects.
  if (name == "half")
    return std::string("float16");
  if (name == "float")
    return std::string("float32");
  if (name == "double")
    return std::string("float64");
  return name;
}

/// v5 `_get_dtype` before `update_dtype`: "auto" takes the checkpoint
/// config's dtype; None, or "auto" without one, is torch's default dtype.
std::optional<std::string> resolveDtype(const DispatchInputs &in,
                                        RaisedError &error) {
  const std::string &given = in.dtype;
  if (given == "auto") {
    for (const char *key : {"dtype", "torch_dtype"}) {
      auto it = in.modelConfig.find(key);
      if (it != in.modelConfig.end() && it->is_string())
        if (std::optional<std::string> name = dtypeName(it->get<std::string>()))
          return name;
    }
    return std::string("float32");
  }
  if (given.empty() || given == "None" || given == "none")
    return std::string("float32");
  if (std::optional<std::string> name = dtypeName(given))
    return name;
  error = {"ValueError", "dtype '" + given +
                             "' is not 'auto' nor a torch dtype name"};
  return std::nullopt;
}

void dispatchImpl(const MethodRegistry &registry, const DispatchInputs &in,
                  DispatchDecision &out) {
  RaisedError error;
  auto fail = [&] { out.error = error; };

  // hfq's own inputs first: none of these is a transformers situation.
  std::optional<Json> target = targetScope(in.target);
  if (!target) {
    out.error = RaisedError{"ValueError", "unknown target '" + in.target +
                                              "' (expected sm_NN or cpu)"};
    return;
  }
  if (!in.modelConfig.is_object()) {
    out.error = RaisedError{"ValueError", "the model config must be a JSON "
                                          "object, got " +
                                              pythonTypeName(in.modelConfig)};
    return;
  }
  if (!in.deviceMap.is_null() && !in.deviceMap.is_string() &&
      !in.deviceMap.is_object()) {
    out.error = RaisedError{"ValueError",
                            "device_map must be null, a string or a dict, "
                            "got " + pythonTypeName(in.deviceMap)};
    return;
  }
  std::optional<std::string> dtype = resolveDtype(in, error);
  if (!dtype)
    return fail();

  // The user's config is an object before from_pretrained runs: its
  // validation (and an unknown method, which from_dict raises for) comes
  // before anything dispatch does.
  MethodChoice userChoice;
  std::optional<Json> userConfig;
  if (in.userConfig) {
    if (!chooseMethod(registry, *in.userConfig, userChoice, error))
      return fail();
    if (!userChoice.quantizer) {
      out.error = RaisedError{"ValueError",
                              unknownMethodMessage(registry, userChoice)};
      return;
    }
    userConfig = resolveConfig(userChoice.quantizer->method->config,
                               *in.userConfig, out.messages, error);
    if (!userConfig)
      return fail();
  }

  // get_hf_quantizer steps 1-2: presence of the key, then
  // supports_quant_method (unknown: warn and load unquantized).
  auto fileIt = in.modelConfig.find("quantization_config");
  bool preQuantized = fileIt != in.modelConfig.end();
  MethodChoice fileChoice;
  if (preQuantized) {
    if (!chooseMethod(registry, *fileIt, fileChoice, error))
      return fail();
    if (!fileChoice.quantizer) {
      out.messages.push_back(
          {Level::Warning,
           unknownMethodMessage(registry, fileChoice) +
               ". Hence, we will skip the quantization. To remove the "
               "warning, you can delete the quantization_config attribute "
               "in config.json"});
      preQuantized = false;
    }
  }
  out.preQuantized = preQuantized;

  // Step 3: the config the quantizer is built from.
  const ConfigSpec *configSpec = nullptr;
  Json config;
  if (preQuantized) {
    // merge_quantization_configs: the file's config wins.
    std::string mergeMessage = userConfig ? kMergeWarning : "";
    configSpec = &fileChoice.quantizer->method->config;
    std::optional<Json> fileConfig =
        resolveConfig(*configSpec, *fileIt, out.messages, error);
    if (!fileConfig)
      return fail();
    config = std::move(*fileConfig);
    out.quantizer = quantizerForConfig(registry, *fileChoice.quantizer, config);
    if (userConfig) {
      const ConfigSpec &userSpec = userChoice.quantizer->method->config;
      // A class-name comparison: AwqConfig subclasses GPTQConfig in Python
      // and still mismatches.
      if (userSpec.className != configSpec->className) {
        out.error = RaisedError{
            "ValueError",
            "The model is quantized with " + configSpec->className +
                " but you are passing a " + userSpec.className +
                " config. Please make sure to pass the same quantization "
                "config class to `from_pretrained` with different loading "
                "attributes."};
        return;
      }
      if (configSpec->loadingAttributesClass &&
          userSpec.loadingAttributesClass) {
        // get_loading_attributes() filters the user object's __dict__, so
        // every loading attribute is there (defaults included), in
        // attribute order.
        std::vector<std::string> copied;
        for (const FieldSpec &field : userSpec.fields) {
          const auto &names = userSpec.loadingAttributes;
          if (std::find(names.begin(), names.end(), field.name) ==
                  names.end() ||
              !configSpec->findField(field.name))
            continue;
          auto value = userConfig->find(field.name);
          if (value == userConfig->end())
            continue;
          config[field.name] = *value;
          copied.push_back(field.name);
        }
        // Appended to the previous sentence with no space, as transformers
        // does.
        if (!copied.empty())
          mergeMessage += "However, loading attributes (e.g. " +
                          pythonStrList(copied) +
                          ") will be overwritten with the one you passed to "
                          "`from_pretrained`. The rest will be ignored.";
      }
    }
    if (!mergeMessage.empty())
      out.messages.push_back({configSpec->mergeMessage == "info"
                                  ? Level::Info
                                  : Level::Warning,
                              mergeMessage});
  } else if (userConfig) {
    configSpec = &userChoice.quantizer->method->config;
    config = std::move(*userConfig);
    out.quantizer = quantizerForConfig(registry, *userChoice.quantizer, config);
  }
  out.config = config;

  const QuantizerSpec *quantizer = out.quantizer;
  if (quantizer) {
    // HfQuantizer.__init__.
    if (quantizer->requiresCalibration && !preQuantized) {
      auto method = config.find("quant_method");
      std::string name = method != config.end() ? pythonStr(*method)
                                                : configSpec->quantMethod;
      out.error = RaisedError{
          "ValueError",
          "The quantization method " + name +
              " does require the model to be pre-quantized. You explicitly "
              "passed `pre_quantized=False` meaning your model weights are "
              "not quantized. Make sure to pass `pre_quantized=True` while "
              "knowing what you are doing."};
      return;
    }

    // validate_environment; its `set`s change the config (FP8 falls back to
    // dequantize).
    Json scope = configScope(*configSpec, config);
    scope["pre_quantized"] = preQuantized;
    scope["dtype"] = *dtype;
    scope["device_map"] = deviceMapScope(in.deviceMap);
    scope["target"] = *target;
    scope["weights_only"] = in.weightsOnly;
    std::vector<std::string> assigned;
    bool ok = runRules(quantizer->environment, scope, out.messages, assigned,
                       error);
    for (const std::string &name : assigned)
      config[name] = scope[name];
    out.config = config;
    if (!ok)
      return fail();

    // update_dtype, which v5 calls from _get_dtype after resolving "auto".
    assigned.clear();
    if (!runRules(quantizer->dtypeRules, scope, out.messages, assigned, error))
      return fail();
    const Json &newDtype = scope["dtype"];
    if (!newDtype.is_string()) {
      out.error = RaisedError{"InternalError",
                              "a dtype rule of '" + quantizer->key +
                                  "' set dtype to " + pythonRepr(newDtype) +
                                  ", not a dtype name"};
      return;
    }
    dtype = newDtype.get<std::string>();
  }
  out.dtype = *dtype;

  // update_device_map: only an unset map is filled in.
  out.deviceMap = in.deviceMap;
  if (quantizer && quantizer->deviceMapDefault && in.deviceMap.is_null()) {
    bool cuda = *quantizer->deviceMapDefault == "cuda" && (*target)["cuda"] == true;
    out.deviceMap = Json::object();
    out.deviceMap[""] = cuda ? "cuda:0" : "cpu";
  }

  if (quantizer) {
    std::optional<Json> dict = serializeConfig(*configSpec, config, error);
    if (!dict)
      return fail();
    out.configDict = std::move(*dict);
  }
}

} // namespace

std::optional<Json> resolveConfig(const ConfigSpec &spec, const Json &dict,
                                  std::vector<DispatchMessage> &messages,
                                  RaisedError &error) {
  try {
    return resolveConfigImpl(spec, dict, messages, error);
  } catch (const std::exception &e) {
    error = internalError(e);
    return std::nullopt;
  }
}

std::optional<Json> serializeConfig(const ConfigSpec &spec,
                                    const Json &resolved, RaisedError &error) {
  try {
    Json scope = configScope(spec, resolved);
    Json dict = Json::object();
    for (const SerializedKey &key : spec.serializedKeys) {
      if (key.value) {
        ExprError exprError;
        std::optional<Json> value = key.value->evaluate(scope, exprError);
        if (!value) {
          error = evaluationError("serialized key '" + key.key + "'",
                                  *key.value, exprError);
          return std::nullopt;
        }
        dict[key.key] = std::move(*value);
      } else if (key.key == "quant_method") {
        dict[key.key] = spec.quantMethod;
      } else {
        dict[key.key] = scope[key.key];
      }
    }
    return dict;
  } catch (const std::exception &e) {
    error = internalError(e);
    return std::nullopt;
  }
}

DispatchDecision dispatchQuantizer(const MethodRegistry &registry,
                                   const DispatchInputs &in) {
  DispatchDecision out;
  try {
    out.deviceMap = in.deviceMap;
    dispatchImpl(registry, in, out);
  } catch (const std::exception &e) {
    out.error = internalError(e);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Skip-module patterns
//===----------------------------------------------------------------------===//

/// libstdc++'s regex compiler and matcher recurse per pattern nesting level
/// and per input character; beyond these sizes a pattern is matched as a
/// plain prefix, so no input can exhaust the stack. Real patterns and module
/// names are far shorter.
static constexpr size_t MaxRegexPattern = 256;
static constexpr size_t MaxRegexInput = 1024;

SkipPatterns::SkipPatterns(const std::vector<std::string> &texts) {
  for (const std::string &text : texts) {
    Pattern pattern;
    pattern.text = text;
    if (text.size() <= MaxRegexPattern) {
      try {
        // Python's `key + "\\."`: the pattern followed by a literal dot.
        pattern.withDot.emplace(text + "\\.", std::regex::ECMAScript);
        pattern.plain.emplace(text, std::regex::ECMAScript);
      } catch (const std::exception &) {
        pattern.withDot.reset();
        pattern.plain.reset();
      }
    }
    patterns.push_back(std::move(pattern));
  }
}

bool SkipPatterns::skips(const std::string &name) const {
  for (const Pattern &pattern : patterns) {
    const std::string &key = pattern.text;
    if (name.size() >= key.size() &&
        name.compare(name.size() - key.size(), key.size(), key) == 0)
      return true;
    bool prefix = name.compare(0, key.size(), key) == 0;
    if (!pattern.plain || name.size() > MaxRegexInput) {
      if (prefix)
        return true;
      continue;
    }
    try {
      // re.match: anchored at the start, not at the end.
      auto flags = std::regex_constants::match_continuous;
      std::smatch match;
      if (std::regex_search(name, match, *pattern.withDot, flags) ||
          std::regex_search(name, match, *pattern.plain, flags))
        return true;
    } catch (const std::exception &) {
      // regex_error(error_complexity / error_stack) on a pathological
      // pattern: fall back to the plain reading.
      if (prefix)
        return true;
    }
  }
  return false;
}

bool shouldSkipModule(const std::string &name,
                      const std::vector<std::string> &patterns) {
  try {
    return SkipPatterns(patterns).skips(name);
  } catch (const std::exception &) {
    // Only allocation failure can get here; converting is the safe answer
    // for a name nothing could be decided about.
    return false;
  }
}

} // namespace hfq::spec
