//===- Expr.cpp - The spec expression language ----------------------------===//
//
// A lexer, a recursive-descent parser and a tree-walking evaluator for the
// expression language of specs/README.md ("Expressions"), plus Python
// str()/repr() rendering and f-string-like message templates.
//
// Expressions come from user-written specs and this code is fuzzed, so no
// input may crash it: nothing here throws, asserts or overflows. Problems
// come back as an ExprError with a 1-based byte column; nesting is bounded
// so that the recursive parser, evaluator and tree destructor stay far from
// the stack limit.
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Expr.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

namespace hfq::spec {

/// Deeper than any real spec needs, shallow enough that every recursion
/// over an expression tree is cheap on the stack.
static constexpr std::size_t MaxDepth = 200;

/// Scope values come from callers and may be nested arbitrarily deep;
/// rendering them recursively stops here.
static constexpr std::size_t MaxValueDepth = 1000;

std::string ExprError::str() const {
  if (column == 0)
    return message;
  return message + " at column " + std::to_string(column);
}

//===----------------------------------------------------------------------===//
// Values: Python truthiness, type names, numbers, equality and ordering
//===----------------------------------------------------------------------===//

bool isTruthy(const Json &value) {
  if (const auto *b = value.get_ptr<const Json::boolean_t *>())
    return *b;
  if (const auto *i = value.get_ptr<const Json::number_integer_t *>())
    return *i != 0; // Also the signed view of unsigned values.
  if (const auto *f = value.get_ptr<const Json::number_float_t *>())
    return *f != 0.0; // NaN is truthy in Python too.
  if (const auto *s = value.get_ptr<const Json::string_t *>())
    return !s->empty();
  if (value.is_binary())
    return !value.get_binary().empty();
  // Containers; json::empty() is true for null (and nlohmann's internal
  // "discarded" value, which is falsy too).
  return !value.empty() && !value.is_discarded();
}

std::string pythonTypeName(const Json &value) {
  if (value.is_boolean())
    return "bool";
  if (value.is_number_integer())
    return "int";
  if (value.is_number_float())
    return "float";
  if (value.is_string())
    return "str";
  if (value.is_array())
    return "list";
  if (value.is_object())
    return "dict";
  if (value.is_binary())
    return "bytes";
  return "NoneType";
}

namespace {

/// A JSON number as Python sees it. JSON integers beyond int64 (only
/// unsigned ones can be) become floats rather than failing.
struct Number {
  bool isFloat = false;
  std::int64_t i = 0;
  double f = 0;

  double asDouble() const { return isFloat ? f : static_cast<double>(i); }
};

} // namespace

/// The number in `value`, or nullopt for non-numbers. Booleans are not
/// numbers here: specs keep flags and counts apart.
static std::optional<Number> toNumber(const Json &value) {
  // Unsigned first: nlohmann hands out the signed view of unsigned values.
  if (const auto *u = value.get_ptr<const Json::number_unsigned_t *>()) {
    if (*u <=
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return Number{false, static_cast<std::int64_t>(*u), 0};
    return Number{true, 0, static_cast<double>(*u)};
  }
  if (const auto *i = value.get_ptr<const Json::number_integer_t *>())
    return Number{false, *i, 0};
  if (const auto *f = value.get_ptr<const Json::number_float_t *>())
    return Number{true, 0, *f};
  return std::nullopt;
}

/// Compares an int with a float exactly, as Python does (converting the int
/// to double would make 2**53 + 1 equal 2.0**53). Returns -1, 0 or 1, or
/// nullopt when `b` is NaN.
static std::optional<int> compareIntFloat(std::int64_t a, double b) {
  if (std::isnan(b))
    return std::nullopt;
  // 2**63 is exactly representable; beyond [-2**63, 2**63) no int64 reaches.
  constexpr double Limit = 9223372036854775808.0;
  if (b >= Limit)
    return -1;
  if (b < -Limit)
    return 1;
  double whole = std::trunc(b);
  auto wholeInt = static_cast<std::int64_t>(whole);
  if (a != wholeInt)
    return a < wholeInt ? -1 : 1;
  double fraction = b - whole;
  return fraction > 0 ? -1 : (fraction < 0 ? 1 : 0);
}

/// The int64 in `value`, or nullopt for non-ints and ints beyond int64.
static std::optional<std::int64_t> toInt(const Json &value) {
  std::optional<Number> number = toNumber(value);
  if (!number || number->isFloat)
    return std::nullopt;
  return number->i;
}

/// Three-way numeric comparison; nullopt when a NaN is involved.
static std::optional<int> compareNumbers(const Number &a, const Number &b) {
  if (!a.isFloat && !b.isFloat)
    return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  if (!a.isFloat)
    return compareIntFloat(a.i, b.f);
  if (!b.isFloat) {
    std::optional<int> reversed = compareIntFloat(b.i, a.f);
    if (!reversed)
      return std::nullopt;
    return -*reversed;
  }
  if (std::isnan(a.f) || std::isnan(b.f))
    return std::nullopt;
  return a.f < b.f ? -1 : (a.f > b.f ? 1 : 0);
}

/// Python `==`: deep, with ints equal to floats of the same value and dicts
/// equal regardless of key order. Iterative because scope values may be
/// nested arbitrarily deep.
static bool valuesEqual(const Json &lhs, const Json &rhs) {
  std::vector<std::pair<const Json *, const Json *>> work{{&lhs, &rhs}};
  while (!work.empty()) {
    auto [a, b] = work.back();
    work.pop_back();
    if (a->is_number_unsigned() && b->is_number_unsigned()) {
      // Both may exceed int64, where toNumber would round them.
      if (*a != *b)
        return false;
      continue;
    }
    std::optional<Number> na = toNumber(*a), nb = toNumber(*b);
    if (na && nb) {
      if (compareNumbers(*na, *nb) != 0)
        return false;
      continue;
    }
    if (a->type() != b->type() || a->size() != b->size())
      return false;
    if (a->is_array()) {
      for (std::size_t k = 0; k < a->size(); ++k)
        work.emplace_back(&(*a)[k], &(*b)[k]);
    } else if (a->is_object()) {
      for (const auto &[key, value] : a->items()) {
        auto it = b->find(key);
        if (it == b->end())
          return false;
        work.emplace_back(&value, &*it);
      }
    } else if (*a != *b) {
      return false;
    }
  }
  return true;
}

/// Three-way ordering of two values for <, <=, >, >=, min and max: numbers
/// with numbers and strings with strings (by code point, which byte order of
/// UTF-8 preserves). `incomparable` is set for other type pairs; nullopt
/// without it means unordered (NaN).
static std::optional<int> orderValues(const Json &a, const Json &b,
                                      bool &incomparable) {
  incomparable = false;
  std::optional<Number> na = toNumber(a), nb = toNumber(b);
  if (na && nb)
    return compareNumbers(*na, *nb);
  const auto *sa = a.get_ptr<const Json::string_t *>();
  const auto *sb = b.get_ptr<const Json::string_t *>();
  if (sa && sb) {
    int c = sa->compare(*sb);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  incomparable = true;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Python str() and repr()
//===----------------------------------------------------------------------===//

/// Decodes the UTF-8 code point starting at `pos`. Returns its length in
/// bytes, or 0 when the bytes there are not valid UTF-8 (overlong forms and
/// surrogates included).
static std::size_t decodeUtf8(const std::string &s, std::size_t pos,
                              std::uint32_t &codePoint) {
  auto lead = static_cast<unsigned char>(s[pos]);
  std::size_t length;
  std::uint32_t minimum;
  if (lead < 0x80) {
    codePoint = lead;
    return 1;
  }
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    minimum = 0x80;
    codePoint = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    minimum = 0x800;
    codePoint = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    minimum = 0x10000;
    codePoint = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() - pos < length)
    return 0;
  for (std::size_t k = 1; k < length; ++k) {
    auto next = static_cast<unsigned char>(s[pos + k]);
    if ((next & 0xC0) != 0x80)
      return 0;
    codePoint = (codePoint << 6) | (next & 0x3F);
  }
  if (codePoint < minimum || codePoint > 0x10FFFF ||
      (codePoint >= 0xD800 && codePoint <= 0xDFFF))
    return 0;
  return length;
}

static void appendUtf8(std::string &out, std::uint32_t codePoint) {
  if (codePoint < 0x80) {
    out += static_cast<char>(codePoint);
  } else if (codePoint < 0x800) {
    out += static_cast<char>(0xC0 | (codePoint >> 6));
    out += static_cast<char>(0x80 | (codePoint & 0x3F));
  } else if (codePoint < 0x10000) {
    out += static_cast<char>(0xE0 | (codePoint >> 12));
    out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (codePoint & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (codePoint >> 18));
    out += static_cast<char>(0x80 | ((codePoint >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (codePoint & 0x3F));
  }
}

/// Python's repr() escapes non-printable characters. Full Unicode tables
/// are out of scope; this covers the controls, separators and format
/// characters of Latin-1, General Punctuation and the BOM, which are the
/// ones that plausibly reach a spec message.
static bool isPrintableNonAscii(std::uint32_t c) {
  return !((c >= 0x80 && c <= 0xA0) || c == 0xAD ||
           (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
           (c >= 0x205F && c <= 0x206F) || c == 0x3000 || c == 0xFEFF ||
           (c >= 0xFFF0 && c <= 0xFFFB) || c == 0xFFFE || c == 0xFFFF);
}

static void appendHexEscape(std::string &out, std::uint32_t c) {
  static const char Digits[] = "0123456789abcdef";
  int width = c <= 0xFF ? 2 : (c <= 0xFFFF ? 4 : 8);
  out += '\\';
  out += width == 2 ? 'x' : (width == 4 ? 'u' : 'U');
  for (int shift = (width - 1) * 4; shift >= 0; shift -= 4)
    out += Digits[(c >> shift) & 0xF];
}

/// Python's quoting of str (or, with `isBytes`, bytes) contents: single
/// quotes unless the text holds ' and no ". Bytes that are not valid UTF-8
/// appear as \xHH, as bytes objects show them.
static void appendQuoted(std::string &out, const std::string &s, bool isBytes) {
  char quote =
      s.find('\'') != std::string::npos && s.find('"') == std::string::npos
          ? '"'
          : '\'';
  out += quote;
  std::size_t pos = 0;
  while (pos < s.size()) {
    auto c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      if (c == quote || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c < 0x20 || c == 0x7F) {
        appendHexEscape(out, c);
      } else {
        out += static_cast<char>(c);
      }
      ++pos;
      continue;
    }
    std::uint32_t codePoint = 0;
    std::size_t length = isBytes ? 0 : decodeUtf8(s, pos, codePoint);
    if (length == 0) {
      appendHexEscape(out, c);
      ++pos;
    } else {
      if (isPrintableNonAscii(codePoint))
        out.append(s, pos, length);
      else
        appendHexEscape(out, codePoint);
      pos += length;
    }
  }
  out += quote;
}

/// Python's float repr: the shortest digits that round-trip, in positional
/// notation when the decimal exponent is in [-4, 16), else scientific with
/// at least two exponent digits.
static std::string pythonFloatRepr(double d) {
  if (std::isnan(d))
    return "nan";
  if (std::isinf(d))
    return d < 0 ? "-inf" : "inf";
  // Without a precision, to_chars gives the shortest round-trip digits,
  // e.g. "-1.2345e+06" or "0e+00".
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), d,
                              std::chars_format::scientific);
  std::string scientific(buffer, result.ptr);
  std::string out;
  std::size_t pos = 0;
  if (scientific[0] == '-') {
    out += '-';
    pos = 1;
  }
  std::size_t ePos = scientific.find('e');
  std::string digits;
  for (std::size_t k = pos; k < ePos; ++k)
    if (scientific[k] != '.')
      digits += scientific[k];
  int exponent = 0;
  for (std::size_t k = ePos + 2; k < scientific.size(); ++k)
    exponent = exponent * 10 + (scientific[k] - '0');
  if (scientific[ePos + 1] == '-')
    exponent = -exponent;

  int pointPos = exponent + 1; // Digits before the decimal point.
  auto digitCount = static_cast<int>(digits.size());
  if (pointPos <= -4 || pointPos > 16) {
    out += digits[0];
    if (digitCount > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    out += exponent < 0 ? "e-" : "e+";
    int magnitude = exponent < 0 ? -exponent : exponent;
    if (magnitude < 10)
      out += '0';
    out += std::to_string(magnitude);
  } else if (pointPos <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-pointPos), '0');
    out += digits;
  } else if (pointPos >= digitCount) {
    out += digits;
    out.append(static_cast<std::size_t>(pointPos - digitCount), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<std::size_t>(pointPos));
    out += '.';
    out.append(digits, static_cast<std::size_t>(pointPos), std::string::npos);
  }
  return out;
}

/// Appends str() (when `asRepr` is false) or repr() of `value`. Containers
/// show their elements with repr(), as Python does.
static void appendPython(std::string &out, const Json &value, bool asRepr,
                         std::size_t depth) {
  if (depth > MaxValueDepth) {
    out += "...";
    return;
  }
  if (const auto *b = value.get_ptr<const Json::boolean_t *>()) {
    out += *b ? "True" : "False";
  } else if (const auto *u = value.get_ptr<const Json::number_unsigned_t *>()) {
    // Before the signed case, which also matches unsigned values.
    out += std::to_string(*u);
  } else if (const auto *i = value.get_ptr<const Json::number_integer_t *>()) {
    out += std::to_string(*i);
  } else if (const auto *f = value.get_ptr<const Json::number_float_t *>()) {
    out += pythonFloatRepr(*f);
  } else if (const auto *s = value.get_ptr<const Json::string_t *>()) {
    if (asRepr)
      appendQuoted(out, *s, /*isBytes=*/false);
    else
      out += *s;
  } else if (value.is_array()) {
    out += '[';
    bool first = true;
    for (const Json &element : value) {
      if (!first)
        out += ", ";
      first = false;
      appendPython(out, element, /*asRepr=*/true, depth + 1);
    }
    out += ']';
  } else if (value.is_object()) {
    out += '{';
    bool first = true;
    for (const auto &[key, element] : value.items()) {
      if (!first)
        out += ", ";
      first = false;
      appendQuoted(out, key, /*isBytes=*/false);
      out += ": ";
      appendPython(out, element, /*asRepr=*/true, depth + 1);
    }
    out += '}';
  } else if (value.is_binary()) {
    const auto &bytes = value.get_binary();
    out += 'b';
    appendQuoted(out, std::string(bytes.begin(), bytes.end()),
                 /*isBytes=*/true);
  } else {
    out += "None";
  }
}

std::string pythonStr(const Json &value) {
  std::string out;
  appendPython(out, value, /*asRepr=*/false, 0);
  return out;
}

std::string pythonRepr(const Json &value) {
  std::string out;
  appendPython(out, value, /*asRepr=*/true, 0);
  return out;
}

//===----------------------------------------------------------------------===//
// Syntax tree
//===----------------------------------------------------------------------===//

namespace {

enum class NodeKind {
  Literal,
  Name,
  Attr,
  Index,
  Call,
  List,
  Neg,
  Not,
  Ternary,
  Binary
};

enum class BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  FloorDiv,
  Mod,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  In,
  NotIn,
  And,
  Or
};

enum class Builtin { Len, Min, Max, CeilDiv, Lower, IsNull, Type, Str };

struct BuiltinInfo {
  const char *name;
  Builtin id;
  std::size_t minArgs;
  std::size_t maxArgs;
};

} // namespace

static const BuiltinInfo Builtins[] = {
    {"len", Builtin::Len, 1, 1},
    {"min", Builtin::Min, 1, std::numeric_limits<std::size_t>::max()},
    {"max", Builtin::Max, 1, std::numeric_limits<std::size_t>::max()},
    {"ceil_div", Builtin::CeilDiv, 2, 2},
    {"lower", Builtin::Lower, 1, 1},
    {"is_null", Builtin::IsNull, 1, 1},
    {"type", Builtin::Type, 1, 1},
    {"str", Builtin::Str, 1, 1},
};

const std::vector<std::string> &builtinFunctionNames() {
  static const std::vector<std::string> Names = [] {
    std::vector<std::string> names;
    for (const BuiltinInfo &info : Builtins)
      names.emplace_back(info.name);
    return names;
  }();
  return Names;
}

static const char *binaryOpSpelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::FloorDiv:
    return "//";
  case BinaryOp::Mod:
    return "%";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::In:
    return "in";
  case BinaryOp::NotIn:
    return "not in";
  case BinaryOp::And:
    return "and";
  case BinaryOp::Or:
    return "or";
  }
  return "?";
}

/// One node of a parsed expression; immutable once parsed.
class ExprNode {
public:
  NodeKind kind = NodeKind::Literal;
  /// 1-based column that errors about this node point at (the operator,
  /// name or bracket).
  std::size_t column = 0;
  /// Longest path to a leaf, counting this node; bounded by MaxDepth.
  std::size_t height = 1;
  /// Literal: the value.
  Json value;
  /// Name: the name; Attr: the key; Call: the function.
  std::string name;
  /// Attr, Index: source text of the operand, quoted in missing-key errors.
  std::string subjectText;
  BinaryOp op = BinaryOp::Add;
  Builtin builtin = Builtin::Len;
  std::vector<std::unique_ptr<ExprNode>> operands;
};

using NodePtr = std::unique_ptr<ExprNode>;

//===----------------------------------------------------------------------===//
// Lexer
//===----------------------------------------------------------------------===//

namespace {

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

} // namespace

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

static bool setError(ExprError &error, std::string message,
                     std::size_t offset) {
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

/// Splits `src` into tokens, ending with a Tok::End at src.size().
static bool lex(const std::string &src, std::vector<Token> &tokens,
                ExprError &error) {
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

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

namespace {

/// Recursive descent over the README grammar, one function per rule.
class Parser {
public:
  Parser(const std::string &source, const std::vector<Token> &tokens,
         ExprError &error)
      : source(source), tokens(tokens), error(error) {}

  NodePtr parseAll() {
    NodePtr root = parseExpr();
    if (!root)
      return nullptr;
    if (peek().kind != Tok::End)
      return unexpected();
    return root;
  }

private:
  /// Counts the parser's own recursion for the duration of one rule.
  class DepthGuard {
  public:
    explicit DepthGuard(std::size_t &depth) : depth(depth) { ++depth; }
    ~DepthGuard() { --depth; }
    DepthGuard(const DepthGuard &) = delete;
    DepthGuard &operator=(const DepthGuard &) = delete;

  private:
    std::size_t &depth;
  };

  const std::string &source;
  const std::vector<Token> &tokens;
  ExprError &error;
  std::size_t pos = 0;
  std::size_t depth = 0;

  const Token &peek(std::size_t ahead = 0) const {
    // The last token is always End; never read past it.
    std::size_t index = pos + ahead;
    return tokens[index < tokens.size() ? index : tokens.size() - 1];
  }

  const Token &advance() {
    const Token &token = peek();
    if (pos + 1 < tokens.size())
      ++pos;
    return token;
  }

  static bool isKeyword(const Token &token, const char *word) {
    return token.kind == Tok::Ident && token.text == word;
  }

  static bool isReserved(const Token &token) {
    static const char *const Words[] = {"and",   "or",    "not",  "in",
                                        "true",  "false", "null", "True",
                                        "False", "None"};
    if (token.kind != Tok::Ident)
      return false;
    for (const char *word : Words)
      if (token.text == word)
        return true;
    return false;
  }

  NodePtr fail(std::string message, std::size_t column) {
    error.message = std::move(message);
    error.column = column;
    return nullptr;
  }

  NodePtr unexpected() {
    const Token &token = peek();
    if (token.kind == Tok::End)
      return fail("expected an expression", token.column());
    return fail("unexpected '" +
                    source.substr(token.begin, token.end - token.begin) + "'",
                token.column());
  }

  bool expect(Tok kind, const char *spelling) {
    if (peek().kind == kind) {
      advance();
      return true;
    }
    fail(std::string("expected ") + spelling, peek().column());
    return false;
  }

  NodePtr makeNode(NodeKind kind, std::size_t column) {
    auto node = std::make_unique<ExprNode>();
    node->kind = kind;
    node->column = column;
    return node;
  }

  /// Attaches operands and enforces the height bound: left-associative
  /// chains such as 1+1+...+1 grow the tree without recursing in the parser.
  NodePtr withOperands(NodePtr node, std::vector<NodePtr> operands) {
    for (NodePtr &operand : operands)
      node->height = std::max(node->height, operand->height + 1);
    node->operands = std::move(operands);
    if (node->height > MaxDepth)
      return fail("expression nested too deeply", node->column);
    return node;
  }

  NodePtr makeBinary(BinaryOp op, std::size_t column, NodePtr lhs,
                     NodePtr rhs) {
    NodePtr node = makeNode(NodeKind::Binary, column);
    node->op = op;
    std::vector<NodePtr> operands;
    operands.push_back(std::move(lhs));
    operands.push_back(std::move(rhs));
    return withOperands(std::move(node), std::move(operands));
  }

  // expr := ternary
  NodePtr parseExpr() {
    DepthGuard guard(depth);
    if (depth > MaxDepth)
      return fail("expression nested too deeply", peek().column());
    return parseTernary();
  }

  // ternary := or ( '?' expr ':' expr )?
  NodePtr parseTernary() {
    NodePtr condition = parseOr();
    if (!condition || peek().kind != Tok::Question)
      return condition;
    std::size_t column = advance().column();
    NodePtr whenTrue = parseExpr();
    if (!whenTrue || !expect(Tok::Colon, "':'"))
      return nullptr;
    NodePtr whenFalse = parseExpr();
    if (!whenFalse)
      return nullptr;
    std::vector<NodePtr> operands;
    operands.push_back(std::move(condition));
    operands.push_back(std::move(whenTrue));
    operands.push_back(std::move(whenFalse));
    return withOperands(makeNode(NodeKind::Ternary, column),
                        std::move(operands));
  }

  // or := and ( 'or' and )*
  NodePtr parseOr() {
    NodePtr lhs = parseAnd();
    while (lhs && isKeyword(peek(), "or")) {
      std::size_t column = advance().column();
      NodePtr rhs = parseAnd();
      if (!rhs)
        return nullptr;
      lhs = makeBinary(BinaryOp::Or, column, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  // and := not ( 'and' not )*
  NodePtr parseAnd() {
    NodePtr lhs = parseNot();
    while (lhs && isKeyword(peek(), "and")) {
      std::size_t column = advance().column();
      NodePtr rhs = parseNot();
      if (!rhs)
        return nullptr;
      lhs = makeBinary(BinaryOp::And, column, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  // not := 'not' not | cmp
  NodePtr parseNot() {
    if (!isKeyword(peek(), "not"))
      return parseCmp();
    DepthGuard guard(depth);
    if (depth > MaxDepth)
      return fail("expression nested too deeply", peek().column());
    std::size_t column = advance().column();
    NodePtr operand = parseNot();
    if (!operand)
      return nullptr;
    std::vector<NodePtr> operands;
    operands.push_back(std::move(operand));
    return withOperands(makeNode(NodeKind::Not, column), std::move(operands));
  }

  /// The comparison operator at the current token, if any, and how many
  /// tokens it spans ('not in' takes two).
  std::optional<BinaryOp> peekComparison(std::size_t &length) const {
    length = 1;
    switch (peek().kind) {
    case Tok::EqEq:
      return BinaryOp::Eq;
    case Tok::NotEq:
      return BinaryOp::Ne;
    case Tok::Less:
      return BinaryOp::Lt;
    case Tok::LessEq:
      return BinaryOp::Le;
    case Tok::Greater:
      return BinaryOp::Gt;
    case Tok::GreaterEq:
      return BinaryOp::Ge;
    default:
      break;
    }
    if (isKeyword(peek(), "in"))
      return BinaryOp::In;
    if (isKeyword(peek(), "not") && isKeyword(peek(1), "in")) {
      length = 2;
      return BinaryOp::NotIn;
    }
    return std::nullopt;
  }

  // cmp := add ( cmpop add )?
  NodePtr parseCmp() {
    NodePtr lhs = parseAdd();
    std::size_t length = 0;
    std::optional<BinaryOp> op = lhs ? peekComparison(length) : std::nullopt;
    if (!op)
      return lhs;
    std::size_t column = peek().column();
    for (std::size_t k = 0; k < length; ++k)
      advance();
    NodePtr rhs = parseAdd();
    if (!rhs)
      return nullptr;
    // Python would chain `a < b < c`; the grammar has no chains, so say so
    // rather than report a bare unexpected token.
    if (peekComparison(length))
      return fail("comparisons cannot be chained; use 'and'", peek().column());
    return makeBinary(*op, column, std::move(lhs), std::move(rhs));
  }

  // add := mul ( ( '+' | '-' ) mul )*
  NodePtr parseAdd() {
    NodePtr lhs = parseMul();
    while (lhs && (peek().kind == Tok::Plus || peek().kind == Tok::Minus)) {
      BinaryOp op = peek().kind == Tok::Plus ? BinaryOp::Add : BinaryOp::Sub;
      std::size_t column = advance().column();
      NodePtr rhs = parseMul();
      if (!rhs)
        return nullptr;
      lhs = makeBinary(op, column, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  // mul := unary ( ( '*' | '/' | '//' | '%' ) unary )*
  NodePtr parseMul() {
    NodePtr lhs = parseUnary();
    while (lhs) {
      BinaryOp op = BinaryOp::Mul;
      switch (peek().kind) {
      case Tok::Star:
        op = BinaryOp::Mul;
        break;
      case Tok::Slash:
        op = BinaryOp::Div;
        break;
      case Tok::SlashSlash:
        op = BinaryOp::FloorDiv;
        break;
      case Tok::Percent:
        op = BinaryOp::Mod;
        break;
      default:
        return lhs;
      }
      std::size_t column = advance().column();
      NodePtr rhs = parseUnary();
      if (!rhs)
        return nullptr;
      lhs = makeBinary(op, column, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  // unary := '-' unary | postfix
  NodePtr parseUnary() {
    if (peek().kind != Tok::Minus)
      return parsePostfix();
    DepthGuard guard(depth);
    if (depth > MaxDepth)
      return fail("expression nested too deeply", peek().column());
    std::size_t column = advance().column();
    NodePtr operand = parseUnary();
    if (!operand)
      return nullptr;
    std::vector<NodePtr> operands;
    operands.push_back(std::move(operand));
    return withOperands(makeNode(NodeKind::Neg, column), std::move(operands));
  }

  // postfix := primary ( '.' IDENT | '[' expr ']' )*
  NodePtr parsePostfix() {
    std::size_t begin = peek().begin;
    NodePtr base = parsePrimary();
    while (base) {
      std::string subjectText =
          source.substr(begin, tokens[pos - 1].end - begin);
      NodePtr node;
      if (peek().kind == Tok::Dot) {
        advance();
        if (peek().kind != Tok::Ident || isReserved(peek()))
          return fail("expected a name after '.'", peek().column());
        node = makeNode(NodeKind::Attr, peek().column());
        node->name = advance().text;
      } else if (peek().kind == Tok::LBracket) {
        node = makeNode(NodeKind::Index, advance().column());
        NodePtr index = parseExpr();
        if (!index || !expect(Tok::RBracket, "']'"))
          return nullptr;
        node->operands.push_back(std::move(index));
      } else {
        return base;
      }
      node->subjectText = std::move(subjectText);
      std::vector<NodePtr> operands;
      operands.push_back(std::move(base));
      for (NodePtr &operand : node->operands)
        operands.push_back(std::move(operand));
      base = withOperands(std::move(node), std::move(operands));
    }
    return base;
  }

  /// Parses `( expr ( ',' expr )* )? close` after an opening bracket.
  bool parseList(std::vector<NodePtr> &items, Tok close, const char *expected) {
    if (peek().kind == close) {
      advance();
      return true;
    }
    while (true) {
      NodePtr item = parseExpr();
      if (!item)
        return false;
      items.push_back(std::move(item));
      if (peek().kind == Tok::Comma) {
        advance();
        continue;
      }
      if (peek().kind == close) {
        advance();
        return true;
      }
      fail(expected, peek().column());
      return false;
    }
  }

  NodePtr literal(const Token &token, Json value) {
    NodePtr node = makeNode(NodeKind::Literal, token.column());
    node->value = std::move(value);
    return node;
  }

  // primary := INT | FLOAT | STRING | true | false | null | True | False
  //          | None | IDENT | IDENT '(' args ')' | '[' items ']' | '(' expr ')'
  NodePtr parsePrimary() {
    const Token &token = peek();
    switch (token.kind) {
    case Tok::Int:
      return literal(advance(), Json(token.intValue));
    case Tok::Float:
      return literal(advance(), Json(token.floatValue));
    case Tok::String:
      return literal(advance(), Json(token.text));
    case Tok::LParen: {
      advance();
      NodePtr inner = parseExpr();
      if (!inner || !expect(Tok::RParen, "')'"))
        return nullptr;
      return inner;
    }
    case Tok::LBracket: {
      NodePtr node = makeNode(NodeKind::List, advance().column());
      std::vector<NodePtr> items;
      if (!parseList(items, Tok::RBracket, "expected ',' or ']'"))
        return nullptr;
      return withOperands(std::move(node), std::move(items));
    }
    case Tok::Ident:
      return parseWord();
    default:
      return unexpected();
    }
  }

  /// An identifier-like primary: a keyword literal, a call or a name.
  NodePtr parseWord() {
    const Token &token = peek();
    if (token.text == "true" || token.text == "True")
      return literal(advance(), Json(true));
    if (token.text == "false" || token.text == "False")
      return literal(advance(), Json(false));
    if (token.text == "null" || token.text == "None")
      return literal(advance(), Json(nullptr));
    if (isReserved(token))
      return unexpected();
    if (peek(1).kind != Tok::LParen) {
      NodePtr node = makeNode(NodeKind::Name, token.column());
      node->name = advance().text;
      return node;
    }

    const BuiltinInfo *info = nullptr;
    for (const BuiltinInfo &candidate : Builtins)
      if (token.text == candidate.name)
        info = &candidate;
    if (!info)
      return fail("unknown function '" + token.text + "'", token.column());
    NodePtr node = makeNode(NodeKind::Call, token.column());
    node->name = token.text;
    node->builtin = info->id;
    advance(); // name
    advance(); // '('
    std::vector<NodePtr> args;
    if (!parseList(args, Tok::RParen, "expected ',' or ')'"))
      return nullptr;
    // Arity is checked here so that a bad call is a load-time error.
    if (args.size() < info->minArgs || args.size() > info->maxArgs) {
      std::string expected =
          info->minArgs == info->maxArgs
              ? "takes " + std::to_string(info->minArgs) +
                    (info->minArgs == 1 ? " argument" : " arguments")
              : "takes at least " + std::to_string(info->minArgs) + " argument";
      return fail(node->name + "() " + expected + " (" +
                      std::to_string(args.size()) + " given)",
                  node->column);
    }
    return withOperands(std::move(node), std::move(args));
  }
};

//===----------------------------------------------------------------------===//
// Evaluator
//===----------------------------------------------------------------------===//

/// Walks a tree; recursion is bounded by the tree height (<= MaxDepth).
class Evaluator {
public:
  Evaluator(const Json &scope, ExprError &error) : scope(scope), error(error) {}

  std::optional<Json> eval(const ExprNode &node) {
    switch (node.kind) {
    case NodeKind::Literal:
      return node.value;
    case NodeKind::Name: {
      auto it = scope.find(node.name);
      if (it == scope.end())
        return fail("unknown name '" + node.name + "'", node.column);
      return *it;
    }
    case NodeKind::Attr:
      return evalAttr(node);
    case NodeKind::Index:
      return evalIndex(node);
    case NodeKind::Call:
      return evalCall(node);
    case NodeKind::List: {
      Json list = Json::array();
      for (const NodePtr &item : node.operands) {
        std::optional<Json> value = eval(*item);
        if (!value)
          return std::nullopt;
        list.push_back(std::move(*value));
      }
      return list;
    }
    case NodeKind::Neg:
      return evalNeg(node);
    case NodeKind::Not: {
      std::optional<bool> operand = condition(*node.operands[0]);
      if (!operand)
        return std::nullopt;
      return Json(!*operand);
    }
    case NodeKind::Ternary: {
      std::optional<bool> test = condition(*node.operands[0]);
      if (!test)
        return std::nullopt;
      return eval(*node.operands[*test ? 1 : 2]);
    }
    case NodeKind::Binary:
      return evalBinary(node);
    }
    return fail("invalid expression", node.column);
  }

  std::optional<bool> condition(const ExprNode &node) {
    std::optional<Json> value = eval(node);
    if (!value)
      return std::nullopt;
    return isTruthy(*value);
  }

private:
  const Json &scope;
  ExprError &error;

  std::nullopt_t fail(std::string message, std::size_t column) {
    error.message = std::move(message);
    error.column = column;
    return std::nullopt;
  }

  static std::string quoted(const std::string &text) {
    return "'" + text + "'";
  }

  std::optional<Json> missingKey(const ExprNode &node, const std::string &key) {
    return fail(quoted(node.subjectText) + " has no key " +
                    pythonRepr(Json(key)),
                node.column);
  }

  std::optional<Json> evalAttr(const ExprNode &node) {
    std::optional<Json> base = eval(*node.operands[0]);
    if (!base)
      return std::nullopt;
    if (!base->is_object())
      return fail("cannot read '." + node.name + "' of " +
                      quoted(pythonTypeName(*base)),
                  node.column);
    auto it = base->find(node.name);
    if (it == base->end())
      return missingKey(node, node.name);
    return std::move(*it);
  }

  std::optional<Json> evalIndex(const ExprNode &node) {
    std::optional<Json> base = eval(*node.operands[0]);
    if (!base)
      return std::nullopt;
    std::optional<Json> index = eval(*node.operands[1]);
    if (!index)
      return std::nullopt;
    if (base->is_array()) {
      if (!index->is_number_integer())
        return fail("list index must be an int, not " +
                        quoted(pythonTypeName(*index)),
                    node.column);
      auto size = static_cast<std::int64_t>(base->size());
      // Indices beyond int64 (unsigned JSON ints) are out of range anyway.
      std::int64_t at = toInt(*index).value_or(size);
      if (at < 0)
        at += size; // Cannot overflow: size >= 0 and at < 0.
      if (at < 0 || at >= size)
        return fail("list index " + pythonStr(*index) +
                        " out of range for length " + std::to_string(size),
                    node.column);
      return std::move((*base)[static_cast<std::size_t>(at)]);
    }
    if (base->is_object()) {
      const auto *key = index->get_ptr<const Json::string_t *>();
      if (!key)
        return fail("dict key must be a str, not " +
                        quoted(pythonTypeName(*index)),
                    node.column);
      auto it = base->find(*key);
      if (it == base->end())
        return missingKey(node, *key);
      return std::move(*it);
    }
    return fail("cannot index " + quoted(pythonTypeName(*base)), node.column);
  }

  std::optional<Json> evalNeg(const ExprNode &node) {
    std::optional<Json> operand = eval(*node.operands[0]);
    if (!operand)
      return std::nullopt;
    std::optional<Number> number = toNumber(*operand);
    if (!number)
      return fail("bad operand type for unary '-': " +
                      quoted(pythonTypeName(*operand)),
                  node.column);
    if (number->isFloat)
      return Json(-number->f);
    if (number->i == std::numeric_limits<std::int64_t>::min())
      return fail("integer overflow in '-'", node.column);
    return Json(-number->i);
  }

  std::optional<Json> evalBinary(const ExprNode &node) {
    if (node.op == BinaryOp::And || node.op == BinaryOp::Or) {
      std::optional<bool> lhs = condition(*node.operands[0]);
      if (!lhs)
        return std::nullopt;
      // Short-circuit: `false and x` must not read x (it may be undefined
      // exactly when the left side guards against that).
      if (*lhs == (node.op == BinaryOp::Or))
        return Json(*lhs);
      std::optional<bool> rhs = condition(*node.operands[1]);
      if (!rhs)
        return std::nullopt;
      return Json(*rhs);
    }
    std::optional<Json> lhs = eval(*node.operands[0]);
    if (!lhs)
      return std::nullopt;
    std::optional<Json> rhs = eval(*node.operands[1]);
    if (!rhs)
      return std::nullopt;
    const char *spelling = binaryOpSpelling(node.op);
    switch (node.op) {
    case BinaryOp::Eq:
      return Json(valuesEqual(*lhs, *rhs));
    case BinaryOp::Ne:
      return Json(!valuesEqual(*lhs, *rhs));
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge: {
      bool incomparable = false;
      std::optional<int> order = orderValues(*lhs, *rhs, incomparable);
      if (incomparable)
        return fail(std::string("operator '") + spelling + "' cannot compare " +
                        quoted(pythonTypeName(*lhs)) + " and " +
                        quoted(pythonTypeName(*rhs)),
                    node.column);
      if (!order)
        return Json(false); // NaN is unordered.
      bool result = node.op == BinaryOp::Lt   ? *order < 0
                    : node.op == BinaryOp::Le ? *order <= 0
                    : node.op == BinaryOp::Gt ? *order > 0
                                              : *order >= 0;
      return Json(result);
    }
    case BinaryOp::In:
    case BinaryOp::NotIn: {
      std::optional<bool> found = contains(*rhs, *lhs, node);
      if (!found)
        return std::nullopt;
      return Json(*found == (node.op == BinaryOp::In));
    }
    case BinaryOp::Add:
      if (lhs->is_string() && rhs->is_string())
        return Json(*lhs->get_ptr<const Json::string_t *>() +
                    *rhs->get_ptr<const Json::string_t *>());
      if (lhs->is_array() && rhs->is_array()) {
        Json joined = std::move(*lhs);
        for (Json &element : *rhs)
          joined.push_back(std::move(element));
        return joined;
      }
      return arithmetic(node, *lhs, *rhs);
    default: // The other arithmetic operators ('and' and 'or' returned above).
      return arithmetic(node, *lhs, *rhs);
    }
  }

  /// `needle in haystack`: list membership, substring, or dict key.
  std::optional<bool> contains(const Json &haystack, const Json &needle,
                               const ExprNode &node) {
    if (haystack.is_array()) {
      for (const Json &element : haystack)
        if (valuesEqual(element, needle))
          return true;
      return false;
    }
    if (const auto *text = haystack.get_ptr<const Json::string_t *>()) {
      const auto *part = needle.get_ptr<const Json::string_t *>();
      if (!part)
        return fail(std::string("operator '") + binaryOpSpelling(node.op) +
                        "' needs a str on the left of a str, not " +
                        quoted(pythonTypeName(needle)),
                    node.column);
      return text->find(*part) != std::string::npos;
    }
    if (haystack.is_object()) {
      // Keys are strings, so no other value is a key (as in Python).
      const auto *key = needle.get_ptr<const Json::string_t *>();
      return key && haystack.find(*key) != haystack.end();
    }
    return fail(std::string("operator '") + binaryOpSpelling(node.op) +
                    "' needs a list, str or dict on the right, not " +
                    quoted(pythonTypeName(haystack)),
                node.column);
  }

  std::optional<Json> arithmetic(const ExprNode &node, const Json &lhs,
                                 const Json &rhs) {
    const char *spelling = binaryOpSpelling(node.op);
    std::optional<Number> a = toNumber(lhs), b = toNumber(rhs);
    if (!a || !b)
      return fail(std::string("unsupported operand types for '") + spelling +
                      "': " + quoted(pythonTypeName(lhs)) + " and " +
                      quoted(pythonTypeName(rhs)),
                  node.column);
    if (a->isFloat || b->isFloat || node.op == BinaryOp::Div)
      return floatArithmetic(node, a->asDouble(), b->asDouble());

    std::int64_t x = a->i, y = b->i, result = 0;
    bool overflow = false;
    switch (node.op) {
    case BinaryOp::Add:
      overflow = __builtin_add_overflow(x, y, &result);
      break;
    case BinaryOp::Sub:
      overflow = __builtin_sub_overflow(x, y, &result);
      break;
    case BinaryOp::Mul:
      overflow = __builtin_mul_overflow(x, y, &result);
      break;
    case BinaryOp::FloorDiv:
    case BinaryOp::Mod:
      if (y == 0)
        return fail("division by zero", node.column);
      if (y == -1) {
        // INT64_MIN / -1 overflows in C++; x % -1 is always 0.
        if (node.op == BinaryOp::Mod)
          return Json(std::int64_t(0));
        overflow = __builtin_sub_overflow(std::int64_t(0), x, &result);
        break;
      }
      // C++ truncates toward zero; Python floors, so the remainder takes
      // the sign of the divisor.
      if (node.op == BinaryOp::FloorDiv) {
        result = x / y;
        if (x % y != 0 && ((x < 0) != (y < 0)))
          --result;
      } else {
        result = x % y;
        if (result != 0 && ((result < 0) != (y < 0)))
          result += y;
      }
      break;
    default: // evalBinary passes only arithmetic operators.
      return fail("invalid operator", node.column);
    }
    if (overflow)
      return fail(std::string("integer overflow in '") + spelling + "'",
                  node.column);
    return Json(result);
  }

  std::optional<Json> floatArithmetic(const ExprNode &node, double x,
                                      double y) {
    switch (node.op) {
    case BinaryOp::Add:
      return Json(x + y);
    case BinaryOp::Sub:
      return Json(x - y);
    case BinaryOp::Mul:
      return Json(x * y);
    case BinaryOp::Div:
      if (y == 0)
        return fail("division by zero", node.column);
      return Json(x / y);
    case BinaryOp::FloorDiv:
    case BinaryOp::Mod: {
      if (y == 0)
        return fail("division by zero", node.column);
      // CPython's float_divmod, so that results match Python bit for bit.
      double mod = std::fmod(x, y);
      double div = (x - mod) / y;
      if (mod != 0) {
        if ((y < 0) != (mod < 0)) {
          mod += y;
          div -= 1.0;
        }
      } else {
        mod = std::copysign(0.0, y);
      }
      if (node.op == BinaryOp::Mod)
        return Json(mod);
      double floorDiv;
      if (div != 0) {
        floorDiv = std::floor(div);
        if (div - floorDiv > 0.5)
          floorDiv += 1.0;
      } else {
        floorDiv = std::copysign(0.0, x / y);
      }
      return Json(floorDiv);
    }
    default: // arithmetic() passes only arithmetic operators.
      return fail("invalid operator", node.column);
    }
  }

  std::optional<Json> evalCall(const ExprNode &node) {
    std::vector<Json> args;
    for (const NodePtr &operand : node.operands) {
      std::optional<Json> value = eval(*operand);
      if (!value)
        return std::nullopt;
      args.push_back(std::move(*value));
    }
    std::string prefix = node.name + "() ";
    switch (node.builtin) {
    case Builtin::Len: {
      const Json &arg = args[0];
      if (const auto *text = arg.get_ptr<const Json::string_t *>()) {
        // Python counts code points, not UTF-8 bytes.
        std::int64_t count = 0;
        for (char c : *text)
          if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
            ++count;
        return Json(count);
      }
      if (arg.is_array() || arg.is_object())
        return Json(static_cast<std::int64_t>(arg.size()));
      return fail(prefix + "needs a str, list or dict, not " +
                      quoted(pythonTypeName(arg)),
                  node.column);
    }
    case Builtin::Min:
    case Builtin::Max:
      return evalMinMax(node, args);
    case Builtin::CeilDiv: {
      std::optional<std::int64_t> a = toInt(args[0]), b = toInt(args[1]);
      if (!a || !b)
        return fail(prefix + "needs two 64-bit ints, not " +
                        quoted(pythonTypeName(args[0])) + " and " +
                        quoted(pythonTypeName(args[1])),
                    node.column);
      std::int64_t x = *a, y = *b;
      if (y == 0)
        return fail("division by zero", node.column);
      if (y == -1 && x == std::numeric_limits<std::int64_t>::min())
        return fail("integer overflow in ceil_div()", node.column);
      // Round the truncated quotient up when it is positive and inexact.
      std::int64_t quotient = x / y, remainder = x % y;
      if (remainder != 0 && ((remainder < 0) == (y < 0)))
        ++quotient;
      return Json(quotient);
    }
    case Builtin::Lower: {
      const auto *text = args[0].get_ptr<const Json::string_t *>();
      if (!text)
        return fail(prefix + "needs a str, not " +
                        quoted(pythonTypeName(args[0])),
                    node.column);
      std::string lowered = *text;
      for (char &c : lowered)
        if (c >= 'A' && c <= 'Z')
          c = static_cast<char>(c - 'A' + 'a');
      return Json(lowered);
    }
    case Builtin::IsNull:
      return Json(args[0].is_null());
    case Builtin::Type:
      return Json(pythonTypeName(args[0]));
    case Builtin::Str:
      return Json(pythonStr(args[0]));
    }
    return fail("invalid function", node.column);
  }

  /// min/max over the arguments, or over the elements of a single list
  /// argument, as in Python; ties keep the first.
  std::optional<Json> evalMinMax(const ExprNode &node,
                                 const std::vector<Json> &args) {
    std::string prefix = node.name + "() ";
    const std::vector<Json> *values = &args;
    if (args.size() == 1) {
      values = args[0].get_ptr<const Json::array_t *>();
      if (!values)
        return fail(prefix + "of one argument needs a list, not " +
                        quoted(pythonTypeName(args[0])),
                    node.column);
      if (values->empty())
        return fail(prefix + "of an empty list", node.column);
    }
    const Json *best = &values->front();
    for (const Json &value : *values) {
      bool incomparable = false;
      std::optional<int> order = orderValues(value, *best, incomparable);
      if (incomparable)
        return fail(prefix + "cannot compare " + quoted(pythonTypeName(value)) +
                        " and " + quoted(pythonTypeName(*best)),
                    node.column);
      if (order && *order == (node.builtin == Builtin::Min ? -1 : 1))
        best = &value;
    }
    return *best;
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Expr
//===----------------------------------------------------------------------===//

std::optional<Expr> Expr::parse(const std::string &text, ExprError &error) {
  std::vector<Token> tokens;
  if (!lex(text, tokens, error))
    return std::nullopt;
  NodePtr root = Parser(text, tokens, error).parseAll();
  if (!root)
    return std::nullopt;
  Expr expr;
  expr.root = std::move(root);
  expr.source = text;
  return expr;
}

std::optional<Json> Expr::evaluate(const Json &scope, ExprError &error) const {
  // Only a default-constructed Expr has no tree.
  if (!root) {
    error.message = "empty expression";
    error.column = 0;
    return std::nullopt;
  }
  return Evaluator(scope, error).eval(*root);
}

std::optional<bool> Expr::evaluateCondition(const Json &scope,
                                            ExprError &error) const {
  std::optional<Json> value = evaluate(scope, error);
  if (!value)
    return std::nullopt;
  return isTruthy(*value);
}

static void collectNames(const ExprNode &node, std::set<std::string> &names) {
  if (node.kind == NodeKind::Name)
    names.insert(node.name);
  // An Attr's key and a Call's function are not scope names; operands are.
  for (const NodePtr &operand : node.operands)
    collectNames(*operand, names);
}

std::set<std::string> Expr::freeNames() const {
  std::set<std::string> names;
  if (root)
    collectNames(*root, names);
  return names;
}

//===----------------------------------------------------------------------===//
// Templates
//===----------------------------------------------------------------------===//

namespace {

/// A template split into literal text and placeholders.
struct TemplatePiece {
  std::string literal;
  std::optional<Expr> expr;
  /// Columns in the placeholder's expression plus this are template columns.
  std::size_t columnOffset = 0;
};

} // namespace

/// Splits `tmpl` at its `{expr}` placeholders and parses each one; error
/// columns are template columns.
static bool splitTemplate(const std::string &tmpl,
                          std::vector<TemplatePiece> &pieces,
                          ExprError &error) {
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
      return setError(error, "unbalanced '}'", pos);
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
      return setError(error, "unbalanced '{'", pos);
    if (!literal.empty()) {
      pieces.push_back(TemplatePiece{std::move(literal), std::nullopt, 0});
      literal.clear();
    }
    TemplatePiece piece;
    piece.columnOffset = pos + 1;
    piece.expr = Expr::parse(tmpl.substr(pos + 1, close - pos - 1), error);
    if (!piece.expr) {
      if (error.column != 0)
        error.column += piece.columnOffset;
      return false;
    }
    pieces.push_back(std::move(piece));
    pos = close + 1;
  }
  if (!literal.empty())
    pieces.push_back(TemplatePiece{std::move(literal), std::nullopt, 0});
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
