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
#include "spec/Validation.h"

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

/// The exception `raised` describes, rendered with the field's value.
bool raiseFieldError(const FieldSpec &field, const Json &value,
                     const RaisedMessage &raised, RaisedError &error) {
  Json scope = Json::object();
  scope[field.name] = value;
  std::optional<std::string> text = renderMessage(
      raised.text, scope, "the type check of field '" + field.name + "'",
      error);
  if (text)
    error = {raised.kind, std::move(*text)};
  return false;
}

/// `normalize`, `map` and `allowed` of one given, type-checked value.
bool normalizeField(const FieldSpec &field, Json &value, RaisedError &error) {
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
    return raiseFieldError(field, value, field.valueError, error);
  return true;
}

/// Type check, `normalize`, `map` and `allowed` of one given field value.
bool checkField(const FieldSpec &field, Json &value, RaisedError &error) {
  if (value.is_null()) {
    // `any` admits None like any other value; rules decide about it
    // (AwqConfig(backend=None) fails the backend rule, not a type check).
    if (field.nullable || field.type.kind == FieldType::Kind::Any)
      return true;
    return raiseFieldError(field, value, field.typeError, error);
  }
  if (!field.type.accepts(value))
    return raiseFieldError(field, value, field.typeError, error);
  return normalizeField(field, value, error);
}

/// Where a schema value is normalized: the spec, the messages its rules
/// emit, and under `config.validation` pydantic-style collection (the
/// value's location and the errors so far; `errors` null: raise at once).
struct SchemaContext {
  const ConfigSpec &spec;
  std::vector<DispatchMessage> &messages;
  RaisedError &error;
  std::vector<std::string> loc;
  std::vector<LineError> *errors = nullptr;

  SchemaContext at(const std::string &part) const {
    SchemaContext inner = *this;
    inner.loc.push_back(part);
    return inner;
  }
  size_t errorCount() const { return errors ? errors->size() : 0; }
};

/// A schema field's value: checkField, or under `config.validation`
/// pydantic's lax check (a problem is collected, not raised; a schema
/// field's object is left to its model).
bool checkSchemaField(const FieldSpec &field, Json &value,
                      const SchemaContext &ctx) {
  if (!ctx.errors)
    return checkField(field, value, ctx.error);
  if (value.is_null() &&
      (field.nullable || field.type.kind == FieldType::Kind::Any))
    return true;
  bool modelled = !field.schema.empty() && !field.schemaPerValue;
  if (!modelled && !validateLax(field.type, value, ctx.loc, *ctx.errors))
    return true;
  return normalizeField(field, value, ctx.error);
}

bool normalizeObject(const ObjectSchema &schema, Json &value,
                     const SchemaContext &ctx);

/// A value the model validates: a non-object is pydantic's model_type.
bool validateModel(const ObjectSchema &schema, Json &value,
                   const SchemaContext &ctx) {
  if (value.is_object())
    return normalizeObject(schema, value, ctx);
  Json context = {{"class_name", schema.name}};
  ctx.errors->push_back({ctx.loc, "model_type", value, std::move(context)});
  return true;
}

/// pydantic's union of the model and `types`: the first member the value
/// passes wins; when none does, every member's errors, each under its tag.
bool validateUnion(const ObjectSchema &schema,
                   const std::vector<FieldType> &types, Json &value,
                   const SchemaContext &ctx) {
  std::vector<DispatchMessage> messages;
  std::vector<LineError> errors;
  SchemaContext branch{ctx.spec, messages, ctx.error, ctx.loc, &errors};
  branch.loc.push_back(pydanticModelTag(schema.name, schema.afterValidators));
  Json normalized = value;
  if (!validateModel(schema, normalized, branch))
    return false;
  if (errors.empty()) {
    value = std::move(normalized);
    ctx.messages.insert(ctx.messages.end(), messages.begin(), messages.end());
    return true;
  }
  for (const FieldType &type : types) {
    Json member = value;
    if (validateLax(type, member, ctx.at(pydanticTypeTag(type)).loc,
                    errors)) {
      value = std::move(member);
      return true;
    }
  }
  ctx.errors->insert(ctx.errors->end(), errors.begin(), errors.end());
  return true;
}

/// One object (or dict value) a schema normalizes.
bool normalizeMember(const ObjectSchema &schema,
                     const std::vector<FieldType> &unionTypes, Json &value,
                     const SchemaContext &ctx) {
  if (!ctx.errors)
    return !value.is_object() || normalizeObject(schema, value, ctx);
  if (unionTypes.empty())
    return validateModel(schema, value, ctx);
  return validateUnion(schema, unionTypes, value, ctx);
}

/// A field's `schema`: the object (or, per value, every object of the dict)
/// validated and dumped as the nested model does. Without
/// `config.validation`, other values (a compressed-tensors preset's target
/// list) are left as given.
bool normalizeFieldValue(const FieldSpec &field, Json &value,
                         const SchemaContext &ctx) {
  const ObjectSchema *schema =
      field.schema.empty() ? nullptr : ctx.spec.findSchema(field.schema);
  if (!schema)
    return true; // the parser checked every reference
  if (!field.schemaPerValue)
    return value.is_null() ||
           normalizeMember(*schema, field.unionTypes, value, ctx);
  if (!value.is_object())
    return true;
  for (auto &entry : value.items())
    if (!normalizeMember(*schema, field.unionTypes, entry.value(),
                         ctx.at(entry.key())))
      return false;
  return true;
}

/// One given field of a schema's object: checked, then normalized by its
/// own schema (or the one its `schema_from` sibling names).
bool normalizeSchemaField(const FieldSpec &field, Json &item,
                          const Json &scope, const SchemaContext &ctx) {
  size_t before = ctx.errorCount();
  if (!checkSchemaField(field, item, ctx))
    return false;
  if (ctx.errorCount() != before)
    return true;
  if (!normalizeFieldValue(field, item, ctx))
    return false;
  auto from = field.schemaFrom.empty() ? scope.end()
                                       : scope.find(field.schemaFrom);
  if (from == scope.end() || !from->is_string() || !item.is_object())
    return true;
  const ObjectSchema *named = ctx.spec.findSchema(from->get<std::string>());
  return !named || normalizeObject(*named, item, ctx);
}

/// The schema's rules over the rebuilt object, then the keys its
/// serializer drops; undeclared keys are dropped unless `keep_extra`.
bool finishObject(const ObjectSchema &schema, Json &value, Json &out,
                  Json &scope, const std::vector<std::string> &given,
                  const SchemaContext &ctx) {
  std::vector<std::string> assigned;
  if (!runRules(schema.rules, scope, ctx.messages, assigned, ctx.error))
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

/// Declared fields in order, defaults filled in (a required one missing is
/// pydantic's `missing` under `config.validation`), then finishObject —
/// which, as pydantic's after-validators, does not run after a field error.
bool normalizeObject(const ObjectSchema &schema, Json &value,
                     const SchemaContext &ctx) {
  if (!value.is_object())
    return true;
  size_t before = ctx.errorCount();
  Json out = Json::object();
  Json scope = Json::object();
  std::vector<std::string> given;
  for (const FieldSpec &field : schema.fields) {
    auto it = value.find(field.name);
    if (it == value.end()) {
      if (!field.defaultValue && ctx.errors)
        ctx.errors->push_back({ctx.at(field.name).loc, "missing", value});
      scope[field.name] = field.defaultValue ? *field.defaultValue : Json();
      if (field.defaultValue)
        out[field.name] = *field.defaultValue;
      continue;
    }
    Json item = *it;
    if (!normalizeSchemaField(field, item, scope, ctx.at(field.name)))
      return false;
    given.push_back(field.name);
    scope[field.name] = item;
    out[field.name] = std::move(item);
  }
  if (ctx.errorCount() != before)
    return true;
  return finishObject(schema, value, out, scope, given, ctx);
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
  std::vector<LineError> validationErrors;
  for (const FieldSpec &field : spec.fields) {
    auto it = given.find(field.name);
    if (it == given.end()) {
      config[field.name] = *field.defaultValue;
      continue;
    }
    Json value = *it;
    SchemaContext ctx{spec, messages, error, {field.name},
                      spec.validation ? &validationErrors : nullptr};
    if (!checkField(field, value, error) ||
        !normalizeFieldValue(field, value, ctx))
      return std::nullopt;
    config[field.name] = std::move(value);
  }
  if (!validationErrors.empty()) {
    error = {"ValidationError",
             formatValidationError(*spec.validation, validationErrors)};
    return std::nullopt;
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
