//===- Passes.h - hfq passes ------------------------------------*- C++ -*-===//
//
// The passes over hfq IR (Passes.td, in pipeline order) and the one place
// that registers them with the pipelines (Pipelines.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_PASSES_PASSES_H
#define HFQ_PASSES_PASSES_H

#include "dialect/HFQDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace hfq {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Registers hfq's passes, the conversion to runtime calls, the pipeline
/// `hfq-lower-to-llvm` and the upstream passes it runs (Pipelines.cpp).
void registerHFQPipelines();

/// Adds the dialects hfq's IR uses before and after lowering, with the
/// interface models bufferization needs.
void registerHFQDialects(mlir::DialectRegistry &registry);

} // namespace hfq

#endif // HFQ_PASSES_PASSES_H
