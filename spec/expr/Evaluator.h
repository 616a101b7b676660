//===- Evaluator.h - Evaluator of the expression language -------*- C++ -*-===//
//
// Private to spec/expr: evaluates a syntax tree against a scope.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_EXPR_EVALUATOR_H
#define HFQ_SPEC_EXPR_EVALUATOR_H

#include "spec/expr/Ast.h"

#include <optional>

namespace hfq::spec {
namespace expr {

/// The value of `root` in `scope` (a JSON object of names). On failure
/// returns nullopt and fills `error`.
std::optional<Json> evaluateNode(const ExprNode &root, const Json &scope,
                                 ExprError &error);

} // namespace expr
} // namespace hfq::spec

#endif // HFQ_SPEC_EXPR_EVALUATOR_H
