//===- Parser.h - Parser of the expression language -------------*- C++ -*-===//
//
// Private to spec/expr: turns the lexer's tokens into a syntax tree.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_EXPR_PARSER_H
#define HFQ_SPEC_EXPR_PARSER_H

#include "spec/expr/Ast.h"
#include "spec/expr/Lexer.h"

#include <string>
#include <vector>

namespace hfq::spec {
namespace expr {

/// Parses `tokens` (lexed from `source`, which error messages quote) as one
/// expression; calls may name `functions`. On failure returns null and
/// fills `error`.
NodePtr parseTokens(const std::string &source, const std::vector<Token> &tokens,
                    const ExprFunctions &functions, ExprError &error);

} // namespace expr
} // namespace hfq::spec

#endif // HFQ_SPEC_EXPR_PARSER_H
