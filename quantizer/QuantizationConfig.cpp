//===- QuantizationConfig.cpp - A config class: from_dict, to_dict --------===//
//
// The order of every step, and every message text that is not a spec's,
// follows transformers' `utils/quantization_config.py`. JSON is read only
// through find()/contains() (const operator[] on a missing key is undefined
// behaviour); the entry points catch std::exception as a last line of
// defence.
//
//===----------------------------------------------------------------------===//

#include "quantizer/QuantizationConfig.h"
#include "quantizer/Rules.h"

#include <algorithm>

namespace hfq::spec {

namespace {

std::string asciiLower(std::string text) {
  // Only ASCII letters: a byte of a UTF-8 sequence must not change.
  for (char &c : text)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return text;
}

/// CPython's wording for missing positional arguments:
/// "'a'", "'a' and 'b'", "'a', 'b', and 'c'".
std::string missingArgumentsMessage(const std::string &className,
                                    const std::vector<std::string> &names) {
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0)
      list += names.size() == 2 ? " and "
                                : (i + 1 == names.size() ? ", and " : ", ");
    list += "'" + names[i] + "'";
  }
  return className + ".__init__() missing " + std::to_string(names.size()) +
         " required positional argument" + (names.size() == 1 ? "" : "s") +
         ": " + list;
}

/// Type check, `normalize`, `map` and `allowed` of one given field value.
bool checkField(const FieldSpec &field, Json &value, RaisedError &error) {
  auto raise = [&](const RaisedMessage &raised) {
    Json scope = Json::object();
    scope[field.name] = value;
    std::optional<std::string> text = renderMessage(
        raised.text, scope, "the type check of field '" + field.name + "'",
        error);
    if (text)
      error = {raised.kind, std::move(*text)};
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

bool normalizeObject(const ConfigSpec &spec, const ObjectSchema &schema,
                     Json &value, std::vector<DispatchMessage> &messages,
                     RaisedError &error);

/// A field's `schema`: the object (or, per value, every object of the dict)
/// validated and dumped as the nested model does. Other values (a
/// compressed-tensors preset's target list) are left as given.
bool normalizeFieldValue(const ConfigSpec &spec, const FieldSpec &field,
                         Json &value, std::vector<DispatchMessage> &messages,
                         RaisedError &error) {
  if (field.schema.empty() || !value.is_object())
    return true;
  const ObjectSchema *schema = spec.findSchema(field.schema);
  if (!schema)
    return true; // the parser checked every reference
  if (!field.schemaPerValue)
    return normalizeObject(spec, *schema, value, messages, error);
  for (auto &entry : value.items())
    if (!normalizeObject(spec, *schema, entry.value(), messages, error))
      return false;
  return true;
}

/// Declared fields in order, defaults filled in, then the schema's rules,
/// then the keys its serializer drops; undeclared keys are dropped.
bool normalizeObject(const ConfigSpec &spec, const ObjectSchema &schema,
                     Json &value, std::vector<DispatchMessage> &messages,
                     RaisedError &error) {
  if (!value.is_object())
    return true;
  Json out = Json::object();
  Json scope = Json::object();
  std::vector<std::string> given;
  for (const FieldSpec &field : schema.fields) {
    auto it = value.find(field.name);
    if (it == value.end()) {
      scope[field.name] = field.defaultValue ? *field.defaultValue : Json();
      if (field.defaultValue)
        out[field.name] = *field.defaultValue;
      continue;
    }
    Json item = *it;
    if (!checkField(field, item, error) ||
        !normalizeFieldValue(spec, field, item, messages, error))
      return false;
    if (!field.schemaFrom.empty() && item.is_object() &&
        scope[field.schemaFrom].is_string()) {
      const ObjectSchema *named =
          spec.findSchema(scope[field.schemaFrom].get<std::string>());
      if (named && !normalizeObject(spec, *named, item, messages, error))
        return false;
    }
    given.push_back(field.name);
    scope[field.name] = item;
    out[field.name] = std::move(item);
  }
  std::vector<std::string> assigned;
  if (!runRules(schema.rules, scope, messages, assigned, error))
    return false;
  for (const std::string &name : assigned)
    out[name] = scope[name];
  for (const std::string &name : schema.omitIfNull)
    if (out.contains(name) && out[name].is_null())
      out.erase(name);
  for (const std::string &name : schema.omitIfEmpty)
    if (out.contains(name) && !isTruthy(out[name]))
      out.erase(name);
  for (const std::string &name : schema.omitUnlessGiven)
    if (std::find(given.begin(), given.end(), name) == given.end())
      out.erase(name);
  auto declared = [&](const std::string &key) {
    return std::any_of(
        schema.fields.begin(), schema.fields.end(),
        [&](const FieldSpec &field) { return field.name == key; });
  };
  if (schema.keepExtra)
    for (const auto &entry : value.items())
      if (!out.contains(entry.key()) && !declared(entry.key()))
        out[entry.key()] = entry.value();
  value = std::move(out);
  return true;
}

/// The values `dict` gives, per field, after the legacy keys: they override
/// in order (AwqConfig: `version` replaces `format`, then GPTQConfig's
/// `checkpoint_format` replaces that), skipping None as transformers'
/// `kwargs.get(key) is not None` does.
Json givenFields(const ConfigSpec &spec, const Json &dict) {
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
  return given;
}

std::optional<Json> resolveGivenDict(const ConfigSpec &spec, const Json &dict,
                                     std::vector<DispatchMessage> &messages,
                                     RaisedError &error);

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

  // A from_dict override's checks and edits of the dict (AutoRoundConfig).
  Json edited;
  if (!spec.fromDictRules.empty()) {
    Json dictScope = Json::object();
    dictScope["dict"] = dict;
    std::vector<std::string> assigned;
    if (!runRules(spec.fromDictRules, dictScope, messages, assigned, error))
      return std::nullopt;
    edited = dict;
    for (const std::string &name : assigned)
      edited[name] = dictScope[name];
  }
  return resolveGivenDict(spec, edited.is_null() ? dict : edited, messages,
                          error);
}

std::optional<Json> resolveGivenDict(const ConfigSpec &spec, const Json &dict,
                                     std::vector<DispatchMessage> &messages,
                                     RaisedError &error) {
  Json given = givenFields(spec, dict);
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
    if (!checkField(field, value, error) ||
        !normalizeFieldValue(spec, field, value, messages, error))
      return std::nullopt;
    config[field.name] = std::move(value);
  }

  // setattr(self, key, value) for every other keyword (AutoRoundConfig),
  // quant_method included: __init__ reassigns it later, in place.
  if (spec.serializeExtraKwargs) {
    if (dict.contains("quant_method"))
      config.erase("quant_method");
    for (const auto &entry : dict.items()) {
      const std::string &key = entry.key();
      bool legacy = std::any_of(
          spec.legacyKeys.begin(), spec.legacyKeys.end(),
          [&](const LegacyKey &legacyKey) { return legacyKey.from == key; });
      if (key == "quant_method")
        config[key] = spec.quantMethod;
      else if (!spec.findField(key) && !legacy)
        config[key] = entry.value();
    }
  }

  // `if kwargs: logger.info(...)`, just before post_init.
  if (spec.unusedKwargsInfo) {
    Json unused = Json::array();
    for (const auto &entry : dict.items()) {
      const std::string &key = entry.key();
      bool used = spec.findField(key) != nullptr;
      for (const LegacyKey &legacy : spec.legacyKeys)
        used = used || legacy.from == key;
      if (!used)
        unused.push_back(key);
    }
    if (!unused.empty()) {
      Json unusedScope = Json::object();
      unusedScope["unused_kwargs"] = std::move(unused);
      std::optional<std::string> text = renderMessage(
          *spec.unusedKwargsInfo, unusedScope, "unused_kwargs_info", error);
      if (!text)
        return std::nullopt;
      messages.push_back({DispatchMessage::Level::Info, *text});
    }
  }

  // post_init.
  Json scope = configScope(spec, config);
  std::vector<std::string> assigned;
  if (!runRules(spec.rules, scope, messages, assigned, error))
    return std::nullopt;
  for (const std::string &name : assigned)
    config[name] = scope[name];
  // Strict classes (HQQ) index the dict directly in from_dict, after
  // `cls()` has run __init__ (and its messages) on the defaults.
  for (const std::string &key : spec.strictKeys)
    if (!dict.contains(key)) {
      error = {"KeyError", pythonRepr(Json(key))};
      return std::nullopt;
    }
  return config;
}

std::optional<Json> serializeConfigImpl(const ConfigSpec &spec,
                                        const Json &resolved,
                                        RaisedError &error) {
  Json scope = configScope(spec, resolved);
  Json dict = Json::object();
  // With extra_kwargs, a quant_method the dict had stands among the extras.
  bool quantMethodAmongExtras = spec.serializeExtraKwargs &&
                                !resolved.empty() &&
                                resolved.begin().key() != "quant_method";
  for (const SerializedKey &key : spec.serializedKeys) {
    if (!key.value && key.key == "quant_method" && quantMethodAmongExtras)
      continue;
    if (key.when) {
      ExprError exprError;
      std::optional<Json> when = key.when->evaluate(scope, exprError);
      if (!when) {
        error = evaluationError("the 'when' of serialized key '" + key.key +
                                    "'",
                                *key.when, exprError);
        return std::nullopt;
      }
      if (!isTruthy(*when))
        continue;
    }
    if (key.value) {
      ExprError exprError;
      std::optional<Json> value = key.value->evaluate(scope, exprError);
      if (!value) {
        error = evaluationError("serialized key '" + key.key + "'", *key.value,
                                exprError);
        return std::nullopt;
      }
      dict[key.key] = std::move(*value);
    } else if (key.key == "quant_method") {
      dict[key.key] = spec.quantMethod;
    } else {
      dict[key.key] = scope[key.key];
    }
  }
  if (spec.serializeExtraKwargs)
    for (const auto &entry : resolved.items())
      if (!dict.contains(entry.key()) && !spec.findField(entry.key()))
        dict[entry.key()] = entry.value();
  return dict;
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
    return serializeConfigImpl(spec, resolved, error);
  } catch (const std::exception &e) {
    error = internalError(e);
    return std::nullopt;
  }
}

} // namespace hfq::spec
