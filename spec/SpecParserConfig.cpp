//===- SpecParserConfig.cpp - Reading a spec's config class ---------------===//
//
// The `config` object of a spec: the transformers config class, its fields
// (type, default, allowed values, normalization, messages), the legacy and
// dropped keys, the validation rules with transformers' messages, the
// loading attributes and the to_dict() keys. Rules are read here for the
// quantizer's environment and dtype rules too.
//
//===----------------------------------------------------------------------===//

#include "spec/SpecParser.h"
#include "spec/Limits.h"
#include "spec/Validation.h"

#include <algorithm>

namespace hfq::spec {

/// Parses "int", "list<list<string>>", ... Returns false on a bad spelling.
static bool parseFieldType(const std::string &text, FieldType &type) {
  static const std::pair<const char *, FieldType::Kind> kScalars[] = {
      {"any", FieldType::Kind::Any},       {"bool", FieldType::Kind::Bool},
      {"int", FieldType::Kind::Int},       {"float", FieldType::Kind::Float},
      {"number", FieldType::Kind::Number}, {"string", FieldType::Kind::String},
      {"dtype", FieldType::Kind::Dtype},   {"dict", FieldType::Kind::Dict}};
  for (const auto &[name, kind] : kScalars) {
    if (text == name) {
      type.kind = kind;
      return true;
    }
  }
  const std::string prefix = "list<";
  if (text.size() > prefix.size() + 1 && text.compare(0, 5, prefix) == 0 &&
      text.back() == '>') {
    FieldType element;
    if (!parseFieldType(text.substr(5, text.size() - 6), element))
      return false;
    type.kind = FieldType::Kind::List;
    type.element = std::make_shared<FieldType>(element);
    return true;
  }
  return false;
}

bool SpecParser::parseConfig(const Node &node, ConfigSpec &config) {
  if (!expectObject(node,
                    {"class", "quant_method", "quant_method_enum", "fields",
                     "legacy_keys", "dropped_keys", "strict_keys",
                     "unused_kwargs_info", "rules", "loading_attributes",
                     "loading_attributes_class", "merge_message", "serialize",
                     "schemas", "from_dict", "merge_converts_file_config",
                     "functions", "validation"},
                    {"class", "quant_method", "fields"}))
    return false;
  if (!getString(node.child("class"), config.className) ||
      !getString(node.child("quant_method"), config.quantMethod) ||
      !parseFields(node.child("fields"), config))
    return false;
  if (node.has("schemas") && !parseSchemas(node.child("schemas"), config))
    return false;
  if (!checkSchemaReferences(node.child("fields"), config.fields, config))
    return false;
  for (size_t i = 0; i < config.schemas.size(); ++i)
    if (!checkSchemaReferences(
            node.child("schemas").item(i).child("fields"),
            config.schemas[i].fields, config))
      return false;
  if (node.has("functions") && !parseFunctions(node.child("functions")))
    return false;
  if (node.has("validation") &&
      !parseValidation(node.child("validation"), config))
    return false;
  for (char c : config.quantMethod)
    config.quantMethodEnum +=
        c == '-' ? '_' : (c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c);
  if (node.has("quant_method_enum") &&
      !getString(node.child("quant_method_enum"), config.quantMethodEnum))
    return false;
  if (node.has("legacy_keys") &&
      !parseLegacyKeys(node.child("legacy_keys"), config))
    return false;
  if (node.has("dropped_keys") &&
      !getStringList(node.child("dropped_keys"), config.droppedKeys))
    return false;
  if (node.has("strict_keys") &&
      !parseFieldList(node.child("strict_keys"), config, config.strictKeys))
    return false;
  if (node.has("unused_kwargs_info")) {
    config.unusedKwargsInfo.emplace();
    if (!getTemplate(node.child("unused_kwargs_info"), {"unused_kwargs"},
                     *config.unusedKwargsInfo))
      return false;
  }
  Names fieldsInScope = fieldNames(config);
  if (node.has("rules") && !parseRules(node.child("rules"), fieldsInScope,
                                       fieldsInScope, config.rules))
    return false;
  if (node.has("from_dict") &&
      !parseRules(node.child("from_dict"), Names{"dict"}, fieldNames(config),
                  config.fromDictRules))
    return false;
  if (node.has("merge_converts_file_config") &&
      !getBool(node.child("merge_converts_file_config"),
               config.mergeConvertsFileConfig))
    return false;
  if (node.has("loading_attributes") &&
      !parseFieldList(node.child("loading_attributes"), config,
                      config.loadingAttributes))
    return false;
  config.loadingAttributesClass = !config.loadingAttributes.empty();
  if (node.has("loading_attributes_class") &&
      !getBool(node.child("loading_attributes_class"),
               config.loadingAttributesClass))
    return false;
  if (node.has("merge_message") &&
      !getChoice(node.child("merge_message"), {"warning", "info"},
                 config.mergeMessage))
    return false;
  if (node.has("serialize"))
    return parseSerializedKeys(node.child("serialize"), config);
  config.serializedKeys.push_back({"quant_method", std::nullopt, std::nullopt});
  for (const FieldSpec &field : config.fields)
    config.serializedKeys.push_back({field.name, std::nullopt, std::nullopt});
  return true;
}

bool SpecParser::parseFields(const Node &fields, ConfigSpec &config) {
  if (!expectType(fields, fields.value.is_array(), "a list of field objects"))
    return false;
  for (size_t i = 0; i < fields.value.size(); ++i) {
    FieldSpec field;
    if (!parseField(fields.item(i), field))
      return false;
    if (!field.schemaFrom.empty())
      return fail(fields.item(i).pointer + "/schema_from",
                  "'schema_from' names a sibling of a schema's field; a "
                  "config field has none");
    if (config.findField(field.name) || field.name == "quant_method")
      return fail(fields.item(i).pointer + "/name",
                  "field '" + field.name + "' is declared twice");
    config.fields.push_back(std::move(field));
  }
  return true;
}

bool SpecParser::parseField(const Node &node, FieldSpec &field) {
  if (!expectObject(node,
                    {"name", "type", "default", "nullable", "allowed",
                     "normalize", "map", "type_error", "value_error",
                     "schema", "value_schema", "schema_from", "union_types"},
                    {"name", "type"}))
    return false;
  std::string typeText;
  if (!getString(node.child("name"), field.name) ||
      !getString(node.child("type"), typeText))
    return false;
  if (!parseFieldType(typeText, field.type))
    return fail(node.pointer + "/type",
                "unknown field type '" + quoteLimited(typeText) +
                    "' (expected bool, int, float, number, string, dtype, "
                    "dict, any or list<T>)");
  if (node.has("nullable") && !getBool(node.child("nullable"), field.nullable))
    return false;
  if (node.has("default")) {
    field.defaultValue = node.value["default"];
    if (field.defaultValue->is_null())
      field.nullable = true;
    else if (!field.type.accepts(*field.defaultValue))
      return fail(node.pointer + "/default",
                  "default " + pythonRepr(*field.defaultValue) +
                      " is not of the field's type " + field.type.str());
  }
  if (node.has("allowed")) {
    Node allowed = node.child("allowed");
    if (!expectType(allowed, allowed.value.is_array(), "a list of values"))
      return false;
    field.allowed.assign(allowed.value.begin(), allowed.value.end());
  }
  if (node.has("normalize")) {
    std::string how;
    if (!getString(node.child("normalize"), how))
      return false;
    if (how != "lower")
      return fail(node.pointer + "/normalize",
                  "unknown normalization '" + how + "' (expected 'lower')");
    field.lowerCase = true;
  }
  if (node.has("map")) {
    Node map = node.child("map");
    if (!expectType(map, map.value.is_object(), "an object"))
      return false;
    field.valueMap = map.value;
  }
  // Default messages follow transformers' most common wording.
  field.typeError = {"TypeError",
                     field.name + " must be of type " + field.type.str()};
  field.valueError = {"ValueError", field.name + " must be one of " +
                                        pythonStr(Json(field.allowed)) +
                                        " but got {" + field.name + "}"};
  Names scope{field.name};
  if (node.has("type_error") &&
      !getRaised(node.child("type_error"), scope, field.typeError))
    return false;
  if (node.has("value_error") &&
      !getRaised(node.child("value_error"), scope, field.valueError))
    return false;
  if (node.has("doc"))
    field.doc = node.value["doc"].get<std::string>();
  if (node.has("schema") && node.has("value_schema"))
    return fail(node.pointer,
                "a field has 'schema' or 'value_schema', not both");
  for (const char *key : {"schema", "value_schema"}) {
    if (!node.has(key))
      continue;
    if (!getString(node.child(key), field.schema))
      return false;
    if (field.type.kind != FieldType::Kind::Dict &&
        field.type.kind != FieldType::Kind::Any)
      return fail(node.pointer + "/" + key,
                  "a schema normalizes an object: the field's type must be "
                  "dict or any, not " +
                      field.type.str());
    field.schemaPerValue = std::string(key) == "value_schema";
  }
  if (node.has("schema_from")) {
    if (!field.schema.empty())
      return fail(node.pointer + "/schema_from",
                  "a field has 'schema' or 'schema_from', not both");
    if (!getString(node.child("schema_from"), field.schemaFrom))
      return false;
  }
  return !node.has("union_types") || parseUnionTypes(node, field);
}

bool SpecParser::parseUnionTypes(const Node &node, FieldSpec &field) {
  Node list = node.child("union_types");
  if (field.schema.empty())
    return fail(list.pointer, "'union_types' names the other members of a "
                              "schema's union: the field needs 'schema' or "
                              "'value_schema'");
  std::vector<std::string> texts;
  if (!getStringList(list, texts))
    return false;
  for (size_t i = 0; i < texts.size(); ++i) {
    FieldType type;
    if (!parseFieldType(texts[i], type))
      return fail(list.item(i).pointer,
                  "unknown field type '" + quoteLimited(texts[i]) + "'");
    field.unionTypes.push_back(type);
  }
  return true;
}

bool SpecParser::parseValidation(const Node &node, ConfigSpec &config) {
  ValidationStyle style;
  if (!expectObject(node,
                    {"title", "docs_url", "messages", "repr_limit",
                     "repr_head", "repr_tail"},
                    {"title", "docs_url", "messages"}) ||
      !getString(node.child("title"), style.title) ||
      !getString(node.child("docs_url"), style.docsUrl))
    return false;
  std::pair<const char *, int64_t *> sizes[] = {
      {"repr_limit", &style.reprLimit},
      {"repr_head", &style.reprHead},
      {"repr_tail", &style.reprTail}};
  for (auto &[key, out] : sizes)
    if (node.has(key) && !getInt(node.child(key), *out))
      return false;
  if (style.reprLimit < 0 || style.reprHead < 0 || style.reprTail < 0 ||
      style.reprHead + style.reprTail > style.reprLimit)
    return fail(node.pointer, "repr_limit, repr_head and repr_tail must be "
                              "non-negative, head + tail at most the limit");
  if (!parseValidationMessages(node.child("messages"), style))
    return false;
  config.validation = std::move(style);
  return true;
}

bool SpecParser::parseValidationMessages(const Node &node,
                                         ValidationStyle &style) {
  if (!expectType(node, node.value.is_object(),
                  "an object of error type -> message"))
    return false;
  const std::vector<std::string> &types = validationErrorTypes();
  for (const auto &entry : node.value.items()) {
    if (std::find(types.begin(), types.end(), entry.key()) == types.end())
      return fail(node.child(entry.key()).pointer,
                  "unknown error type '" + quoteLimited(entry.key()) + "'");
    if (!getString(node.child(entry.key()), style.messages[entry.key()]))
      return false;
  }
  for (const std::string &type : types)
    if (!style.messages.count(type))
      return fail(node.pointer, "no message for error type '" + type + "'");
  return true;
}

bool SpecParser::parseSchemas(const Node &node, ConfigSpec &config) {
  if (!expectType(node, node.value.is_array(), "a list of schema objects"))
    return false;
  for (size_t i = 0; i < node.value.size(); ++i) {
    ObjectSchema schema;
    if (!parseSchema(node.item(i), schema))
      return false;
    if (config.findSchema(schema.name))
      return fail(node.item(i).pointer + "/name",
                  "schema '" + schema.name + "' is declared twice");
    config.schemas.push_back(std::move(schema));
  }
  return true;
}

bool SpecParser::parseSchema(const Node &node, ObjectSchema &schema) {
  if (!expectObject(node,
                    {"name", "fields", "rules", "omit_if_null",
                     "omit_if_empty", "omit_unless_given", "keep_extra",
                     "after_validators"},
                    {"name", "fields"}) ||
      !getString(node.child("name"), schema.name))
    return false;
  Node fields = node.child("fields");
  if (!expectType(fields, fields.value.is_array(), "a list of field objects"))
    return false;
  Names names;
  for (size_t i = 0; i < fields.value.size(); ++i) {
    FieldSpec field;
    if (!parseField(fields.item(i), field))
      return false;
    if (names.count(field.name))
      return fail(fields.item(i).pointer + "/name",
                  "field '" + field.name + "' is declared twice");
    if (!field.schemaFrom.empty() && !names.count(field.schemaFrom))
      return fail(fields.item(i).pointer + "/schema_from",
                  "'" + field.schemaFrom +
                      "' is not a field declared before this one");
    names.insert(field.name);
    schema.fields.push_back(std::move(field));
  }
  if (node.has("rules") &&
      !parseRules(node.child("rules"), names, names, schema.rules))
    return false;
  if (node.has("keep_extra") &&
      !getBool(node.child("keep_extra"), schema.keepExtra))
    return false;
  if (node.has("after_validators") &&
      !getStringList(node.child("after_validators"), schema.afterValidators))
    return false;
  std::pair<const char *, std::vector<std::string> *> lists[] = {
      {"omit_if_null", &schema.omitIfNull},
      {"omit_if_empty", &schema.omitIfEmpty},
      {"omit_unless_given", &schema.omitUnlessGiven}};
  for (auto &[key, out] : lists) {
    if (!node.has(key))
      continue;
    Node list = node.child(key);
    if (!getStringList(list, *out))
      return false;
    for (size_t i = 0; i < out->size(); ++i)
      if (!names.count((*out)[i]))
        return fail(list.item(i).pointer, "'" + (*out)[i] +
                                              "' is not a field of schema " +
                                              schema.name);
  }
  return true;
}

bool SpecParser::checkSchemaReferences(const Node &fields,
                                       const std::vector<FieldSpec> &declared,
                                       const ConfigSpec &config) {
  for (size_t i = 0; i < declared.size(); ++i) {
    const FieldSpec &field = declared[i];
    if (field.schema.empty() || config.findSchema(field.schema))
      continue;
    // The field's node: fields are stored in declaration order.
    for (size_t j = 0; j < fields.value.size(); ++j) {
      Node item = fields.item(j);
      if (item.value.value("name", std::string()) == field.name)
        return fail(item.pointer + (field.schemaPerValue ? "/value_schema"
                                                         : "/schema"),
                    "unknown schema '" + field.schema + "'");
    }
    return fail(fields.pointer, "unknown schema '" + field.schema + "'");
  }
  return true;
}

bool SpecParser::parseLegacyKeys(const Node &legacy, ConfigSpec &config) {
  if (!expectType(legacy, legacy.value.is_array(), "a list"))
    return false;
  for (size_t i = 0; i < legacy.value.size(); ++i) {
    Node item = legacy.item(i);
    LegacyKey key;
    if (!expectObject(item, {"from", "to"}, {"from", "to"}) ||
        !getString(item.child("from"), key.from) ||
        !getString(item.child("to"), key.to) ||
        !checkFieldName(item.child("to"), config, key.to))
      return false;
    config.legacyKeys.push_back(key);
  }
  return true;
}

bool SpecParser::parseFieldList(const Node &node, const ConfigSpec &config,
                                std::vector<std::string> &out) {
  std::size_t first = out.size();
  if (!getStringList(node, out))
    return false;
  for (size_t i = first; i < out.size(); ++i)
    if (!checkFieldName(node.item(i - first), config, out[i]))
      return false;
  return true;
}

bool SpecParser::parseSerializedKeys(const Node &serialize,
                                     ConfigSpec &config) {
  if (!expectObject(serialize, {"keys", "extra_kwargs"}, {"keys"}))
    return false;
  if (serialize.has("extra_kwargs") &&
      !getBool(serialize.child("extra_kwargs"), config.serializeExtraKwargs))
    return false;
  Names fieldsInScope = fieldNames(config);
  Node keys = serialize.child("keys");
  if (!expectType(keys, keys.value.is_array(), "a list"))
    return false;
  for (size_t i = 0; i < keys.value.size(); ++i) {
    Node item = keys.item(i);
    SerializedKey key;
    if (item.value.is_string()) {
      key.key = item.value.get<std::string>();
      if (!fieldsInScope.count(key.key))
        return fail(item.pointer, "'" + key.key + "' is not a field of " +
                                      config.className +
                                      " (use {\"key\", \"value\"} for a "
                                      "computed entry)");
    } else {
      if (!expectObject(item, {"key", "value", "template", "when"},
                        {"key"}) ||
          !getString(item.child("key"), key.key))
        return false;
      if (item.has("value") && item.has("template"))
        return fail(item.pointer, "give \"value\" or \"template\", not both");
      if (item.has("value") || item.has("template")) {
        key.value.emplace();
        if (item.has("value")
                ? !getExpr(item.child("value"), fieldsInScope, *key.value)
                : !getTemplateExpr(item.child("template"), fieldsInScope,
                                   *key.value))
          return false;
      } else if (!fieldsInScope.count(key.key)) {
        return fail(item.pointer + "/key",
                    "'" + key.key + "' is not a field of " + config.className +
                        " (give a \"value\" for a computed entry)");
      }
      if (item.has("when")) {
        key.when.emplace();
        if (!getExpr(item.child("when"), fieldsInScope, *key.when))
          return false;
      }
    }
    config.serializedKeys.push_back(std::move(key));
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Rules
//===----------------------------------------------------------------------===//

bool SpecParser::parseRules(const Node &node, const Names &scope,
                            const Names &assignable, std::vector<Rule> &rules) {
  if (!expectType(node, node.value.is_array(), "a list of rules"))
    return false;
  for (size_t i = 0; i < node.value.size(); ++i) {
    Rule rule;
    if (!parseRule(node.item(i), scope, assignable, rule))
      return false;
    rules.push_back(std::move(rule));
  }
  return true;
}

/// One rule: its `when`, at most one of error/warning/info, and `set`
/// assignments to the fields in `assignable` (not with an error).
bool SpecParser::parseRule(const Node &item, const Names &scope,
                           const Names &assignable, Rule &rule) {
  if (!expectObject(item, {"when", "error", "warning", "info", "set"},
                    {"when"}))
    return false;
  rule.pointer = item.pointer;
  if (!getExpr(item.child("when"), scope, rule.when))
    return false;
  int actions = 0;
  if (item.has("error")) {
    ++actions;
    rule.error.emplace();
    if (!getRaised(item.child("error"), scope, *rule.error))
      return false;
  }
  if (item.has("warning")) {
    ++actions;
    rule.warning.emplace();
    if (!getTemplate(item.child("warning"), scope, *rule.warning))
      return false;
  }
  if (item.has("info")) {
    ++actions;
    rule.info.emplace();
    if (!getTemplate(item.child("info"), scope, *rule.info))
      return false;
  }
  if (actions > 1)
    return fail(item.pointer,
                "a rule has one of 'error', 'warning' or 'info', not several");
  if (item.has("set")) {
    if (rule.error)
      return fail(item.pointer + "/set",
                  "a rule that raises an error cannot also 'set'");
    Node set = item.child("set");
    if (!expectType(set, set.value.is_object(), "an object"))
      return false;
    for (const auto &entry : set.value.items()) {
      Node target = set.child(entry.key());
      if (!assignable.count(entry.key()))
        return fail(target.pointer, "cannot assign '" + entry.key() +
                                        "': not a field of this config");
      Expr value;
      if (!getExpr(target, scope, value))
        return false;
      rule.assignments.emplace_back(entry.key(), value);
    }
  } else if (actions == 0) {
    return fail(item.pointer,
                "a rule needs one of 'error', 'warning', 'info' or 'set'");
  }
  return true;
}

bool SpecParser::parseFunctions(const Node &node) {
  if (!expectType(node, node.value.is_array(), "a list of function objects"))
    return false;
  if (node.value.size() > limits::kMaxFunctions)
    return fail(node.pointer, "more than " +
                                  std::to_string(limits::kMaxFunctions) +
                                  " functions");
  for (size_t i = 0; i < node.value.size(); ++i) {
    auto function = std::make_shared<ExprFunction>();
    if (!parseFunction(node.item(i), *function))
      return false;
    functions.push_back(std::move(function));
  }
  return true;
}

bool SpecParser::parseFunction(const Node &node, ExprFunction &function) {
  if (!expectObject(node, {"name", "params", "value", "template"},
                    {"name", "params"}) ||
      !getString(node.child("name"), function.name) ||
      !getStringList(node.child("params"), function.params))
    return false;
  bool taken = std::any_of(
      functions.begin(), functions.end(),
      [&](const auto &other) { return other->name == function.name; });
  const std::vector<std::string> &builtins = builtinFunctionNames();
  if (taken || std::find(builtins.begin(), builtins.end(), function.name) !=
                   builtins.end())
    return fail(node.pointer + "/name",
                "function '" + function.name + "' is already defined");
  if (node.has("value") == node.has("template"))
    return fail(node.pointer, "give a \"value\" or a \"template\"");
  Names params(function.params.begin(), function.params.end());
  if (params.size() != function.params.size())
    return fail(node.pointer + "/params", "a parameter is named twice");
  return node.has("value")
             ? getExpr(node.child("value"), params, function.body)
             : getTemplateExpr(node.child("template"), params, function.body);
}

} // namespace hfq::spec
