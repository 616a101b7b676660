//===- SpecParser.cpp - Reading a spec file: JSON text, top level ---------===//
//
// parseMethodSpec's two stages: the JSON text is parsed under hfq's limits
// (spec/Input.h: syntax errors, duplicated object keys, which a JSON parser
// would silently collapse, and nesting beyond kMaxJsonDepth are reported
// where they stand) and then read by SpecParser, whose top level and node
// readers are here. The readers check a node's type before every access and
// record only the first problem, with its JSON pointer.
//
//===----------------------------------------------------------------------===//

#include "spec/SpecParser.h"

namespace hfq::spec {

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

//===----------------------------------------------------------------------===//
// Node readers
//===----------------------------------------------------------------------===//

bool SpecParser::fail(const std::string &pointer, const std::string &message) {
  if (!failed) {
    error.file = file;
    error.pointer = pointer;
    error.message = message;
    failed = true;
  }
  return false;
}

bool SpecParser::expectType(const Node &node, bool ok, const char *what) {
  if (ok)
    return true;
  return fail(node.pointer, std::string("expected ") + what + ", got " +
                                pythonTypeName(node.value));
}

bool SpecParser::expectNonEmptyList(const Node &node, const char *what) {
  if (node.value.is_array() && !node.value.empty())
    return true;
  return fail(node.pointer,
              std::string("expected a non-empty list of ") + what);
}

bool SpecParser::expectObject(const Node &node,
                              std::initializer_list<const char *> keys,
                              std::initializer_list<const char *> required) {
  if (!expectType(node, node.value.is_object(), "an object"))
    return false;
  for (const auto &item : node.value.items()) {
    bool known = item.key() == "doc";
    for (const char *key : keys)
      known = known || item.key() == key;
    if (!known) {
      std::string list;
      for (const char *key : keys)
        list += std::string(list.empty() ? "" : ", ") + key;
      return fail(node.pointer + "/" + escapePointerToken(item.key()),
                  "unknown key '" + quoteLimited(item.key()) +
                      "' (expected one of: " + list +
                      ")");
    }
  }
  for (const char *key : required)
    if (!node.value.contains(key))
      return fail(node.pointer,
                  std::string("missing required key '") + key + "'");
  if (node.has("doc")) {
    Node doc = node.child("doc");
    return expectType(doc, doc.value.is_string(), "a string");
  }
  return true;
}

bool SpecParser::getString(const Node &node, std::string &out) {
  if (!expectType(node, node.value.is_string(), "a string"))
    return false;
  out = node.value.get<std::string>();
  return true;
}

bool SpecParser::getBool(const Node &node, bool &out) {
  if (!expectType(node, node.value.is_boolean(), "true or false"))
    return false;
  out = node.value.get<bool>();
  return true;
}

bool SpecParser::getInt(const Node &node, int64_t &out) {
  if (!expectType(node, node.value.is_number_integer(), "an integer"))
    return false;
  out = node.value.get<int64_t>();
  return true;
}

bool SpecParser::getStringList(const Node &node,
                               std::vector<std::string> &out) {
  if (!expectType(node, node.value.is_array(), "a list of strings"))
    return false;
  for (size_t i = 0; i < node.value.size(); ++i) {
    std::string s;
    if (!getString(node.item(i), s))
      return false;
    out.push_back(std::move(s));
  }
  return true;
}

bool SpecParser::getChoice(const Node &node,
                           std::initializer_list<const char *> choices,
                           std::string &out) {
  if (!getString(node, out))
    return false;
  std::string expected;
  size_t index = 0;
  for (const char *choice : choices) {
    if (out == choice)
      return true;
    if (index > 0)
      expected += index + 1 == choices.size() ? " or " : ", ";
    expected += std::string("'") + choice + "'";
    ++index;
  }
  return fail(node.pointer, "expected " + expected + ", got '" + quoteLimited(out) + "'");
}

bool SpecParser::getExpr(const Node &node, const Names &scope, Expr &out) {
  std::string text;
  if (!getString(node, text))
    return false;
  ExprError exprError;
  std::optional<Expr> expr = Expr::parse(text, exprError, functions);
  if (!expr)
    return fail(node.pointer,
                "bad expression '" + quoteLimited(text) + "': " + exprError.str());
  if (!checkNames(node, expr->freeNames(), scope))
    return false;
  out = *expr;
  return true;
}

bool SpecParser::getTemplateExpr(const Node &node, const Names &scope,
                                 Expr &out) {
  std::string text;
  if (!getString(node, text))
    return false;
  ExprError exprError;
  std::optional<Expr> expr = Expr::parseTemplate(text, exprError, functions);
  if (!expr)
    return fail(node.pointer, "bad template: " + exprError.str());
  if (!checkNames(node, expr->freeNames(), scope))
    return false;
  out = *expr;
  return true;
}

bool SpecParser::getTemplate(const Node &node, const Names &scope,
                             std::string &out) {
  if (!getString(node, out))
    return false;
  Names names;
  ExprError exprError;
  if (!checkTemplate(out, names, exprError))
    return fail(node.pointer, "bad message template: " + exprError.str());
  return checkNames(node, names, scope);
}

bool SpecParser::checkNames(const Node &node, const Names &names,
                            const Names &scope) {
  for (const std::string &name : names)
    if (!scope.count(name))
      return fail(node.pointer, "unknown name '" + quoteLimited(name) +
                                    "' (not a field of this config nor a "
                                    "name in scope here)");
  return true;
}

bool SpecParser::getRaised(const Node &node, const Names &scope,
                           RaisedMessage &out) {
  if (!expectObject(node, {"kind", "message"}, {"kind", "message"}))
    return false;
  return getString(node.child("kind"), out.kind) &&
         getTemplate(node.child("message"), scope, out.text);
}

bool SpecParser::checkFieldName(const Node &node, const ConfigSpec &config,
                                const std::string &name) {
  if (!config.findField(name))
    return fail(node.pointer,
                "'" + name + "' is not a field of " + config.className);
  return true;
}

//===----------------------------------------------------------------------===//
// The top level
//===----------------------------------------------------------------------===//

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
  if (!expectNonEmptyList(quantizers, "quantizers"))
    return nullptr;
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

std::optional<Json> parseJson(const std::string &text) {
  Json value;
  JsonParseError ignored;
  if (!parseJsonText(text, value, ignored))
    return std::nullopt;
  return value;
}

std::unique_ptr<MethodSpec> parseMethodSpec(const std::string &text,
                                            const std::string &fileName,
                                            SpecError &error) {
  // Syntax errors, duplicated object keys (which a JSON parser would
  // silently collapse) and nesting beyond the limit are reported where they
  // stand (spec/Input.h).
  Json root;
  JsonParseError parseError;
  JsonParseOptions options;
  options.rejectDuplicateKeys = true;
  if (!parseJsonText(text, root, parseError, options)) {
    error = {fileName, parseError.pointer, parseError.message};
    return nullptr;
  }
  try {
    return SpecParser(fileName, error).parse(root);
  } catch (const std::exception &e) {
    // Defensive: the parser checks types before every access, so this is a
    // bug in hfq, reported instead of crashing.
    error = {fileName, "",
             std::string("internal error while reading spec: ") + e.what()};
    return nullptr;
  }
}

} // namespace hfq::spec
