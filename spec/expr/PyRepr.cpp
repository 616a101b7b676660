//===- PyRepr.cpp - Python's str() and repr() of JSON values --------------===//
//
// Messages in specs quote transformers' exceptions, which print values with
// Python's str() and repr(): True/None, single-quoted strings with Python's
// escapes, the shortest round-trip float digits, containers showing their
// elements' repr(). The output must match CPython's to the character.
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Expr.h"
#include "spec/expr/Utf8.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace hfq::spec {

using expr::decodeUtf8;

/// Scope values come from callers and may be nested arbitrarily deep;
/// rendering them recursively stops here.
static constexpr std::size_t MaxValueDepth = 1000;

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

} // namespace hfq::spec
