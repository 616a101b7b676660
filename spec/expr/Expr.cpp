//===- Expr.cpp - The spec expression language ----------------------------===//
//
// The public Expr class over the pieces of this folder: Lexer and Parser
// build the tree (Ast.h), Evaluator walks it with the value semantics of
// Values, PyRepr renders values as Python's str()/repr(), and Template
// expands f-string-like messages.
//
// Expressions come from user-written specs and this code is fuzzed, so no
// input may crash it: nothing here throws, asserts or overflows. Problems
// come back as an ExprError with a 1-based byte column; nesting is bounded
// (Ast.h's MaxDepth) so that the recursive parser, evaluator and tree
// destructor stay far from the stack limit.
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Expr.h"
#include "spec/expr/Ast.h"
#include "spec/expr/Evaluator.h"
#include "spec/expr/Lexer.h"
#include "spec/expr/Parser.h"

#include <utility>

namespace hfq::spec {

std::string ExprError::str() const {
  if (column == 0)
    return message;
  return message + " at column " + std::to_string(column);
}

std::optional<Expr> Expr::parse(const std::string &text, ExprError &error,
                                const ExprFunctions &functions) {
  std::vector<expr::Token> tokens;
  if (!expr::lex(text, tokens, error))
    return std::nullopt;
  expr::NodePtr root = expr::parseTokens(text, tokens, functions, error);
  if (!root)
    return std::nullopt;
  Expr parsed;
  parsed.root = std::move(root);
  parsed.source = text;
  return parsed;
}

std::optional<Json> Expr::evaluate(const Json &scope, ExprError &error) const {
  // Only a default-constructed Expr has no tree.
  if (!root) {
    error.message = "empty expression";
    error.column = 0;
    return std::nullopt;
  }
  return expr::evaluateNode(*root, scope, error);
}

std::optional<bool> Expr::evaluateCondition(const Json &scope,
                                            ExprError &error) const {
  std::optional<Json> value = evaluate(scope, error);
  if (!value)
    return std::nullopt;
  return isTruthy(*value);
}

static void collectNames(const ExprNode &node, std::set<std::string> &names) {
  if (node.kind == expr::NodeKind::Name)
    names.insert(node.name);
  // An Attr's key and a Call's function are not scope names; operands are.
  for (const expr::NodePtr &operand : node.operands)
    collectNames(*operand, names);
}

std::set<std::string> Expr::freeNames() const {
  std::set<std::string> names;
  if (root)
    collectNames(*root, names);
  return names;
}

} // namespace hfq::spec
