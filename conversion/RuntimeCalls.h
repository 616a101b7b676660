//===- RuntimeCalls.h - Building calls of the kernel ABIs -------*- C++ -*-===//
//
// What every lowering pattern of conversion/ shares: the ABI's element-type
// codes and activation suffixes, declarations of external functions, the
// tensor table and args buffers, tensors to buffers and back, and the call
// with its status check (kernels/include/hfq_kernels.h, hfq_model_ops.h).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_CONVERSION_RUNTIMECALLS_H
#define HFQ_CONVERSION_RUNTIMECALLS_H

#include "conversion/Passes.h"

#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace hfq::conversion {

/// The ABI's element type code (HfqDType), or 0 for types it does not carry.
int64_t dtypeCode(mlir::Type type);

/// "f32", "f16" or "bf16": the activation suffix of kernel symbols.
std::optional<std::string> activationSuffix(mlir::Type type);

/// Declares `name` once per module (private; with llvm.emit_c_interface
/// when `cInterface`).
mlir::func::FuncOp declare(mlir::OpBuilder &b, mlir::ModuleOp module,
                           llvm::StringRef name, mlir::FunctionType type,
                           bool cInterface);

mlir::Value indexConstant(mlir::OpBuilder &b, mlir::Location loc, int64_t v);

/// A private constant global holding `value` (one per distinct value in
/// the module), read with memref.get_global.
mlir::Value constantBuffer(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::DenseElementsAttr value);

/// A memref<?x8xi64> tensor table describing `buffers`.
mlir::Value buildTable(mlir::OpBuilder &b, mlir::Location loc,
                       llvm::ArrayRef<mlir::Value> buffers);

/// A memref<?xf64> holding `args`, in order.
mlir::Value buildArgs(mlir::OpBuilder &b, mlir::Location loc,
                      llvm::ArrayRef<double> args);

/// Casts a ranked buffer to all-dynamic dimensions (the ABI's memref types).
mlir::Value dynamicCast(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::Value buffer);

/// The read-only buffer of a tensor value.
mlir::Value toBuffer(mlir::OpBuilder &b, mlir::Location loc,
                     mlir::Value tensor);

/// A fresh buffer for a result of `type` whose dynamic sizes are those of
/// `like` (a tensor of the same rank).
mlir::Value allocLike(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::RankedTensorType type, mlir::Value like);

/// Calls `symbol` (an ABI entry returning an i32 status) with `operands`,
/// and hfq_kernel_fail(status) when the status is non-zero.
void callKernel(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module,
                llvm::StringRef symbol, mlir::ValueRange operands);

/// A kernel's output buffer as a tensor the rest of the IR may use freely.
mlir::Value resultTensor(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Type type, mlir::Value buffer);

/// Collapses a [..., K] tensor to [M, K], and an [M, N] result back.
mlir::Value collapseTo2D(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value tensor);
mlir::Value expandFrom2D(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value tensor,
                         mlir::RankedTensorType resultType);

/// The patterns of the model ops (LowerModelOps.cpp) and of hfq.weight
/// (LowerWeights.cpp).
void populateModelOpPatterns(mlir::RewritePatternSet &patterns);
void populateWeightPatterns(mlir::RewritePatternSet &patterns);

} // namespace hfq::conversion

#endif // HFQ_CONVERSION_RUNTIMECALLS_H
