//===- Lexer.cpp - Lexer of the expression language -----------------------===//
//
// Numbers, strings and punctuation with Python's literal forms and escapes.
// Input comes from user-written specs and is fuzzed: every malformed literal
// is an ExprError at its column, never a crash or an overflow.
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Lexer.h"
#include "spec/expr/Utf8.h"

#include <charconv>
#include <utility>

namespace hfq::spec {
namespace expr {

static bool isDigit(char c) { return c >= '0' && c <= '9'; }

static bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }

static int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool setError(ExprError &error, std::string message, std::size_t offset) {
  error.message = std::move(message);
  error.column = offset + 1;
  return false;
}

/// Lexes a number at `pos` (a digit, or '.' before a digit) with Python's
/// literal forms: 12, 1.5, 1., .5, 1e-6, 2.5E+3.
static bool lexNumber(const std::string &src, std::size_t &pos, Token &token,
                      ExprError &error) {
  std::size_t start = pos;
  bool isFloat = false;
  while (pos < src.size() && isDigit(src[pos]))
    ++pos;
  if (pos < src.size() && src[pos] == '.') {
    isFloat = true;
    ++pos;
    while (pos < src.size() && isDigit(src[pos]))
      ++pos;
  }
  if (pos < src.size() && (src[pos] == 'e' || src[pos] == 'E')) {
    std::size_t digitsAt = pos + 1;
    if (digitsAt < src.size() && (src[digitsAt] == '+' || src[digitsAt] == '-'))
      ++digitsAt;
    if (digitsAt < src.size() && isDigit(src[digitsAt])) {
      isFloat = true;
      pos = digitsAt;
      while (pos < src.size() && isDigit(src[pos]))
        ++pos;
    }
  }
  // "12abc", "1e", "1.x": Python rejects these too.
  if (pos < src.size() && (isIdentChar(src[pos]) || src[pos] == '.'))
    return setError(error, "invalid number", start);

  token.end = pos;
  if (isFloat) {
    token.kind = Tok::Float;
    auto result =
        std::from_chars(src.data() + start, src.data() + pos, token.floatValue);
    if (result.ec != std::errc())
      return setError(error, "float literal out of range", start);
    return true;
  }
  token.kind = Tok::Int;
  std::int64_t value = 0;
  for (std::size_t k = start; k < pos; ++k) {
    if (__builtin_mul_overflow(value, 10, &value) ||
        __builtin_add_overflow(value, src[k] - '0', &value))
      return setError(error, "integer literal too large", start);
  }
  token.intValue = value;
  return true;
}

/// Lexes a quoted string at `pos` with Python's common escapes: \\ \' \"
/// \n \t \r \0 \xHH \uHHHH (code points, stored as UTF-8).
static bool lexString(const std::string &src, std::size_t &pos, Token &token,
                      ExprError &error) {
  std::size_t start = pos;
  char quote = src[pos++];
  token.kind = Tok::String;
  while (true) {
    if (pos >= src.size())
      return setError(error, "unterminated string", start);
    char c = src[pos];
    if (c == quote) {
      ++pos;
      break;
    }
    if (c != '\\') {
      token.text += c;
      ++pos;
      continue;
    }
    if (pos + 1 >= src.size())
      return setError(error, "unterminated string", start);
    char escape = src[pos + 1];
    switch (escape) {
    case 'n':
      token.text += '\n';
      break;
    case 't':
      token.text += '\t';
      break;
    case 'r':
      token.text += '\r';
      break;
    case '0':
      token.text += '\0';
      break;
    case '\\':
    case '\'':
    case '"':
      token.text += escape;
      break;
    case 'x':
    case 'u': {
      std::size_t width = escape == 'x' ? 2 : 4;
      std::uint32_t codePoint = 0;
      for (std::size_t k = 0; k < width; ++k) {
        int digit = pos + 2 + k < src.size() ? hexValue(src[pos + 2 + k]) : -1;
        if (digit < 0)
          return setError(
              error, std::string("truncated \\") + escape + " escape", pos);
        codePoint = codePoint * 16 + static_cast<std::uint32_t>(digit);
      }
      // A lone surrogate is not a character and would make invalid UTF-8.
      if (codePoint >= 0xD800 && codePoint <= 0xDFFF)
        return setError(error, "surrogate in \\u escape", pos);
      appendUtf8(token.text, codePoint);
      pos += width;
      break;
    }
    default:
      if (escape >= 0x20 && escape < 0x7F)
        return setError(error, std::string("unknown escape '\\") + escape + "'",
                        pos);
      return setError(error, "unknown escape", pos);
    }
    pos += 2;
  }
  token.end = pos;
  return true;
}

/// The punctuation tokens, longest spellings first.
static const std::pair<const char *, Tok> Punctuation[] = {
    {"//", Tok::SlashSlash}, {"==", Tok::EqEq},      {"!=", Tok::NotEq},
    {"<=", Tok::LessEq},     {">=", Tok::GreaterEq}, {"(", Tok::LParen},
    {")", Tok::RParen},      {"[", Tok::LBracket},   {"]", Tok::RBracket},
    {",", Tok::Comma},       {".", Tok::Dot},        {"?", Tok::Question},
    {":", Tok::Colon},       {"+", Tok::Plus},       {"-", Tok::Minus},
    {"*", Tok::Star},        {"/", Tok::Slash},      {"%", Tok::Percent},
    {"<", Tok::Less},        {">", Tok::Greater},
};

bool lex(const std::string &src, std::vector<Token> &tokens, ExprError &error) {
  std::size_t pos = 0;
  while (true) {
    while (pos < src.size() && (src[pos] == ' ' || src[pos] == '\t' ||
                                src[pos] == '\n' || src[pos] == '\r'))
      ++pos;
    Token token;
    token.begin = pos;
    token.end = pos;
    if (pos >= src.size()) {
      tokens.push_back(std::move(token));
      return true;
    }
    char c = src[pos];
    if (isDigit(c) ||
        (c == '.' && pos + 1 < src.size() && isDigit(src[pos + 1]))) {
      if (!lexNumber(src, pos, token, error))
        return false;
    } else if (c == '\'' || c == '"') {
      if (!lexString(src, pos, token, error))
        return false;
    } else if (isIdentStart(c)) {
      while (pos < src.size() && isIdentChar(src[pos]))
        ++pos;
      token.kind = Tok::Ident;
      token.text = src.substr(token.begin, pos - token.begin);
      token.end = pos;
    } else {
      bool matched = false;
      for (const auto &[spelling, kind] : Punctuation) {
        std::size_t length = std::char_traits<char>::length(spelling);
        if (src.compare(pos, length, spelling) == 0) {
          token.kind = kind;
          pos += length;
          token.end = pos;
          matched = true;
          break;
        }
      }
      if (!matched) {
        if (c == '=')
          return setError(error, "unexpected '=' (use '==' to compare)", pos);
        // Quote the whole character when it is multi-byte UTF-8.
        std::uint32_t codePoint = 0;
        std::size_t length = decodeUtf8(src, pos, codePoint);
        return setError(
            error,
            "unexpected character " +
                pythonRepr(Json(src.substr(pos, length ? length : 1))),
            pos);
      }
    }
    tokens.push_back(std::move(token));
  }
}

} // namespace expr
} // namespace hfq::spec
