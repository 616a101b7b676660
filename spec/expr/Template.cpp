//===- Template.cpp - f-string-like message templates ---------------------===//
//
// Spec messages are templates: `{expr}` is replaced by pythonStr of the
// expression's value, `{{`/`}}` are literal braces. A template is split once
// into literal pieces and parsed placeholders; error columns are columns of
// the whole template, so a spec author sees where in the message it failed.
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Ast.h"
#include "spec/expr/Expr.h"
#include "spec/expr/Lexer.h"
#include "spec/expr/Parser.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace hfq::spec {

namespace {

/// A template split into literal text and placeholders.
struct TemplatePiece {
  std::string literal;
  std::optional<Expr> expr;
  /// The placeholder's text.
  std::string exprText;
  /// Columns in the placeholder's expression plus this are template columns.
  std::size_t columnOffset = 0;
};

} // namespace

/// Splits `tmpl` at its `{expr}` placeholders and parses each one; error
/// columns are template columns.
static bool splitTemplate(const std::string &tmpl,
                          std::vector<TemplatePiece> &pieces, ExprError &error,
                          const ExprFunctions &functions = {}) {
  std::string literal;
  std::size_t pos = 0;
  while (pos < tmpl.size()) {
    char c = tmpl[pos];
    bool doubled = pos + 1 < tmpl.size() && tmpl[pos + 1] == c;
    if ((c == '{' || c == '}') && doubled) {
      literal += c;
      pos += 2;
      continue;
    }
    if (c == '}')
      return expr::setError(error, "unbalanced '}'", pos);
    if (c != '{') {
      literal += c;
      ++pos;
      continue;
    }
    // Find the closing brace; string literals inside may hold braces.
    std::size_t close = pos + 1;
    char quote = 0;
    while (close < tmpl.size()) {
      char d = tmpl[close];
      if (quote) {
        if (d == '\\')
          ++close;
        else if (d == quote)
          quote = 0;
      } else if (d == '\'' || d == '"') {
        quote = d;
      } else if (d == '}') {
        break;
      }
      ++close;
    }
    if (close >= tmpl.size())
      return expr::setError(error, "unbalanced '{'", pos);
    if (!literal.empty()) {
      pieces.push_back(TemplatePiece{std::move(literal), std::nullopt, "", 0});
      literal.clear();
    }
    TemplatePiece piece;
    piece.columnOffset = pos + 1;
    piece.exprText = tmpl.substr(pos + 1, close - pos - 1);
    piece.expr = Expr::parse(piece.exprText, error, functions);
    if (!piece.expr) {
      if (error.column != 0)
        error.column += piece.columnOffset;
      return false;
    }
    pieces.push_back(std::move(piece));
    pos = close + 1;
  }
  if (!literal.empty())
    pieces.push_back(TemplatePiece{std::move(literal), std::nullopt, "", 0});
  return true;
}

std::optional<std::string> renderTemplate(const std::string &tmpl,
                                          const Json &scope, ExprError &error) {
  std::vector<TemplatePiece> pieces;
  if (!splitTemplate(tmpl, pieces, error))
    return std::nullopt;
  std::string out;
  for (const TemplatePiece &piece : pieces) {
    if (!piece.expr) {
      out += piece.literal;
      continue;
    }
    std::optional<Json> value = piece.expr->evaluate(scope, error);
    if (!value) {
      if (error.column != 0)
        error.column += piece.columnOffset;
      return std::nullopt;
    }
    out += pythonStr(*value);
  }
  return out;
}

/// One piece of a template as a tree: a string literal or the placeholder's
/// expression (already checked by splitTemplate, so parsing cannot fail).
static expr::NodePtr pieceNode(const TemplatePiece &piece,
                               const ExprFunctions &functions,
                               ExprError &error) {
  if (!piece.expr) {
    auto node = std::make_unique<ExprNode>();
    node->kind = expr::NodeKind::Literal;
    node->value = piece.literal;
    return node;
  }
  std::vector<expr::Token> tokens;
  if (!expr::lex(piece.exprText, tokens, error))
    return nullptr;
  return expr::parseTokens(piece.exprText, tokens, functions, error);
}

std::optional<Expr> Expr::parseTemplate(const std::string &tmpl,
                                        ExprError &error,
                                        const ExprFunctions &functions) {
  std::vector<TemplatePiece> pieces;
  if (!splitTemplate(tmpl, pieces, error, functions))
    return std::nullopt;
  auto root = std::make_unique<ExprNode>();
  root->kind = expr::NodeKind::Format;
  root->column = 1;
  for (const TemplatePiece &piece : pieces) {
    expr::NodePtr node = pieceNode(piece, functions, error);
    if (!node)
      return std::nullopt;
    root->height = std::max(root->height, node->height + 1);
    root->operands.push_back(std::move(node));
  }
  if (root->height > expr::MaxDepth) {
    error = {"expression nested too deeply", 1};
    return std::nullopt;
  }
  Expr parsed;
  parsed.root = std::move(root);
  parsed.source = tmpl;
  return parsed;
}

bool checkTemplate(const std::string &tmpl, std::set<std::string> &names,
                   ExprError &error) {
  std::vector<TemplatePiece> pieces;
  if (!splitTemplate(tmpl, pieces, error))
    return false;
  for (const TemplatePiece &piece : pieces)
    if (piece.expr)
      for (const std::string &name : piece.expr->freeNames())
        names.insert(name);
  return true;
}

} // namespace hfq::spec
