//===- Values.h - Python's numbers, equality and ordering -------*- C++ -*-===//
//
// Private to spec/expr: how the evaluator (and min/max) see JSON values as
// Python would: ints and floats compared exactly, deep equality with dicts
// equal regardless of key order, and the type pairs that can be ordered.
// The public part (isTruthy, pythonTypeName) is declared in Expr.h.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_EXPR_VALUES_H
#define HFQ_SPEC_EXPR_VALUES_H

#include "spec/expr/Expr.h"

#include <cstdint>
#include <optional>

namespace hfq::spec {
namespace expr {

/// A JSON number as Python sees it. JSON integers beyond int64 (only
/// unsigned ones can be) become floats rather than failing.
struct Number {
  bool isFloat = false;
  std::int64_t i = 0;
  double f = 0;

  double asDouble() const { return isFloat ? f : static_cast<double>(i); }
};

/// The number in `value`, or nullopt for non-numbers. Booleans are not
/// numbers here: specs keep flags and counts apart.
std::optional<Number> toNumber(const Json &value);

/// The int64 in `value`, or nullopt for non-ints and ints beyond int64.
std::optional<std::int64_t> toInt(const Json &value);

/// Python `==`: deep, with ints equal to floats of the same value and dicts
/// equal regardless of key order.
bool valuesEqual(const Json &lhs, const Json &rhs);

/// Three-way ordering of two values for <, <=, >, >=, min and max: numbers
/// with numbers and strings with strings (by code point). `incomparable` is
/// set for other type pairs; nullopt without it means unordered (NaN).
std::optional<int> orderValues(const Json &a, const Json &b,
                               bool &incomparable);

} // namespace expr
} // namespace hfq::spec

#endif // HFQ_SPEC_EXPR_VALUES_H
