//===- Lexer.h - Tokens of the expression language --------------*- C++ -*-===//
//
// Private to spec/expr: the token stream the parser reads, and the error
// helper shared by the lexer and the template splitter (both report byte
// offsets, which become 1-based columns).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_EXPR_LEXER_H
#define HFQ_SPEC_EXPR_LEXER_H

#include "spec/expr/Expr.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hfq::spec {
namespace expr {

enum class Tok {
  End,
  Int,
  Float,
  String,
  Ident,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Dot,
  Question,
  Colon,
  Plus,
  Minus,
  Star,
  Slash,
  SlashSlash,
  Percent,
  EqEq,
  NotEq,
  Less,
  LessEq,
  Greater,
  GreaterEq
};

struct Token {
  Tok kind = Tok::End;
  /// Byte offsets of the token's source text.
  std::size_t begin = 0;
  std::size_t end = 0;
  std::int64_t intValue = 0;
  double floatValue = 0;
  /// Identifier name, or a string literal's decoded contents.
  std::string text;

  std::size_t column() const { return begin + 1; }
};

/// Splits `src` into tokens, ending with a Tok::End at src.size(). On
/// failure returns false and fills `error`.
bool lex(const std::string &src, std::vector<Token> &tokens, ExprError &error);

/// Fills `error` with `message` at byte `offset` (column offset + 1) and
/// returns false.
bool setError(ExprError &error, std::string message, std::size_t offset);

} // namespace expr
} // namespace hfq::spec

#endif // HFQ_SPEC_EXPR_LEXER_H
