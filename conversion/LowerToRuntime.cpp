//===- LowerToRuntime.cpp - hfq ops to calls of the kernel ABI ------------===//
//
// Each quantized op becomes one call through kernels/include/hfq_kernels.h:
//
//   %st = func.call @<kernel>_<act>(%y, %x, %bias, %args, %table) -> i32
//   scf.if (%st != 0) { func.call @hfq_kernel_fail(%st) }
//
// The packed tensors travel in a tensor table (address, element type, rank,
// sizes per row) so that one signature serves every layout of every method.
// The table is filled with `memref.extract_aligned_pointer_as_index` of each
// operand's buffer; the buffers stay alive across the call because the call
// uses the table in the same block.
//
//===----------------------------------------------------------------------===//

#include "conversion/RuntimeCalls.h"
#include "kernels/include/hfq_kernels.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace hfq {
#define GEN_PASS_DEF_HFQLOWERTORUNTIME
#include "conversion/Passes.h.inc"
} // namespace hfq

using namespace mlir;
using namespace hfq;
using namespace hfq::conversion;

namespace {

/// The op's layout (recorded by --hfq-dispatch, else the registry's), or an
/// error on the op.
template <typename QuantizedOp> FailureOr<LayoutAttr> layoutOf(QuantizedOp op) {
  std::string error;
  LayoutAttr layout = op.getPackedLayout(error);
  if (!layout)
    return op.emitOpError("method '")
           << op.getMethod().getKey().getValue() << "' " << error;
  return layout;
}

struct LowerQLinear : OpRewritePattern<QLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    std::optional<std::string> act =
        activationSuffix(inputType.getElementType());
    if (!op.getKernel() || !act)
      return rewriter.notifyMatchFailure(op, "no kernel or unsupported dtype");
    int64_t n = op.getN();
    FailureOr<LayoutAttr> layout = layoutOf(op);
    if (failed(layout))
      return failure();

    Value x2d = collapseTo2D(rewriter, loc, op.getInput());
    auto x2dType = cast<RankedTensorType>(x2d.getType());
    Type element = inputType.getElementType();
    SmallVector<Value> dynamicSizes;
    if (x2dType.isDynamicDim(0))
      dynamicSizes.push_back(tensor::DimOp::create(rewriter, loc, x2d, 0));
    Value y = memref::AllocOp::create(
        rewriter, loc, MemRefType::get({x2dType.getDimSize(0), n}, element),
        dynamicSizes);
    Value bias = op.getBias()
                     ? toBuffer(rewriter, loc, op.getBias())
                     : memref::AllocaOp::create(rewriter, loc,
                                                MemRefType::get({0}, element))
                           .getResult();
    SmallVector<Value> packed;
    for (Value tensor : op.getPacked())
      packed.push_back(toBuffer(rewriter, loc, tensor));

    ModuleOp module = op->getParentOfType<ModuleOp>();
    std::string symbol = op.getKernel()->str() + "_" + *act;
    callKernel(rewriter, loc, module, symbol,
               {dynamicCast(rewriter, loc, y),
                dynamicCast(rewriter, loc, toBuffer(rewriter, loc, x2d)),
                dynamicCast(rewriter, loc, bias),
                buildArgs(rewriter, loc, layout->getArgValues().asArrayRef()),
                buildTable(rewriter, loc, packed)});
    Value result = resultTensor(
        rewriter, loc,
        RankedTensorType::get({x2dType.getDimSize(0), n}, element), y);
    rewriter.replaceOp(op, expandFrom2D(rewriter, loc, result, resultType));
    return success();
  }
};

struct LowerQuantize : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    std::optional<std::string> wt =
        activationSuffix(weightType.getElementType());
    if (!op.getKernel() || !wt)
      return rewriter.notifyMatchFailure(op, "no kernel or unsupported dtype");
    FailureOr<LayoutAttr> layout = layoutOf(op);
    if (failed(layout))
      return failure();
    std::string symbol = op.getKernel()->str() + "_quantize_" + *wt;

    SmallVector<Value> outputs;
    for (Type type : op.getPacked().getTypes()) {
      auto tensorType = cast<RankedTensorType>(type);
      outputs.push_back(memref::AllocOp::create(
          rewriter, loc,
          MemRefType::get(tensorType.getShape(), tensorType.getElementType())));
    }
    callKernel(
        rewriter, loc, op->getParentOfType<ModuleOp>(), symbol,
        {dynamicCast(rewriter, loc, toBuffer(rewriter, loc, op.getWeight())),
         buildArgs(rewriter, loc, layout->getArgValues().asArrayRef()),
         buildTable(rewriter, loc, outputs)});
    SmallVector<Value> results;
    for (auto [buffer, type] : llvm::zip(outputs, op.getPacked().getTypes()))
      results.push_back(resultTensor(rewriter, loc, type, buffer));
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// hfq.linear: the unquantized nn.Linear, a call of hfq_linear_<act>
/// (hfq_model_ops.h) with the weight [N, K] as the one packed tensor, so
/// that a GPU runtime serves it like every other layer.
struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    Type element = resultType.getElementType();
    std::optional<std::string> act = activationSuffix(element);
    if (!act)
      return rewriter.notifyMatchFailure(op, "unsupported dtype");
    Value x2d = collapseTo2D(rewriter, loc, op.getInput());
    auto x2dType = cast<RankedTensorType>(x2d.getType());
    int64_t n = resultType.getDimSize(resultType.getRank() - 1);
    auto outType = RankedTensorType::get({x2dType.getDimSize(0), n}, element);
    Value y = allocLike(rewriter, loc, outType, x2d);
    Value bias = op.getBias()
                     ? toBuffer(rewriter, loc, op.getBias())
                     : memref::AllocaOp::create(rewriter, loc,
                                                MemRefType::get({0}, element))
                           .getResult();
    callKernel(rewriter, loc, op->getParentOfType<ModuleOp>(),
               "hfq_linear_" + *act,
               {dynamicCast(rewriter, loc, y),
                dynamicCast(rewriter, loc, toBuffer(rewriter, loc, x2d)),
                dynamicCast(rewriter, loc, bias), buildArgs(rewriter, loc, {}),
                buildTable(rewriter, loc,
                           {toBuffer(rewriter, loc, op.getWeight())})});
    rewriter.replaceOp(
        op, expandFrom2D(rewriter, loc, resultTensor(rewriter, loc, outType, y),
                         resultType));
    return success();
  }
};

struct LowerToRuntimePass
    : hfq::impl::HFQLowerToRuntimeBase<LowerToRuntimePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Preconditions the patterns rely on, reported on the op at fault.
    WalkResult check = module.walk([&](Operation *op) {
      if (auto q = dyn_cast<QLinearOp>(op)) {
        if (!q.getKernel())
          return q.emitOpError("has no kernel; run --hfq-select-kernel first"),
                 WalkResult::interrupt();
        if (!activationSuffix(q.getInput().getType().getElementType()))
          return q.emitOpError("activations must be f32, f16 or bf16 for the "
                               "kernel ABI, got ")
                     << q.getInput().getType().getElementType(),
                 WalkResult::interrupt();
        for (Value packed : q.getPacked())
          if (!dtypeCode(
                  cast<RankedTensorType>(packed.getType()).getElementType()) ||
              cast<RankedTensorType>(packed.getType()).getRank() > HFQ_MAX_RANK)
            return q.emitOpError("packed tensor of type ")
                       << packed.getType() << " cannot cross the kernel ABI",
                   WalkResult::interrupt();
      }
      if (auto qz = dyn_cast<QuantizeOp>(op)) {
        if (!qz.getKernel())
          return qz.emitOpError("has no kernel; run --hfq-select-kernel first"),
                 WalkResult::interrupt();
        if (!activationSuffix(qz.getWeight().getType().getElementType()))
          return qz.emitOpError("weight must be f32, f16 or bf16"),
                 WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (check.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerQLinear, LowerQuantize, LowerLinear>(&getContext());
    populateModelOpPatterns(patterns);
    populateWeightPatterns(patterns);
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
    // The model's config and hints are hfq's business; the lowered module
    // must stand alone for tools that do not load the hfq dialect
    // (mlir-runner, mlir-translate).
    for (NamedAttribute attr : llvm::to_vector(module->getAttrs()))
      if (attr.getName().getValue().starts_with("hfq."))
        module->removeAttr(attr.getName());
    WalkResult left = module.walk([](Operation *op) {
      if (isa<HFQDialect>(op->getDialect()) && !isa<WeightBufferOp>(op))
        return op->emitOpError("could not be lowered"), WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
