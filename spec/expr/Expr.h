//===- Expr.h - The spec expression language ------------------*- C++ -*-===//
//
// Conditions, computed values, shapes and message placeholders in method
// specs are written in one small Python-flavoured expression language (the
// grammar is in specs/README.md). Values are JSON values, so a config dict,
// a scope and an expression result are the same type.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_EXPR_EXPR_H
#define HFQ_SPEC_EXPR_EXPR_H

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hfq::spec {

/// Every JSON value in hfq keeps object key order (transformers' to_dict()
/// order is observable in reports).
using Json = nlohmann::ordered_json;

/// A parse or evaluation problem. `column` is 1-based within the expression
/// text (0 when no position applies).
struct ExprError {
  std::string message;
  std::size_t column = 0;

  /// "<message> at column <column>" (or just the message without a column).
  std::string str() const;
};

class ExprNode;
struct ExprFunction;

/// Functions a spec defines (`config.functions`), callable by name from the
/// expressions parsed with them; a call is bound to its function at parse
/// time.
using ExprFunctions = std::vector<std::shared_ptr<const ExprFunction>>;

/// A parsed expression. Cheap to copy (shares its immutable tree).
class Expr {
public:
  /// Parses `text`. On failure returns nullopt and fills `error`.
  static std::optional<Expr> parse(const std::string &text, ExprError &error,
                                   const ExprFunctions &functions = {});

  /// Parses an f-string-like template (renderTemplate's syntax) as one
  /// expression whose value is the rendered string; placeholders may call
  /// `functions`.
  static std::optional<Expr> parseTemplate(const std::string &tmpl,
                                           ExprError &error,
                                           const ExprFunctions &functions = {});

  /// Evaluates against `scope`, a JSON object mapping names to values.
  /// On failure returns nullopt and fills `error`.
  std::optional<Json> evaluate(const Json &scope, ExprError &error) const;

  /// Evaluates and converts with Python truthiness.
  std::optional<bool> evaluateCondition(const Json &scope,
                                        ExprError &error) const;

  /// The free top-level names the expression reads (`target` for
  /// `target.sm`), for load-time scope checking. Function names are not
  /// included.
  std::set<std::string> freeNames() const;

  /// The source text it was parsed from.
  const std::string &text() const { return source; }

  /// The tree (spec/expr's evaluator calls function bodies through it).
  const ExprNode *tree() const { return root.get(); }

private:
  std::shared_ptr<const ExprNode> root;
  std::string source;
};

/// A spec-defined function: its parameters are the only names its body
/// reads; it may call the functions defined before it (so never itself).
struct ExprFunction {
  std::string name;
  std::vector<std::string> params;
  Expr body;
};

/// Python's truthiness of a JSON value.
bool isTruthy(const Json &value);

/// Python's `str()` of a JSON value: None, True, 4, 0.1, 'a' inside lists,
/// ['a', 'b'], {'k': 1}.
std::string pythonStr(const Json &value);

/// Python's `repr()` of a JSON value (strings quoted with ').
std::string pythonRepr(const Json &value);

/// Python's type name of a JSON value: NoneType, bool, int, float, str,
/// list, dict.
std::string pythonTypeName(const Json &value);

/// Renders an f-string-like template: `{expr}` is replaced by pythonStr of
/// the expression's value in `scope`; `{{`/`}}` are literal braces.
std::optional<std::string> renderTemplate(const std::string &tmpl,
                                          const Json &scope, ExprError &error);

/// Checks a template's placeholders parse, and collects their free names.
bool checkTemplate(const std::string &tmpl, std::set<std::string> &names,
                   ExprError &error);

/// The built-in function names an expression may call.
const std::vector<std::string> &builtinFunctionNames();

} // namespace hfq::spec

#endif // HFQ_SPEC_EXPR_EXPR_H
