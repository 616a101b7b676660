//===- GetHfQuantizer.cpp - transformers' get_hf_quantizer over specs -----===//
//
// dispatchQuantizer() runs the steps its header lists, one function each,
// over a DispatchState that carries what one step hands the next. The order
// of every step, and every message text that is not a spec's, follows
// transformers (newest `quantizers/auto.py`, `base.py` and
// `utils/quantization_config.py`); comments name the Python function each
// step stands for. Specs supply the per-class and per-quantizer parts.
//
// JSON is read only through find()/contains() (const operator[] on a
// missing key is undefined behaviour), and dispatchQuantizer catches
// std::exception as a last line of defence.
//
//===----------------------------------------------------------------------===//

#include "quantizer/GetHfQuantizer.h"
#include "quantizer/QuantizationConfig.h"
#include "quantizer/Rules.h"
#include "spec/Input.h"

#include <algorithm>
#include <iterator>

namespace hfq::spec {

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

/// Python's `list(keys)` of str, e.g. "['awq', 'gptq']".
std::string pythonStrList(const std::vector<std::string> &items) {
  Json list = Json::array();
  for (const std::string &item : items)
    list.push_back(item);
  return pythonStr(list);
}

//===----------------------------------------------------------------------===//
// Choosing a method (supports_quant_method, AutoQuantizationConfig)
//===----------------------------------------------------------------------===//

/// The quantizers of the registry that a `selected_when` picks (bnb's
/// 4-bit and 8-bit keys), in the order they are tried: `selection_priority`
/// first, registry order among equals.
std::vector<const QuantizerSpec *>
selectionVariants(const std::vector<const QuantizerSpec *> &candidates) {
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
  for (const QuantizerSpec *quantizer :
       selectionVariants(registry.quantizers()))
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

//===----------------------------------------------------------------------===//
// Scopes of the environment rules
//===----------------------------------------------------------------------===//

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
      bool isCpu =
          value.is_string() && value.get_ref<const std::string &>() == "cpu";
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
  error = {"ValueError",
           "dtype '" + given + "' is not 'auto' nor a torch dtype name"};
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// The steps
//===----------------------------------------------------------------------===//

/// What the steps hand each other. Each step returns false when dispatch
/// stops (with `out.error` set).
struct DispatchState {
  DispatchState(const MethodRegistry &registry, const DispatchInputs &in,
                DispatchDecision &out)
      : registry(registry), in(in), out(out) {}

  const MethodRegistry &registry;
  const DispatchInputs &in;
  DispatchDecision &out;

  /// Step 1: the user's config, resolved.
  MethodChoice user;
  std::optional<Json> userConfig;
  /// Step 2: the checkpoint's quantization_config and its method.
  const Json *fileDict = nullptr;
  MethodChoice file;
  /// Step 3: the config class the quantizer is built from, and the config.
  const ConfigSpec *configSpec = nullptr;
  Json config;
  /// Step 5's expression scope, in which step 6 runs too.
  Json scope;
  /// The dtype name, before and after step 6.
  std::string dtype;
  /// The device map after check_and_set_device_map.
  Json deviceMap;

  bool raise(std::string kind, std::string message) {
    out.error = RaisedError{std::move(kind), std::move(message)};
    return false;
  }
  bool raise(const RaisedError &error) {
    out.error = error;
    return false;
  }
};

/// Whether `value` can place a module in a device_map dict: a device index
/// (an int >= 0, not a bool), "disk", or a device name torch accepts,
/// "<type>" or "<type>:<index>" ("cpu", "cuda:1"). "meta" places nothing.
bool isDeviceMapValue(const Json &value) {
  if (value.is_number_unsigned())
    return true;
  if (value.is_number_integer())
    return value.get<int64_t>() >= 0;
  if (!value.is_string())
    return false;
  const std::string &text = value.get_ref<const std::string &>();
  if (text == "disk")
    return true;
  std::string type = text.substr(0, text.find(':'));
  static const char *const kTypes[] = {"cpu", "cuda", "mps", "xpu",
                                       "npu", "hpu",  "mlu", "mtia"};
  if (std::find(std::begin(kTypes), std::end(kTypes), type) ==
      std::end(kTypes))
    return false;
  if (type.size() == text.size())
    return true;
  std::string index = text.substr(type.size() + 1);
  return !index.empty() && index.size() <= 9 &&
         index.find_first_not_of("0123456789") == std::string::npos;
}

/// hfq's own inputs first: none of these is a transformers situation. The
/// dtype name is checked here too (v5's `_get_dtype` reads it before any
/// quantizer exists).
bool checkInputs(DispatchState &s) {
  const DispatchInputs &in = s.in;
  if (!in.target.valid())
    return s.raise("ValueError", in.target.error());
  if (!in.modelConfig.is_object())
    return s.raise("ValueError",
                   "the model config must be a JSON object, got " +
                       pythonTypeName(in.modelConfig));
  if (!in.deviceMap.is_null() && !in.deviceMap.is_string() &&
      !in.deviceMap.is_number_integer() && !in.deviceMap.is_object())
    return s.raise("ValueError",
                   "device_map must be null, an int, a string or a dict, got " +
                       pythonTypeName(in.deviceMap));
  // A dict's values: accelerate would fail on them only when it moves
  // the first weight.
  if (in.deviceMap.is_object())
    for (const auto &entry : in.deviceMap.items())
      if (!isDeviceMapValue(entry.value()))
        return s.raise(
            "ValueError",
            "device_map[" + quoteLimited(pythonRepr(Json(entry.key()))) +
                "] must be a device index (an int >= 0), 'disk' or a device "
                "name such as 'cpu' or 'cuda:0', got " +
                quoteLimited(pythonRepr(entry.value())));
  RaisedError error;
  std::optional<std::string> dtype = resolveDtype(in, error);
  if (!dtype)
    return s.raise(error);
  s.dtype = *dtype;
  return true;
}

/// Step 1. The user's config is an object before from_pretrained runs: its
/// validation (and an unknown method, which from_dict raises for) comes
/// before anything dispatch does.
bool buildUserConfig(DispatchState &s) {
  if (!s.in.userConfig)
    return true;
  RaisedError error;
  if (!chooseMethod(s.registry, *s.in.userConfig, s.user, error))
    return s.raise(error);
  if (!s.user.quantizer)
    return s.raise("ValueError", unknownMethodMessage(s.registry, s.user));
  s.userConfig = resolveConfig(s.user.quantizer->method->config,
                               *s.in.userConfig, s.out.messages, error);
  return s.userConfig ? true : s.raise(error);
}

/// Whether torch.device() accepts `text`: a device type torch knows,
/// optionally followed by ":<index>".
bool isTorchDevice(const std::string &text) {
  static const char *const kTypes[] = {
      "cpu",  "cuda", "mkldnn", "opengl",        "opencl", "ideep",  "hip",
      "ve",   "fpga", "maia",   "xla",           "lazy",   "vulkan", "mps",
      "meta", "hpu",  "mtia",   "privateuseone", "xpu",    "ipu"};
  size_t colon = text.find(':');
  std::string type = text.substr(0, colon);
  if (colon != std::string::npos) {
    std::string index = text.substr(colon + 1);
    if (index.empty() || index.size() > 9 ||
        !std::all_of(index.begin(), index.end(),
                     [](char c) { return c >= '0' && c <= '9'; }))
      return false;
  }
  return std::any_of(std::begin(kTypes), std::end(kTypes),
                     [&](const char *known) { return type == known; });
}

/// check_and_set_device_map, which from_pretrained runs after building the
/// user's config and before get_hf_quantizer: a device name becomes
/// `{"": torch.device(name)}` ("cuda" is "cuda:<LOCAL_RANK>", 0 here), an
/// int `{"": n}`; "auto", "balanced", "balanced_low_0", "sequential" and
/// dicts stay as given.
bool setDeviceMap(DispatchState &s) {
  Json &map = s.deviceMap;
  map = s.in.deviceMap;
  if (map.is_number_integer()) {
    if (map.get<int64_t>() < 0)
      return s.raise("ValueError",
                     "You can't pass device_map as a negative int. If you "
                     "want to put the model on the cpu, pass device_map = "
                     "'cpu' ");
    map = Json{{"", map}};
  } else if (map.is_string()) {
    std::string name = map.get<std::string>();
    for (const char *strategy :
         {"auto", "balanced", "balanced_low_0", "sequential"})
      if (name == strategy)
        return true;
    if (name == "cuda")
      name = "cuda:0";
    if (!isTorchDevice(name))
      return s.raise("ValueError",
                     "When passing device_map as a string, the value needs "
                     "to be a device name (e.g. cpu, cuda:0) or 'auto', "
                     "'balanced', 'balanced_low_0', 'sequential' but found " +
                         map.get<std::string>() + ".");
    map = Json::object();
    map[""] = name;
  }
  return true;
}

/// Step 2: get_hf_quantizer's presence test of the key, then
/// supports_quant_method (unknown: warn and load unquantized).
bool detectPreQuantized(DispatchState &s) {
  // `getattr(config, "quantization_config", None) or
  // getattr(config.get_text_config(decoder=True), "quantization_config",
  // None)`: a falsy value (None, {}) falls through to the text config.
  auto truthy = [](const Json &value) {
    return !value.is_null() && !(value.is_object() && value.empty());
  };
  const Json *found = nullptr;
  auto fileIt = s.in.modelConfig.find("quantization_config");
  if (fileIt != s.in.modelConfig.end() && truthy(*fileIt))
    found = &*fileIt;
  auto textIt = s.in.modelConfig.find("text_config");
  if (!found && textIt != s.in.modelConfig.end() && textIt->is_object()) {
    auto nested = textIt->find("quantization_config");
    if (nested != textIt->end() && truthy(*nested))
      found = &*nested;
  }
  bool preQuantized = found != nullptr;
  if (preQuantized) {
    s.fileDict = found;
    RaisedError error;
    if (!chooseMethod(s.registry, *s.fileDict, s.file, error))
      return s.raise(error);
    if (!s.file.quantizer) {
      s.out.messages.push_back(
          {Level::Warning,
           unknownMethodMessage(s.registry, s.file) +
               ". Hence, we will skip the quantization. To remove the "
               "warning, you can delete the quantization_config attribute "
               "in config.json"});
      preQuantized = false;
    }
  }
  s.out.preQuantized = preQuantized;
  return true;
}

/// merge_quantization_configs' loading attributes: get_loading_attributes()
/// filters the user object's __dict__, so every loading attribute is there
/// (defaults included), in attribute order. Returns the names copied.
std::vector<std::string> copyLoadingAttributes(const ConfigSpec &userSpec,
                                               const Json &userConfig,
                                               const ConfigSpec &fileSpec,
                                               Json &config) {
  std::vector<std::string> copied;
  const auto &names = userSpec.loadingAttributes;
  for (const FieldSpec &field : userSpec.fields) {
    if (std::find(names.begin(), names.end(), field.name) == names.end() ||
        !fileSpec.findField(field.name))
      continue;
    auto value = userConfig.find(field.name);
    if (value == userConfig.end())
      continue;
    config[field.name] = *value;
    copied.push_back(field.name);
  }
  return copied;
}

/// Step 3, pre-quantized: merge_quantization_configs, in which the file's
/// config wins.
bool mergeConfigs(DispatchState &s) {
  std::string mergeMessage = s.userConfig ? kMergeWarning : "";
  // The user's class builds the checkpoint's config when it converts other
  // methods' dicts (`isinstance(quantization_config_from_args,
  // AutoRoundConfig)`); else AutoQuantizationConfig.from_dict.
  const QuantizerSpec *builder = s.file.quantizer;
  if (s.userConfig && s.user.quantizer->method->config.mergeConvertsFileConfig)
    builder = s.user.quantizer;
  s.configSpec = &builder->method->config;
  RaisedError error;
  std::optional<Json> fileConfig =
      resolveConfig(*s.configSpec, *s.fileDict, s.out.messages, error);
  if (!fileConfig)
    return s.raise(error);
  s.config = std::move(*fileConfig);
  s.out.quantizer = quantizerForConfig(s.registry, *builder, s.config);
  if (s.userConfig) {
    const ConfigSpec &userSpec = s.user.quantizer->method->config;
    // A class-name comparison: AwqConfig subclasses GPTQConfig in Python
    // and still mismatches.
    if (userSpec.className != s.configSpec->className)
      return s.raise(
          "ValueError",
          "The model is quantized with " + s.configSpec->className +
              " but you are passing a " + userSpec.className +
              " config. Please make sure to pass the same quantization "
              "config class to `from_pretrained` with different loading "
              "attributes.");
    if (s.configSpec->loadingAttributesClass &&
        userSpec.loadingAttributesClass) {
      std::vector<std::string> copied = copyLoadingAttributes(
          userSpec, *s.userConfig, *s.configSpec, s.config);
      // Appended to the previous sentence with no space, as transformers
      // does.
      if (!copied.empty())
        mergeMessage += "However, loading attributes (e.g. " +
                        pythonStrList(copied) +
                        ") will be overwritten with the one you passed to "
                        "`from_pretrained`. The rest will be ignored.";
    }
  }
  // `warnings.warn` unless the text is empty or the class is one of
  // Mxfp4/Metal/FineGrainedFP8; else `logger.info`, which logs "" too on
  // every pre-quantized load without a user config.
  bool warn = !mergeMessage.empty() && s.configSpec->mergeMessage != "info";
  s.out.messages.push_back({warn ? Level::Warning : Level::Info, mergeMessage});
  return true;
}

/// Step 3: the config the quantizer is built from — the merge when
/// pre-quantized, else the user's config (on the fly), else none.
bool chooseConfig(DispatchState &s) {
  if (s.out.preQuantized) {
    if (!mergeConfigs(s))
      return false;
  } else if (s.userConfig) {
    s.configSpec = &s.user.quantizer->method->config;
    s.config = std::move(*s.userConfig);
    s.out.quantizer =
        quantizerForConfig(s.registry, *s.user.quantizer, s.config);
  }
  s.out.config = s.config;
  return true;
}

/// Step 4: HfQuantizer.__init__.
bool checkCalibration(DispatchState &s) {
  const QuantizerSpec *quantizer = s.out.quantizer;
  if (!quantizer || !quantizer->requiresCalibration || s.out.preQuantized)
    return true;
  // `{quantization_config.quant_method}`: the enum member, which str()
  // prints as "QuantizationMethod.AWQ" (5.17 quantizers/base.py:92-97).
  return s.raise(
      "ValueError",
      "The quantization method QuantizationMethod." +
          s.configSpec->quantMethodEnum +
          " does require the model to be pre-quantized. You explicitly "
          "passed `pre_quantized=False` meaning your model weights are "
          "not quantized. Make sure to pass `pre_quantized=True` while "
          "knowing what you are doing.");
}

/// Step 5: validate_environment; its `set`s change the config (FP8 falls
/// back to dequantize).
bool validateEnvironment(DispatchState &s) {
  const QuantizerSpec *quantizer = s.out.quantizer;
  if (!quantizer)
    return true;
  s.scope = configScope(*s.configSpec, s.config);
  s.scope["pre_quantized"] = s.out.preQuantized;
  s.scope["dtype"] = s.dtype;
  s.scope["device_map"] = deviceMapScope(s.deviceMap);
  s.scope["target"] = s.in.target.scope();
  s.scope["weights_only"] = s.in.weightsOnly;
  std::vector<std::string> assigned;
  RaisedError error;
  bool ok = runRules(quantizer->environment, s.scope, s.out.messages, assigned,
                     error);
  for (const std::string &name : assigned)
    s.config[name] = s.scope[name];
  s.out.config = s.config;
  return ok ? true : s.raise(error);
}

/// Step 6: update_dtype, which v5 calls from _get_dtype after resolving
/// "auto" (checkInputs did that part).
bool updateDtype(DispatchState &s) {
  if (const QuantizerSpec *quantizer = s.out.quantizer) {
    std::vector<std::string> assigned;
    RaisedError error;
    if (!runRules(quantizer->dtypeRules, s.scope, s.out.messages, assigned,
                  error))
      return s.raise(error);
    const Json &dtype = s.scope["dtype"];
    if (!dtype.is_string())
      return s.raise("InternalError",
                     "a dtype rule of '" + quantizer->key + "' set dtype to " +
                         pythonRepr(dtype) + ", not a dtype name");
    s.dtype = dtype.get<std::string>();
  }
  s.out.dtype = s.dtype;
  return true;
}

/// Step 7: update_device_map; only an unset map is filled in.
bool updateDeviceMap(DispatchState &s) {
  const QuantizerSpec *quantizer = s.out.quantizer;
  s.out.deviceMap = s.deviceMap;
  if (quantizer && quantizer->deviceMapDefault && s.deviceMap.is_null()) {
    // bnb: `{"": torch.cuda.current_device()}`, the int 0; GPTQ:
    // `{"": torch.device("cpu")}`; Metal: `{"": "mps"}`, whatever the target.
    const std::string &device = *quantizer->deviceMapDefault;
    bool cuda = device == "cuda" && s.in.target.cuda();
    s.out.deviceMap = Json::object();
    if (cuda)
      s.out.deviceMap[""] = 0;
    else if (device == "mps")
      s.out.deviceMap[""] = "mps";
    else
      s.out.deviceMap[""] = "cpu";
  }
  return true;
}

/// Last: what to_dict() returns for the decided config.
bool serializeDecision(DispatchState &s) {
  if (!s.out.quantizer)
    return true;
  RaisedError error;
  std::optional<Json> dict = serializeConfig(*s.configSpec, s.config, error);
  if (!dict)
    return s.raise(error);
  s.out.configDict = std::move(*dict);
  return true;
}

} // namespace

DispatchDecision dispatchQuantizer(const MethodRegistry &registry,
                                   const DispatchInputs &in) {
  DispatchDecision out;
  out.deviceMap = in.deviceMap;
  try {
    DispatchState s(registry, in, out);
    using Step = bool (*)(DispatchState &);
    for (Step step :
         {checkInputs, buildUserConfig, setDeviceMap, detectPreQuantized,
          chooseConfig, checkCalibration, validateEnvironment, updateDtype,
          updateDeviceMap, serializeDecision})
      if (!step(s))
        break;
  } catch (const std::exception &e) {
    out.error = internalError(e);
  }
  return out;
}

} // namespace hfq::spec
