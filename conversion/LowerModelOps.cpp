//===- LowerModelOps.cpp - The decoder's model ops to kernel calls --------===//
//
// Each model op becomes one call of its kernel in the model-op ABI
// (kernels/include/hfq_model_ops.h): the output buffer first, then the
// activations, then the op's scalar attributes as a memref<?xf64> args
// buffer and its weights as a tensor table, in the order the header gives.
//
//===----------------------------------------------------------------------===//

#include "conversion/RuntimeCalls.h"
#include "kernels/include/hfq_model_ops.h"

using namespace mlir;
using namespace hfq;
using namespace hfq::conversion;

namespace {

/// Calls `<kernel>_<act>(y, operands...)` for an op whose one result has
/// the activation type, and replaces the op with the result. `shapeFrom`
/// provides the result's dynamic sizes.
LogicalResult callForResult(Operation *op, PatternRewriter &rewriter,
                            StringRef kernel, Value shapeFrom,
                            ArrayRef<Value> operands) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  std::optional<std::string> act = activationSuffix(type.getElementType());
  if (!act)
    return rewriter.notifyMatchFailure(op, "unsupported activation type");
  Location loc = op->getLoc();
  Value y = allocLike(rewriter, loc, type, shapeFrom);
  SmallVector<Value> all = {dynamicCast(rewriter, loc, y)};
  all.append(operands.begin(), operands.end());
  callKernel(rewriter, loc, op->getParentOfType<ModuleOp>(),
             (kernel + "_" + *act).str(), all);
  rewriter.replaceOp(op, resultTensor(rewriter, loc, type, y));
  return success();
}

/// An activation (or ids/positions) operand as the ABI's dynamic memref.
Value operand(PatternRewriter &rewriter, Location loc, Value tensor) {
  return dynamicCast(rewriter, loc, toBuffer(rewriter, loc, tensor));
}

Value weightTable(PatternRewriter &rewriter, Location loc, Value weight) {
  return buildTable(rewriter, loc, {toBuffer(rewriter, loc, weight)});
}

struct LowerEmbedding : OpRewritePattern<EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    return callForResult(op, rewriter, "hfq_embedding", op.getIds(),
                         {operand(rewriter, loc, op.getIds()),
                          weightTable(rewriter, loc, op.getTable())});
  }
};

struct LowerRmsNorm : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RmsNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    return callForResult(
        op, rewriter, "hfq_rms_norm", op.getInput(),
        {operand(rewriter, loc, op.getInput()),
         buildArgs(rewriter, loc, {op.getEps().convertToDouble()}),
         weightTable(rewriter, loc, op.getWeight())});
  }
};

struct LowerRotary : OpRewritePattern<RotaryOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RotaryOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double args[HFQ_ROPE_ARG_COUNT];
    args[HFQ_ROPE_HEAD_DIM] = static_cast<double>(op.getHeadDim());
    args[HFQ_ROPE_ATTENTION_SCALING] = op.getAttentionScaling().convertToDouble();
    return callForResult(op, rewriter, "hfq_rotary", op.getInput(),
                         {operand(rewriter, loc, op.getInput()),
                          operand(rewriter, loc, op.getPositions()),
                          dynamicCast(rewriter, loc,
                                      constantBuffer(rewriter, loc,
                                                     op.getInvFreq())),
                          buildArgs(rewriter, loc, args)});
  }
};

struct LowerAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double args[HFQ_ATTN_ARG_COUNT];
    args[HFQ_ATTN_LAYER] = static_cast<double>(op.getLayer());
    args[HFQ_ATTN_NUM_HEADS] = static_cast<double>(op.getNumHeads());
    args[HFQ_ATTN_NUM_KV_HEADS] = static_cast<double>(op.getNumKvHeads());
    args[HFQ_ATTN_HEAD_DIM] = static_cast<double>(op.getHeadDim());
    args[HFQ_ATTN_SCALING] = op.getScaling().convertToDouble();
    args[HFQ_ATTN_SLIDING_WINDOW] = static_cast<double>(op.getSlidingWindow());
    return callForResult(op, rewriter, "hfq_attention", op.getQuery(),
                         {operand(rewriter, loc, op.getQuery()),
                          operand(rewriter, loc, op.getKey()),
                          operand(rewriter, loc, op.getValue()),
                          operand(rewriter, loc, op.getPositions()),
                          dynamicCast(rewriter, loc, op.getCache()),
                          buildArgs(rewriter, loc, args)});
  }
};

/// silu_mul and add: y = f(lhs, rhs), elementwise.
template <typename Op>
struct LowerBinary : OpRewritePattern<Op> {
  LowerBinary(MLIRContext *context, StringRef kernel)
      : OpRewritePattern<Op>(context), kernel(kernel) {}
  LogicalResult matchAndRewrite(Op op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value lhs = op->getOperand(0), rhs = op->getOperand(1);
    return callForResult(op, rewriter, kernel, lhs,
                         {operand(rewriter, loc, lhs),
                          operand(rewriter, loc, rhs)});
  }
  StringRef kernel;
};

} // namespace

void hfq::conversion::populateModelOpPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<LowerEmbedding, LowerRmsNorm, LowerRotary, LowerAttention>(
      context);
  patterns.add<LowerBinary<SiluMulOp>>(context, "hfq_silu_mul");
  patterns.add<LowerBinary<AddOp>>(context, "hfq_add");
}
