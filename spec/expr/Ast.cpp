//===- Ast.cpp - Built-in functions and operator spellings ----------------===//
//
// The table of built-in functions (name, arity) that the parser checks calls
// against and that builtinFunctionNames() lists, and the spelling of each
// binary operator for error messages.
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Ast.h"

#include <limits>

namespace hfq::spec {
namespace expr {

static const BuiltinInfo Builtins[] = {
    {"len", Builtin::Len, 1, 1},
    {"min", Builtin::Min, 1, std::numeric_limits<std::size_t>::max()},
    {"max", Builtin::Max, 1, std::numeric_limits<std::size_t>::max()},
    {"ceil_div", Builtin::CeilDiv, 2, 2},
    {"lower", Builtin::Lower, 1, 1},
    {"is_null", Builtin::IsNull, 1, 1},
    {"type", Builtin::Type, 1, 1},
    {"str", Builtin::Str, 1, 1},
    {"repr", Builtin::Repr, 1, 1},
    {"get", Builtin::Get, 3, 3},
    {"dict", Builtin::Dict, 0, 0},
};

const BuiltinInfo *findBuiltin(const std::string &name) {
  for (const BuiltinInfo &info : Builtins)
    if (name == info.name)
      return &info;
  return nullptr;
}

const char *binaryOpSpelling(BinaryOp op) {
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

} // namespace expr

const std::vector<std::string> &builtinFunctionNames() {
  static const std::vector<std::string> Names = [] {
    std::vector<std::string> names;
    for (const expr::BuiltinInfo &info : expr::Builtins)
      names.emplace_back(info.name);
    return names;
  }();
  return Names;
}

} // namespace hfq::spec
