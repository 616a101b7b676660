//===- Evaluator.cpp - Evaluator of the expression language ---------------===//
//
// A tree walk with Python's semantics: short-circuit `and`/`or`, floor
// division and modulo that round toward negative infinity (CPython's
// float_divmod for floats), checked 64-bit integer overflow, and the
// built-in functions. Every failure is an ExprError naming the operator or
// function and the Python types involved, as transformers' messages do.
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Evaluator.h"
#include "spec/expr/Values.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

namespace hfq::spec {
namespace expr {

namespace {

/// Walks a tree; recursion is bounded by the tree height (<= MaxDepth).
class Evaluator {
public:
  Evaluator(const Json &scope, ExprError &error, std::size_t &calls)
      : scope(scope), error(error), calls(calls) {}

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
    case NodeKind::Format: {
      std::string text;
      for (const NodePtr &piece : node.operands) {
        std::optional<Json> value = eval(*piece);
        if (!value)
          return std::nullopt;
        text += pythonStr(*value);
      }
      return Json(std::move(text));
    }
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
  /// Spec-defined function calls so far in this evaluation.
  std::size_t &calls;

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
    case Builtin::User:
      return evalUserCall(node, args);
    case Builtin::Dict:
      return Json::object();
    case Builtin::Get: {
      const auto *key = args[1].get_ptr<const Json::string_t *>();
      if (!args[0].is_object() || !key)
        return fail(prefix + "needs a dict and a str key, not " +
                        quoted(pythonTypeName(args[0])) + " and " +
                        quoted(pythonTypeName(args[1])),
                    node.column);
      auto it = args[0].find(*key);
      return it == args[0].end() ? args[2] : *it;
    }
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
    case Builtin::Repr:
      return Json(pythonRepr(args[0]));
    }
    return fail("invalid function", node.column);
  }

  /// min/max over the arguments, or over the elements of a single list
  /// argument, as in Python; ties keep the first.
  /// A spec-defined function: its body in a scope of its parameters; an
  /// error inside points at the call.
  std::optional<Json> evalUserCall(const ExprNode &node,
                                   const std::vector<Json> &args) {
    Json callScope = Json::object();
    for (std::size_t i = 0; i < args.size(); ++i)
      callScope[node.function->params[i]] = args[i];
    if (++calls > limits::kMaxFunctionCalls)
      return fail("more than " + std::to_string(limits::kMaxFunctionCalls) +
                      " function calls in one evaluation",
                  node.column);
    const ExprNode *body = node.function->body.tree();
    if (!body)
      return fail("function " + quoted(node.name) + " has no body",
                  node.column);
    ExprError inner;
    std::optional<Json> value = Evaluator(callScope, inner, calls).eval(*body);
    if (!value)
      return fail("in " + node.name + "(): " + inner.str(), node.column);
    return value;
  }

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

std::optional<Json> evaluateNode(const ExprNode &root, const Json &scope,
                                 ExprError &error) {
  std::size_t calls = 0;
  return Evaluator(scope, error, calls).eval(root);
}

} // namespace expr
} // namespace hfq::spec
