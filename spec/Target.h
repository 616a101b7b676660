//===- Target.h - The compile target as an expression value ----*- C++ -*-===//
//
// Kernel rules and environment rules read the machine as `target` (its SM
// version, whether it is CUDA at all). This turns a target name into that
// value; a name it does not know has none, which is how callers validate a
// target.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_TARGET_H
#define HFQ_SPEC_TARGET_H

#include "spec/expr/Expr.h"

#include <optional>
#include <string>

namespace hfq::spec {

/// The `target` value of expressions for a compile target: "sm_90" (also
/// "sm_90a") → {cuda: true, sm: 90, major: 9, minor: 0, name: "sm_90"};
/// "cpu" → {cuda: false, sm: 0, ...}. Returns nullopt for anything else.
std::optional<Json> targetScope(const std::string &target);

} // namespace hfq::spec

#endif // HFQ_SPEC_TARGET_H
