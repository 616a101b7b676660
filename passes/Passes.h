//===- Passes.h - hfq passes -----------------------------------*- C++ -*-===//

#ifndef HFQ_PASSES_PASSES_H
#define HFQ_PASSES_PASSES_H

#include "dialect/HFQDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace hfq {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace hfq

#endif // HFQ_PASSES_PASSES_H
