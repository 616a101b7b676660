//===- DispatchRecord.h - The dispatch decision, in the IR ------*- C++ -*-===//
//
// --hfq-dispatch records what it decided on the module, as the attribute
// `hfq.dispatch`: the Report (quantizer/Report.h) without kernels, as a
// #hfq.json (to_dict() and device maps are ordered). Kernel choices ride on
// the ops (`kernel`, `rejected_kernels`). A pass given `report=` writes the
// report read off the IR through the one serializer, so no pass reads a
// file another pass wrote.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_PASSES_DISPATCHRECORD_H
#define HFQ_PASSES_DISPATCHRECORD_H

#include "quantizer/Report.h"

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>

namespace hfq {

/// The name of the module attribute that holds the decision.
inline constexpr llvm::StringLiteral kDispatchAttrName = "hfq.dispatch";

/// Records `report` (its modules without kernels) on `module`.
void recordDispatch(mlir::ModuleOp module, const spec::Report &report);

/// The decision recorded on `module`; nullopt when there is none.
std::optional<spec::Report> readDispatch(mlir::ModuleOp module);

/// Writes the module's report to `path` (through a temporary, so a failed
/// run leaves no half-written file): the recorded decision, each module's
/// kernel choice from its hfq.qlinear, and `kernelTarget` when kernels were
/// selected. Emits an error on `module` and fails when the module carries
/// no decision or the file cannot be written.
mlir::LogicalResult
writeReport(mlir::ModuleOp module, llvm::StringRef path,
            const std::optional<std::string> &kernelTarget = std::nullopt);

} // namespace hfq

#endif // HFQ_PASSES_DISPATCHRECORD_H
