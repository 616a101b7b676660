//===- Utf8.h - UTF-8 decoding and encoding ---------------------*- C++ -*-===//
//
// Private to spec/expr: the lexer encodes \u escapes and quotes bad
// characters whole, and repr() tells printable text from bytes to escape;
// both go through these two functions.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_EXPR_UTF8_H
#define HFQ_SPEC_EXPR_UTF8_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace hfq::spec {
namespace expr {

/// Decodes the UTF-8 code point starting at `pos`. Returns its length in
/// bytes, or 0 when the bytes there are not valid UTF-8 (overlong forms and
/// surrogates included).
std::size_t decodeUtf8(const std::string &s, std::size_t pos,
                       std::uint32_t &codePoint);

/// Appends `codePoint` (at most 0x10FFFF, not a surrogate) as UTF-8.
void appendUtf8(std::string &out, std::uint32_t codePoint);

} // namespace expr
} // namespace hfq::spec

#endif // HFQ_SPEC_EXPR_UTF8_H
