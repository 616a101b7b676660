//===- SpecParser.h - Reads a spec's JSON into a MethodSpec -----*- C++ -*-===//
//
// Private to spec/: the parser behind parseMethodSpec (MethodSpec.h). A spec
// is parsed in one pass over the JSON tree. Every node is visited through a
// `Node` that knows its JSON pointer, so each problem is reported at the
// exact place it stands. Expressions are parsed here and their free names
// checked against the scope they will be evaluated in.
//
// The member functions are defined by what they parse:
//   SpecParser.cpp           the top level, the node readers every part uses,
//                            and JSON text reading (parseJson, parseMethodSpec)
//   SpecParserConfig.cpp     the config class: fields, rules, serialization
//   SpecParserQuantizer.cpp  one quantizer key: flags, environment and dtype
//                            rules, skip policy, kernel rules
//   SpecParserLayout.cpp     one checkpoint layout: params, requirements,
//                            args, tensors
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_SPECPARSER_H
#define HFQ_SPEC_SPECPARSER_H

#include "spec/Input.h"
#include "spec/MethodSpec.h"

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace hfq::spec {

class SpecParser {
public:
  SpecParser(std::string file, SpecError &error)
      : file(std::move(file)), error(error) {}

  std::unique_ptr<MethodSpec> parse(const Json &root);

private:
  using Names = std::set<std::string>;

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

  // Node readers (SpecParser.cpp). Each returns false after recording the
  // first problem in `error`; later problems are ignored.
  bool fail(const std::string &pointer, const std::string &message);
  /// Fails with "expected <what>, got <its Python type>" unless `ok`.
  bool expectType(const Node &node, bool ok, const char *what);
  /// Fails with "expected a non-empty list of <what>" unless it is one.
  bool expectNonEmptyList(const Node &node, const char *what);
  /// Checks `node` is an object whose keys are among `keys` (and "doc"),
  /// with every key of `required`.
  bool expectObject(const Node &node, std::initializer_list<const char *> keys,
                    std::initializer_list<const char *> required = {});
  bool getString(const Node &node, std::string &out);
  bool getBool(const Node &node, bool &out);
  bool getInt(const Node &node, int64_t &out);
  bool getStringList(const Node &node, std::vector<std::string> &out);
  /// A string that is one of `choices`; the error lists them.
  bool getChoice(const Node &node, std::initializer_list<const char *> choices,
                 std::string &out);
  /// Parses an expression and checks the names it reads are in `scope`.
  bool getExpr(const Node &node, const Names &scope, Expr &out);
  /// Parses a template as an expression (its value: the rendered string)
  /// and checks the names it reads are in `scope`.
  bool getTemplateExpr(const Node &node, const Names &scope, Expr &out);
  /// Parses a message template and checks its placeholders' names.
  bool getTemplate(const Node &node, const Names &scope, std::string &out);
  bool checkNames(const Node &node, const Names &names, const Names &scope);
  bool getRaised(const Node &node, const Names &scope, RaisedMessage &out);
  /// Checks `name`, read from `node`, is a field of `config`.
  bool checkFieldName(const Node &node, const ConfigSpec &config,
                      const std::string &name);

  // The config class (SpecParserConfig.cpp).
  bool parseConfig(const Node &node, ConfigSpec &config);
  bool parseFields(const Node &node, ConfigSpec &config);
  bool parseSchemas(const Node &node, ConfigSpec &config);
  /// A field's `union_types` (after its `schema`).
  bool parseUnionTypes(const Node &node, FieldSpec &field);
  /// `config.validation` (pydantic-style errors, Validation.h).
  bool parseValidation(const Node &node, ConfigSpec &config);
  bool parseValidationMessages(const Node &node, ValidationStyle &style);
  bool parseSchema(const Node &node, ObjectSchema &schema);
  /// Every field's `schema` names an entry of `config.schemas`.
  bool checkSchemaReferences(const Node &fields,
                             const std::vector<FieldSpec> &declared,
                             const ConfigSpec &config);
  bool parseField(const Node &node, FieldSpec &field);
  bool parseLegacyKeys(const Node &node, ConfigSpec &config);
  /// `config.functions`: each joins `functions` for what is parsed after it.
  bool parseFunctions(const Node &node);
  bool parseFunction(const Node &node, ExprFunction &function);
  /// A list of strings, each a field of `config`.
  bool parseFieldList(const Node &node, const ConfigSpec &config,
                      std::vector<std::string> &out);
  bool parseSerializedKeys(const Node &node, ConfigSpec &config);
  bool parseRules(const Node &node, const Names &scope, const Names &assignable,
                  std::vector<Rule> &rules);
  bool parseRule(const Node &node, const Names &scope, const Names &assignable,
                 Rule &rule);

  // A quantizer key (SpecParserQuantizer.cpp).
  bool parseQuantizer(const Node &node, const ConfigSpec &config,
                      QuantizerSpec &quantizer);
  bool parseQuantizerFlags(const Node &node, const Names &fields,
                           QuantizerSpec &quantizer);
  bool parseQuantizerRules(const Node &node, const ConfigSpec &config,
                           QuantizerSpec &quantizer);
  bool parseDeviceMapDefault(const Node &node, QuantizerSpec &quantizer);
  bool parseSkipModules(const Node &node, const ConfigSpec &config,
                        SkipPolicy &policy);
  bool parseLayouts(const Node &node, const Names &scope,
                    QuantizerSpec &quantizer);
  bool parseKernels(const Node &node, const Names &scope,
                    QuantizerSpec &quantizer);
  bool parseBoolOrExpr(const Node &node, const Names &scope, BoolOrExpr &out);

  // A checkpoint layout (SpecParserLayout.cpp).
  bool parseLayout(const Node &node, Names scope, LayoutSpec &layout);
  /// An object of name -> expression, in order. With `bindNames`, each name
  /// joins `scope` for the expressions after it (and for the caller's).
  bool parseNamedExprs(const Node &node, Names &scope, bool bindNames,
                       std::vector<std::pair<std::string, Expr>> &out);
  bool parseRequirements(const Node &node, const Names &scope,
                         LayoutSpec &layout);
  bool parseTensors(const Node &node, const Names &scope, LayoutSpec &layout);
  bool parseTensor(const Node &node, const Names &scope,
                   const LayoutSpec &layout, TensorSpec &tensor);

  /// `quant_method` and every field of `config`: the scope of expressions
  /// that read the config.
  Names fieldNames(const ConfigSpec &config) const {
    Names names{"quant_method"};
    for (const FieldSpec &field : config.fields)
      names.insert(field.name);
    return names;
  }

  std::string file;
  SpecError &error;
  /// The spec's functions defined so far: expressions may call them.
  ExprFunctions functions;
  bool failed = false;
};

} // namespace hfq::spec

#endif // HFQ_SPEC_SPECPARSER_H
