//===- Values.cpp - Python truthiness, types, equality and order ----------===//
//
// The value semantics the evaluator relies on, kept apart from it so that
// each rule (truthiness, numeric comparison across int and float, deep
// equality, ordering) is stated once. Equality is iterative because scope
// values come from callers and may be nested arbitrarily deep.
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Values.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace hfq::spec {

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

namespace expr {

std::optional<Number> toNumber(const Json &value) {
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

std::optional<std::int64_t> toInt(const Json &value) {
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

// Iterative because scope values may be nested arbitrarily deep.
bool valuesEqual(const Json &lhs, const Json &rhs) {
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

// Strings compare by code point, which the byte order of UTF-8 preserves.
std::optional<int> orderValues(const Json &a, const Json &b,
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

} // namespace expr
} // namespace hfq::spec
