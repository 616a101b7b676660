//===- MethodSpec.cpp - Parse and check method spec files ------------------===//
//
// A spec is parsed in one pass over the JSON tree. Every node is visited
// through a `Node` that knows its JSON pointer, so each problem is reported
// at the exact place it stands. Expressions are parsed here and their free
// names checked against the scope they will be evaluated in.
//
//===----------------------------------------------------------------------===//

#include "spec/MethodSpec.h"

#include <algorithm>
#include <functional>

namespace hfq::spec {

std::string SpecError::str() const {
  return file + ": " + (pointer.empty() ? std::string("/") : pointer) + ": " +
         message;
}

//===----------------------------------------------------------------------===//
// Field types
//===----------------------------------------------------------------------===//

static const char *const kDtypeNames[] = {
    "bool",     "int8",    "uint8",   "int16",  "int32",
    "int64",    "float16", "float32", "float64", "bfloat16",
    "float8_e4m3fn", "float8_e5m2", "half", "float", "double"};

bool FieldType::accepts(const Json &value) const {
  switch (kind) {
  case Kind::Any:
    return true;
  case Kind::Bool:
    return value.is_boolean();
  case Kind::Int:
    return value.is_number_integer();
  case Kind::Float:
    return value.is_number_float();
  case Kind::Number:
    return value.is_number();
  case Kind::String:
    return value.is_string();
  case Kind::Dtype:
    if (!value.is_string())
      return false;
    return std::any_of(std::begin(kDtypeNames), std::end(kDtypeNames),
                       [&](const char *name) {
                         return value.get_ref<const std::string &>() == name;
                       });
  case Kind::Dict:
    return value.is_object();
  case Kind::List:
    if (!value.is_array())
      return false;
    for (const Json &item : value)
      if (!element->accepts(item))
        return false;
    return true;
  }
  return false;
}

std::string FieldType::str() const {
  switch (kind) {
  case Kind::Any:
    return "any";
  case Kind::Bool:
    return "bool";
  case Kind::Int:
    return "int";
  case Kind::Float:
    return "float";
  case Kind::Number:
    return "number";
  case Kind::String:
    return "string";
  case Kind::Dtype:
    return "dtype";
  case Kind::Dict:
    return "dict";
  case Kind::List:
    return "list<" + element->str() + ">";
  }
  return "any";
}

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

const FieldSpec *ConfigSpec::findField(const std::string &name) const {
  for (const FieldSpec &field : fields)
    if (field.name == name)
      return &field;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// The parser
//===----------------------------------------------------------------------===//

namespace {

/// Element type names a layout may use literally.
const char *const kElementTypes[] = {
    "i1",  "i8",   "i16",  "i32",      "i64",    "ui8",        "ui16",
    "ui32", "ui64", "f16",  "bf16",     "f32",    "f64",        "f8E4M3FN",
    "f8E5M2", "f8E4M3FNUZ", "f8E5M2FNUZ", "f4E2M1FN"};

bool isElementTypeName(const std::string &name) {
  return std::any_of(std::begin(kElementTypes), std::end(kElementTypes),
                     [&](const char *t) { return name == t; });
}

std::string escapePointerToken(const std::string &token) {
  std::string out;
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

using Names = std::set<std::string>;

class SpecParser {
public:
  SpecParser(std::string file, SpecError &error)
      : file(std::move(file)), error(error) {}

  std::unique_ptr<MethodSpec> parse(const Json &root);

private:
  /// A JSON value together with its pointer.
  struct Node {
    const Json &value;
    std::string pointer;

    Node child(const std::string &key) const {
      return {value[key], pointer + "/" + escapePointerToken(key)};
    }
    Node item(size_t index) const {
      return {value[index], pointer + "/" + std::to_string(index)};
    }
    bool has(const std::string &key) const {
      return value.is_object() && value.contains(key);
    }
  };

  bool fail(const std::string &pointer, const std::string &message) {
    if (!failed) {
      error.file = file;
      error.pointer = pointer;
      error.message = message;
      failed = true;
    }
    return false;
  }

  bool expectObject(const Node &node, std::initializer_list<const char *> keys,
                    std::initializer_list<const char *> required = {}) {
    if (!node.value.is_object())
      return fail(node.pointer, "expected an object, got " +
                                    pythonTypeName(node.value));
    for (const auto &item : node.value.items()) {
      bool known = item.key() == "doc";
      for (const char *key : keys)
        known = known || item.key() == key;
      if (!known) {
        std::string list;
        for (const char *key : keys)
          list += std::string(list.empty() ? "" : ", ") + key;
        return fail(node.pointer + "/" + escapePointerToken(item.key()),
                    "unknown key '" + item.key() + "' (expected one of: " +
                        list + ")");
      }
    }
    for (const char *key : required)
      if (!node.value.contains(key))
        return fail(node.pointer, std::string("missing required key '") +
                                      key + "'");
    if (node.has("doc") && !node.value["doc"].is_string())
      return fail(node.pointer + "/doc", "expected a string, got " +
                                             pythonTypeName(node.value["doc"]));
    return true;
  }

  bool getString(const Node &node, std::string &out) {
    if (!node.value.is_string())
      return fail(node.pointer,
                  "expected a string, got " + pythonTypeName(node.value));
    out = node.value.get<std::string>();
    return true;
  }

  bool getBool(const Node &node, bool &out) {
    if (!node.value.is_boolean())
      return fail(node.pointer,
                  "expected true or false, got " + pythonTypeName(node.value));
    out = node.value.get<bool>();
    return true;
  }

  bool getInt(const Node &node, int64_t &out) {
    if (!node.value.is_number_integer())
      return fail(node.pointer,
                  "expected an integer, got " + pythonTypeName(node.value));
    out = node.value.get<int64_t>();
    return true;
  }

  bool getStringList(const Node &node, std::vector<std::string> &out) {
    if (!node.value.is_array())
      return fail(node.pointer, "expected a list of strings, got " +
                                    pythonTypeName(node.value));
    for (size_t i = 0; i < node.value.size(); ++i) {
      std::string s;
      if (!getString(node.item(i), s))
        return false;
      out.push_back(std::move(s));
    }
    return true;
  }

  /// Parses an expression and checks the names it reads are in `scope`.
  bool getExpr(const Node &node, const Names &scope, Expr &out) {
    std::string text;
    if (!getString(node, text))
      return false;
    ExprError exprError;
    std::optional<Expr> expr = Expr::parse(text, exprError);
    if (!expr)
      return fail(node.pointer, "bad expression '" + text +
                                    "': " + exprError.str());
    if (!checkNames(node, expr->freeNames(), scope))
      return false;
    out = *expr;
    return true;
  }

  bool getTemplate(const Node &node, const Names &scope, std::string &out) {
    if (!getString(node, out))
      return false;
    Names names;
    ExprError exprError;
    if (!checkTemplate(out, names, exprError))
      return fail(node.pointer, "bad message template: " + exprError.str());
    return checkNames(node, names, scope);
  }

  bool checkNames(const Node &node, const Names &names, const Names &scope) {
    for (const std::string &name : names)
      if (!scope.count(name))
        return fail(node.pointer, "unknown name '" + name +
                                      "' (not a field of this config nor a "
                                      "name in scope here)");
    return true;
  }

  bool getRaised(const Node &node, const Names &scope, RaisedMessage &out) {
    if (!expectObject(node, {"kind", "message"}, {"kind", "message"}))
      return false;
    return getString(node.child("kind"), out.kind) &&
           getTemplate(node.child("message"), scope, out.text);
  }

  bool parseField(const Node &node, FieldSpec &field);
  bool parseConfig(const Node &node, ConfigSpec &config);
  bool parseRules(const Node &node, const Names &scope,
                  const Names &assignable, std::vector<Rule> &rules);
  bool parseQuantizer(const Node &node, const ConfigSpec &config,
                      QuantizerSpec &quantizer);
  bool parseLayout(const Node &node, Names scope, LayoutSpec &layout);
  bool parseBoolOrExpr(const Node &node, const Names &scope, BoolOrExpr &out);

  Names fieldNames(const ConfigSpec &config) const {
    Names names{"quant_method"};
    for (const FieldSpec &field : config.fields)
      names.insert(field.name);
    return names;
  }

  std::string file;
  SpecError &error;
  bool failed = false;
};

} // namespace

bool SpecParser::parseField(const Node &node, FieldSpec &field) {
  if (!expectObject(node,
                    {"name", "type", "default", "nullable", "allowed",
                     "normalize", "map", "type_error", "value_error"},
                    {"name", "type"}))
    return false;
  std::string typeText;
  if (!getString(node.child("name"), field.name) ||
      !getString(node.child("type"), typeText))
    return false;
  if (!parseFieldType(typeText, field.type))
    return fail(node.pointer + "/type",
                "unknown field type '" + typeText +
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
    if (!allowed.value.is_array())
      return fail(allowed.pointer, "expected a list of values, got " +
                                       pythonTypeName(allowed.value));
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
    if (!map.value.is_object())
      return fail(map.pointer,
                  "expected an object, got " + pythonTypeName(map.value));
    field.valueMap = map.value;
  }
  // Default messages follow transformers' most common wording.
  field.typeError = {"TypeError", field.name + " must be of type " +
                                      field.type.str()};
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
  return true;
}

bool SpecParser::parseRules(const Node &node, const Names &scope,
                            const Names &assignable,
                            std::vector<Rule> &rules) {
  if (!node.value.is_array())
    return fail(node.pointer,
                "expected a list of rules, got " + pythonTypeName(node.value));
  for (size_t i = 0; i < node.value.size(); ++i) {
    Node item = node.item(i);
    if (!expectObject(item, {"when", "error", "warning", "info", "set"},
                      {"when"}))
      return false;
    Rule rule;
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
      if (!set.value.is_object())
        return fail(set.pointer,
                    "expected an object, got " + pythonTypeName(set.value));
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
    rules.push_back(std::move(rule));
  }
  return true;
}

bool SpecParser::parseConfig(const Node &node, ConfigSpec &config) {
  if (!expectObject(node,
                    {"class", "quant_method", "fields", "legacy_keys",
                     "dropped_keys", "strict_keys", "rules",
                     "loading_attributes", "loading_attributes_class",
                     "merge_message", "serialize"},
                    {"class", "quant_method", "fields"}))
    return false;
  if (!getString(node.child("class"), config.className) ||
      !getString(node.child("quant_method"), config.quantMethod))
    return false;
  Node fields = node.child("fields");
  if (!fields.value.is_array())
    return fail(fields.pointer, "expected a list of field objects, got " +
                                    pythonTypeName(fields.value));
  for (size_t i = 0; i < fields.value.size(); ++i) {
    FieldSpec field;
    if (!parseField(fields.item(i), field))
      return false;
    if (config.findField(field.name) || field.name == "quant_method")
      return fail(fields.item(i).pointer + "/name",
                  "field '" + field.name + "' is declared twice");
    config.fields.push_back(std::move(field));
  }
  Names fieldsInScope = fieldNames(config);
  auto checkFieldName = [&](const Node &at, const std::string &name) {
    if (!config.findField(name))
      return fail(at.pointer, "'" + name + "' is not a field of " +
                                  config.className);
    return true;
  };
  if (node.has("legacy_keys")) {
    Node legacy = node.child("legacy_keys");
    if (!legacy.value.is_array())
      return fail(legacy.pointer,
                  "expected a list, got " + pythonTypeName(legacy.value));
    for (size_t i = 0; i < legacy.value.size(); ++i) {
      Node item = legacy.item(i);
      LegacyKey key;
      if (!expectObject(item, {"from", "to"}, {"from", "to"}) ||
          !getString(item.child("from"), key.from) ||
          !getString(item.child("to"), key.to) ||
          !checkFieldName(item.child("to"), key.to))
        return false;
      config.legacyKeys.push_back(key);
    }
  }
  if (node.has("dropped_keys") &&
      !getStringList(node.child("dropped_keys"), config.droppedKeys))
    return false;
  if (node.has("strict_keys")) {
    if (!getStringList(node.child("strict_keys"), config.strictKeys))
      return false;
    for (size_t i = 0; i < config.strictKeys.size(); ++i)
      if (!checkFieldName(node.child("strict_keys").item(i),
                          config.strictKeys[i]))
        return false;
  }
  if (node.has("rules") && !parseRules(node.child("rules"), fieldsInScope,
                                       fieldsInScope, config.rules))
    return false;
  if (node.has("loading_attributes")) {
    Node attrs = node.child("loading_attributes");
    if (!getStringList(attrs, config.loadingAttributes))
      return false;
    for (size_t i = 0; i < config.loadingAttributes.size(); ++i)
      if (!checkFieldName(attrs.item(i), config.loadingAttributes[i]))
        return false;
  }
  config.loadingAttributesClass = !config.loadingAttributes.empty();
  if (node.has("loading_attributes_class") &&
      !getBool(node.child("loading_attributes_class"),
               config.loadingAttributesClass))
    return false;
  if (node.has("merge_message")) {
    if (!getString(node.child("merge_message"), config.mergeMessage))
      return false;
    if (config.mergeMessage != "warning" && config.mergeMessage != "info")
      return fail(node.pointer + "/merge_message",
                  "expected 'warning' or 'info', got '" + config.mergeMessage +
                      "'");
  }
  if (node.has("serialize")) {
    Node serialize = node.child("serialize");
    if (!expectObject(serialize, {"keys"}, {"keys"}))
      return false;
    Node keys = serialize.child("keys");
    if (!keys.value.is_array())
      return fail(keys.pointer,
                  "expected a list, got " + pythonTypeName(keys.value));
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
        if (!expectObject(item, {"key", "value"}, {"key", "value"}) ||
            !getString(item.child("key"), key.key))
          return false;
        key.value.emplace();
        if (!getExpr(item.child("value"), fieldsInScope, *key.value))
          return false;
      }
      config.serializedKeys.push_back(std::move(key));
    }
  } else {
    config.serializedKeys.push_back({"quant_method", std::nullopt});
    for (const FieldSpec &field : config.fields)
      config.serializedKeys.push_back({field.name, std::nullopt});
  }
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

bool SpecParser::parseLayout(const Node &node, Names scope,
                             LayoutSpec &layout) {
  if (!expectObject(node, {"when", "params", "require", "tensors", "args"},
                    {"tensors"}))
    return false;
  layout.pointer = node.pointer;
  if (node.has("when")) {
    layout.when.emplace();
    if (!getExpr(node.child("when"), scope, *layout.when))
      return false;
  }
  if (node.has("params")) {
    Node params = node.child("params");
    if (!params.value.is_object())
      return fail(params.pointer,
                  "expected an object, got " + pythonTypeName(params.value));
    for (const auto &entry : params.value.items()) {
      Expr value;
      if (!getExpr(params.child(entry.key()), scope, value))
        return false;
      layout.params.emplace_back(entry.key(), value);
      scope.insert(entry.key());
    }
  }
  if (node.has("require")) {
    Node require = node.child("require");
    if (!require.value.is_array())
      return fail(require.pointer,
                  "expected a list, got " + pythonTypeName(require.value));
    for (size_t i = 0; i < require.value.size(); ++i) {
      Node item = require.item(i);
      Requirement req;
      if (!expectObject(item, {"when", "message"}, {"when", "message"}) ||
          !getExpr(item.child("when"), scope, req.when) ||
          !getTemplate(item.child("message"), scope, req.message))
        return false;
      layout.requirements.push_back(std::move(req));
    }
  }
  if (node.has("args")) {
    Node args = node.child("args");
    if (!args.value.is_object())
      return fail(args.pointer,
                  "expected an object, got " + pythonTypeName(args.value));
    for (const auto &entry : args.value.items()) {
      Expr value;
      if (!getExpr(args.child(entry.key()), scope, value))
        return false;
      layout.args.emplace_back(entry.key(), value);
    }
  }
  // A layout without tensors is a guard: its `require` entries explain why a
  // config has no layout (an unsupported format, say).
  Node tensors = node.child("tensors");
  if (!tensors.value.is_array())
    return fail(tensors.pointer, "expected a list of tensors");
  if (tensors.value.empty() && layout.requirements.empty())
    return fail(tensors.pointer, "a layout without tensors must have "
                                 "'require' entries saying why");
  for (size_t i = 0; i < tensors.value.size(); ++i) {
    Node item = tensors.item(i);
    TensorSpec tensor;
    if (!expectObject(item, {"name", "dtype", "shape", "when"},
                      {"name", "dtype", "shape"}) ||
        !getString(item.child("name"), tensor.name))
      return false;
    // One name may be declared twice under different `when`s (a scale whose
    // shape depends on the strategy); both unconditional is a mistake.
    for (const TensorSpec &other : layout.tensors)
      if (other.name == tensor.name && !other.when && !item.has("when"))
        return fail(item.pointer + "/name",
                    "tensor '" + tensor.name +
                        "' is declared twice (give each a 'when')");
    std::string dtype;
    if (!getString(item.child("dtype"), dtype))
      return false;
    if (isElementTypeName(dtype)) {
      ExprError ignored;
      tensor.dtype = *Expr::parse("'" + dtype + "'", ignored);
    } else if (!getExpr(item.child("dtype"), scope, tensor.dtype)) {
      return false;
    }
    Node shape = item.child("shape");
    if (!shape.value.is_array())
      return fail(shape.pointer, "expected a list of dimension expressions");
    for (size_t d = 0; d < shape.value.size(); ++d) {
      Node dim = shape.item(d);
      Expr dimExpr;
      if (dim.value.is_number_integer()) {
        ExprError ignored;
        dimExpr = *Expr::parse(std::to_string(dim.value.get<int64_t>()),
                               ignored);
      } else if (!getExpr(dim, scope, dimExpr)) {
        return false;
      }
      tensor.shape.push_back(dimExpr);
    }
    if (item.has("when")) {
      tensor.when.emplace();
      if (!getExpr(item.child("when"), scope, *tensor.when))
        return false;
    }
    layout.tensors.push_back(std::move(tensor));
  }
  return true;
}

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

  Names envScope = fields;
  envScope.insert({"pre_quantized", "dtype", "device_map", "target",
                   "weights_only"});
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
  if (node.has("device_map_default")) {
    std::string value;
    if (!getString(node.child("device_map_default"), value))
      return false;
    if (value != "cuda" && value != "cpu")
      return fail(node.pointer + "/device_map_default",
                  "expected 'cuda' or 'cpu', got '" + value + "'");
    quantizer.deviceMapDefault = value;
  }
  if (node.has("skip_modules")) {
    Node skip = node.child("skip_modules");
    if (!expectObject(skip, {"field", "default_skips", "keep_in_fp32", "match",
                             "convert_only_under"}))
      return false;
    if (skip.has("convert_only_under")) {
      Node under = skip.child("convert_only_under");
      std::string field;
      if (!expectObject(under, {"field", "default"}, {"field", "default"}) ||
          !getString(under.child("field"), field) ||
          !getStringList(under.child("default"),
                         quantizer.skipModules.blockDefaults))
        return false;
      if (!config.findField(field))
        return fail(under.pointer + "/field",
                    "'" + field + "' is not a field of " + config.className);
      quantizer.skipModules.blockField = field;
    }
    if (skip.has("field") && !skip.value["field"].is_null()) {
      std::string field;
      if (!getString(skip.child("field"), field))
        return false;
      if (!config.findField(field))
        return fail(skip.pointer + "/field",
                    "'" + field + "' is not a field of " + config.className);
      quantizer.skipModules.field = field;
    }
    if (skip.has("default_skips")) {
      std::string value;
      if (!getString(skip.child("default_skips"), value))
        return false;
      if (value == "if_unset")
        quantizer.skipModules.defaults = SkipPolicy::Defaults::IfUnset;
      else if (value == "always")
        quantizer.skipModules.defaults = SkipPolicy::Defaults::Always;
      else if (value == "never")
        quantizer.skipModules.defaults = SkipPolicy::Defaults::Never;
      else
        return fail(skip.pointer + "/default_skips",
                    "expected 'if_unset', 'always' or 'never', got '" + value +
                        "'");
    }
    if (skip.has("keep_in_fp32") &&
        !getBool(skip.child("keep_in_fp32"), quantizer.skipModules.keepInFp32))
      return false;
    if (skip.has("match")) {
      std::string value;
      if (!getString(skip.child("match"), value))
        return false;
      if (value == "module")
        quantizer.skipModules.match = SkipPolicy::Match::Module;
      else if (value == "weight")
        quantizer.skipModules.match = SkipPolicy::Match::Weight;
      else
        return fail(skip.pointer + "/match",
                    "expected 'module' or 'weight', got '" + value + "'");
    }
  }
  if (node.has("module_scheme")) {
    std::string field;
    if (!getString(node.child("module_scheme"), field))
      return false;
    if (!config.findField(field))
      return fail(node.pointer + "/module_scheme",
                  "'" + field + "' is not a field of " + config.className);
    quantizer.moduleScheme = field;
  }

  Names layoutScope = fields;
  layoutScope.insert({"N", "K"});
  if (quantizer.moduleScheme)
    layoutScope.insert("scheme");
  Node layouts = node.child("layouts");
  if (!layouts.value.is_array() || layouts.value.empty())
    return fail(layouts.pointer, "expected a non-empty list of layouts");
  for (size_t i = 0; i < layouts.value.size(); ++i) {
    LayoutSpec layout;
    if (!parseLayout(layouts.item(i), layoutScope, layout))
      return false;
    quantizer.layouts.push_back(std::move(layout));
  }

  Names kernelScope = layoutScope;
  kernelScope.insert({"M", "target", "act_dtype"});
  Node kernels = node.child("kernels");
  if (!kernels.value.is_array() || kernels.value.empty())
    return fail(kernels.pointer, "expected a non-empty list of kernel rules");
  for (size_t i = 0; i < kernels.value.size(); ++i) {
    Node item = kernels.item(i);
    KernelRule rule;
    if (!expectObject(item, {"name", "when", "planned"}, {"name", "when"}) ||
        !getString(item.child("name"), rule.name) ||
        !getExpr(item.child("when"), kernelScope, rule.when))
      return false;
    if (item.has("planned")) {
      if (!getString(item.child("planned"), rule.planned))
        return false;
      if (rule.planned.empty())
        return fail(item.child("planned").pointer,
                    "expected a non-empty string saying what the planned kernel waits for");
    }
    if (item.has("doc"))
      rule.doc = item.value["doc"].get<std::string>();
    quantizer.kernels.push_back(std::move(rule));
  }
  return true;
}

std::unique_ptr<MethodSpec> SpecParser::parse(const Json &root) {
  Node top{root, ""};
  if (!expectObject(top, {"hfq_spec", "config", "quantizers"},
                    {"hfq_spec", "config", "quantizers"}))
    return nullptr;
  int64_t version = 0;
  if (!getInt(top.child("hfq_spec"), version))
    return nullptr;
  if (version != 1) {
    fail("/hfq_spec", "unsupported spec version " + std::to_string(version) +
                          " (this hfq reads version 1)");
    return nullptr;
  }
  auto spec = std::make_unique<MethodSpec>();
  spec->file = file;
  if (!parseConfig(top.child("config"), spec->config))
    return nullptr;
  Node quantizers = top.child("quantizers");
  if (!quantizers.value.is_array() || quantizers.value.empty()) {
    fail(quantizers.pointer, "expected a non-empty list of quantizers");
    return nullptr;
  }
  for (size_t i = 0; i < quantizers.value.size(); ++i) {
    QuantizerSpec quantizer;
    if (!parseQuantizer(quantizers.item(i), spec->config, quantizer))
      return nullptr;
    for (const QuantizerSpec &other : spec->quantizers)
      if (other.key == quantizer.key) {
        fail(quantizers.item(i).pointer + "/key",
             "quantizer key '" + quantizer.key + "' is declared twice");
        return nullptr;
      }
    spec->quantizers.push_back(std::move(quantizer));
  }
  for (QuantizerSpec &quantizer : spec->quantizers)
    quantizer.method = spec.get();
  return spec;
}

//===----------------------------------------------------------------------===//
// Reading JSON text
//===----------------------------------------------------------------------===//

namespace {

/// Tracks the JSON pointer during a parse so a duplicated object key (which
/// nlohmann would silently collapse) is reported where it stands.
class DuplicateKeyFinder {
public:
  bool operator()(int depth, Json::parse_event_t event, Json &parsed) {
    using E = Json::parse_event_t;
    if (!duplicate.empty())
      return true;
    switch (event) {
    case E::object_start:
    case E::array_start:
      enterValue();
      frames.push_back({event == E::array_start, -1, {}, {}});
      break;
    case E::object_end:
    case E::array_end:
      if (!frames.empty())
        frames.pop_back();
      break;
    case E::key: {
      if (frames.empty() || frames.back().isArray)
        break;
      std::string key = parsed.is_string() ? parsed.get<std::string>() : "";
      Frame &frame = frames.back();
      frame.key = key;
      if (!frame.keys.insert(key).second)
        duplicate = pointer();
      break;
    }
    case E::value:
      enterValue();
      break;
    }
    return true;
  }

  std::string duplicate;

private:
  struct Frame {
    bool isArray;
    int64_t index;
    std::set<std::string> keys;
    std::string key;
  };

  void enterValue() {
    if (!frames.empty() && frames.back().isArray)
      ++frames.back().index;
  }

  std::string pointer() const {
    std::string out;
    for (const Frame &frame : frames)
      out += "/" + (frame.isArray ? std::to_string(frame.index)
                                  : escapePointerToken(frame.key));
    return out;
  }

  std::vector<Frame> frames;
};

} // namespace

namespace {

/// A SAX handler that only records the first syntax error. nlohmann's
/// Json::parse reports errors by throwing from header templates, and a
/// translation unit built with -fno-exceptions that instantiates the same
/// templates (any Json::parse of a std::string) compiles those throws to
/// abort(); the linker keeps one copy, possibly that one. Checking the text
/// with this handler first means Json::parse below never meets an error.
struct SyntaxChecker {
  std::string message;

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(Json::number_integer_t) { return true; }
  bool number_unsigned(Json::number_unsigned_t) { return true; }
  bool number_float(Json::number_float_t, const Json::string_t &) {
    return true;
  }
  bool string(Json::string_t &) { return true; }
  bool binary(Json::binary_t &) { return true; }
  bool start_object(std::size_t) { return true; }
  bool key(Json::string_t &) { return true; }
  bool end_object() { return true; }
  bool start_array(std::size_t) { return true; }
  bool end_array() { return true; }
  bool parse_error(std::size_t, const std::string &,
                   const Json::exception &e) {
    message = e.what();
    return false;
  }
};

} // namespace

std::optional<Json> parseJson(const std::string &text) {
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded())
    return std::nullopt;
  return value;
}

std::unique_ptr<MethodSpec> parseMethodSpec(const std::string &text,
                                            const std::string &fileName,
                                            SpecError &error) {
  SyntaxChecker checker;
  if (!Json::sax_parse(text, &checker)) {
    // nlohmann's message already names line and column.
    std::string what = checker.message;
    const std::string prefix = "[json.exception.parse_error.101] ";
    if (what.compare(0, prefix.size(), prefix) == 0)
      what = what.substr(prefix.size());
    error = {fileName, "", "invalid JSON: " + what};
    return nullptr;
  }
  Json root;
  DuplicateKeyFinder finder;
  try {
    root = Json::parse(text, std::ref(finder));
  } catch (const Json::parse_error &e) {
    // nlohmann's message already names line and column.
    std::string what = e.what();
    const std::string prefix = "[json.exception.parse_error.101] ";
    if (what.compare(0, prefix.size(), prefix) == 0)
      what = what.substr(prefix.size());
    error = {fileName, "", "invalid JSON: " + what};
    return nullptr;
  } catch (const std::exception &e) {
    error = {fileName, "", std::string("invalid JSON: ") + e.what()};
    return nullptr;
  }
  if (!finder.duplicate.empty()) {
    error = {fileName, finder.duplicate, "duplicate key in JSON object"};
    return nullptr;
  }
  try {
    return SpecParser(fileName, error).parse(root);
  } catch (const std::exception &e) {
    // Defensive: the parser checks types before every access, so this is a
    // bug in hfq, reported instead of crashing.
    error = {fileName, "", std::string("internal error while reading spec: ") +
                               e.what()};
    return nullptr;
  }
}

//===----------------------------------------------------------------------===//
// Layout evaluation
//===----------------------------------------------------------------------===//

Json configScope(const ConfigSpec &spec, const Json &config) {
  Json scope = Json::object();
  scope["quant_method"] = spec.quantMethod;
  // A field the dict omits has its default (None for required ones, which
  // the callers reject before evaluating anything).
  for (const FieldSpec &field : spec.fields)
    scope[field.name] = field.defaultValue ? *field.defaultValue : Json();
  if (config.is_object())
    for (const auto &entry : config.items())
      scope[entry.key()] = entry.value();
  return scope;
}

std::optional<std::vector<TensorLayout>>
resolveLayout(const QuantizerSpec &quantizer, const Json &config,
              const Json &scheme, int64_t n, int64_t k, std::string &error) {
  std::optional<ResolvedLayout> layout =
      resolveLayoutWithArgs(quantizer, config, scheme, n, k, error);
  if (!layout)
    return std::nullopt;
  return std::move(layout->tensors);
}

std::optional<ResolvedLayout>
resolveLayoutWithArgs(const QuantizerSpec &quantizer, const Json &config,
                      const Json &scheme, int64_t n, int64_t k,
                      std::string &error) {
  Json scope = configScope(quantizer.method->config, config);
  scope["N"] = n;
  scope["K"] = k;
  if (quantizer.moduleScheme)
    scope["scheme"] = scheme;
  ExprError exprError;
  auto where = [&](const std::string &what, const Expr &expr) {
    return what + " '" + expr.text() + "': " + exprError.str();
  };
  for (size_t index = 0; index < quantizer.layouts.size(); ++index) {
    const LayoutSpec &layout = quantizer.layouts[index];
    if (layout.when) {
      std::optional<bool> applies = layout.when->evaluateCondition(scope, exprError);
      if (!applies) {
        error = where("cannot evaluate layout condition", *layout.when);
        return std::nullopt;
      }
      if (!*applies)
        continue;
    }
    Json layoutScope = scope;
    for (const auto &[name, expr] : layout.params) {
      std::optional<Json> value = expr.evaluate(layoutScope, exprError);
      if (!value) {
        error = where("cannot evaluate layout parameter '" + name + "'", expr);
        return std::nullopt;
      }
      layoutScope[name] = *value;
    }
    for (const Requirement &req : layout.requirements) {
      std::optional<bool> violated = req.when.evaluateCondition(layoutScope, exprError);
      if (!violated) {
        error = where("cannot evaluate layout requirement", req.when);
        return std::nullopt;
      }
      if (*violated) {
        std::optional<std::string> text =
            renderTemplate(req.message, layoutScope, exprError);
        error = text ? *text : req.message;
        return std::nullopt;
      }
    }
    if (layout.tensors.empty()) {
      error = "the guard layout at " + layout.pointer +
              " applies but none of its requirements explains why";
      return std::nullopt;
    }
    std::vector<TensorLayout> tensors;
    for (const TensorSpec &tensor : layout.tensors) {
      if (tensor.when) {
        std::optional<bool> present =
            tensor.when->evaluateCondition(layoutScope, exprError);
        if (!present) {
          error = where("cannot evaluate the condition of tensor '" +
                            tensor.name + "'",
                        *tensor.when);
          return std::nullopt;
        }
        if (!*present)
          continue;
      }
      for (const TensorLayout &previous : tensors)
        if (previous.name == tensor.name) {
          error = "tensor '" + tensor.name +
                  "' is present twice for this config (the 'when's of its "
                  "declarations overlap)";
          return std::nullopt;
        }
      TensorLayout out;
      out.name = tensor.name;
      std::optional<Json> dtype = tensor.dtype.evaluate(layoutScope, exprError);
      if (!dtype) {
        error = where("cannot evaluate the dtype of tensor '" + tensor.name +
                          "'",
                      tensor.dtype);
        return std::nullopt;
      }
      if (!dtype->is_string() ||
          !isElementTypeName(dtype->get_ref<const std::string &>())) {
        error = "the dtype of tensor '" + tensor.name + "' evaluates to " +
                pythonRepr(*dtype) + ", not an element type name";
        return std::nullopt;
      }
      out.dtype = dtype->get<std::string>();
      for (const Expr &dim : tensor.shape) {
        std::optional<Json> size = dim.evaluate(layoutScope, exprError);
        if (!size) {
          error = where("cannot evaluate a dimension of tensor '" +
                            tensor.name + "'",
                        dim);
          return std::nullopt;
        }
        if (!size->is_number_integer() || size->get<int64_t>() < 0) {
          error = "dimension '" + dim.text() + "' of tensor '" + tensor.name +
                  "' evaluates to " + pythonRepr(*size) +
                  ", not a non-negative integer";
          return std::nullopt;
        }
        out.shape.push_back(size->get<int64_t>());
      }
      tensors.push_back(std::move(out));
    }
    ResolvedLayout resolved;
    resolved.index = index;
    resolved.tensors = std::move(tensors);
    for (const auto &[name, expr] : layout.args) {
      std::optional<Json> value = expr.evaluate(layoutScope, exprError);
      if (!value) {
        error = where("cannot evaluate kernel argument '" + name + "'", expr);
        return std::nullopt;
      }
      if (value->is_boolean())
        resolved.args.emplace_back(name, value->get<bool>() ? 1.0 : 0.0);
      else if (value->is_number())
        resolved.args.emplace_back(name, value->get<double>());
      else {
        error = "kernel argument '" + name + "' ('" + expr.text() +
                "') evaluates to " + pythonRepr(*value) + ", not a number";
        return std::nullopt;
      }
    }
    return resolved;
  }
  error = "no layout of '" + quantizer.key + "' applies to this config";
  return std::nullopt;
}

std::optional<Json> targetScope(const std::string &target) {
  Json scope = Json::object();
  if (target == "cpu") {
    scope["cuda"] = false;
    scope["sm"] = 0;
    scope["major"] = 0;
    scope["minor"] = 0;
    scope["name"] = "cpu";
    return scope;
  }
  // sm_<major><minor>, optionally with the arch-specific 'a' suffix.
  std::string digits = target.size() > 3 && target.compare(0, 3, "sm_") == 0
                           ? target.substr(3)
                           : std::string();
  if (!digits.empty() && digits.back() == 'a')
    digits.pop_back();
  if (digits.size() < 2 || digits.size() > 3 ||
      !std::all_of(digits.begin(), digits.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int sm = std::stoi(digits);
  scope["cuda"] = true;
  scope["sm"] = sm;
  scope["major"] = sm / 10;
  scope["minor"] = sm % 10;
  scope["name"] = target;
  return scope;
}

} // namespace hfq::spec
