//===- LowerWeights.cpp - Checkpoint tensors from the run-time loader -----===//
//
// A model's weights are never constants in the lowered code: their size
// would make compile time and memory grow with the checkpoint. Instead
//
//   hfq.weight "w" : tensor<AxBxbf16>
//     -- hfq-lower-to-runtime -->
//   bufferization.to_tensor (hfq.weight_buffer "w" : memref<AxBxbf16>) restrict
//     -- (bufferization, buffer deallocation) -- hfq-resolve-weights -->
//   func.call @hfq_weight_bf16_2(@name, @shape) -> memref<?x?xbf16>, cast
//
// hfq.weight_buffer owns nothing, so buffer deallocation leaves the
// loader's memory alone; only after deallocation does it become the call
// (a call's memref results would count as owned by the caller). The
// loader (runtime/, docs/runtime.md) returns the tensor's bytes in the
// memory-mapped safetensors file, checked against the name, the element
// type (the symbol) and the shape passed here.
//
//===----------------------------------------------------------------------===//

#include "conversion/RuntimeCalls.h"

namespace hfq {
#define GEN_PASS_DEF_HFQRESOLVEWEIGHTS
#include "conversion/Passes.h.inc"
} // namespace hfq

using namespace mlir;
using namespace hfq;
using namespace hfq::conversion;

namespace {

struct LowerWeight : OpRewritePattern<WeightOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(WeightOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getResult().getType());
    Location loc = op.getLoc();
    Value buffer = WeightBufferOp::create(
        rewriter, loc, MemRefType::get(type.getShape(), type.getElementType()),
        op.getNameAttr());
    rewriter.replaceOpWithNewOp<bufferization::ToTensorOp>(
        op, type, buffer, /*restrict=*/true, /*writable=*/false);
    return success();
  }
};

/// The element type as the loader's symbols spell it (MLIR's own
/// spelling: i8, ui8, bf16, f8E4M3FN, ...).
std::string typeName(Type type) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << type;
  return out;
}

struct ResolveWeightsPass
    : hfq::impl::HFQResolveWeightsBase<ResolveWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<WeightBufferOp> ops;
    module.walk([&](WeightBufferOp op) { ops.push_back(op); });
    for (WeightBufferOp op : ops)
      resolve(module, op);
  }

  void resolve(ModuleOp module, WeightBufferOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    MemRefType type = op.getResult().getType();
    StringRef name = op.getName();
    auto i8 = b.getIntegerType(8);
    SmallVector<int8_t> bytes(name.begin(), name.end());
    Value nameBuffer = dynamicCast(
        b, loc,
        constantBuffer(b, loc,
                       DenseElementsAttr::get(
                           RankedTensorType::get(
                               {static_cast<int64_t>(bytes.size())}, i8),
                           ArrayRef<int8_t>(bytes))));
    SmallVector<int64_t> shape(type.getShape());
    Value shapeBuffer = dynamicCast(
        b, loc,
        constantBuffer(b, loc,
                       DenseElementsAttr::get(
                           RankedTensorType::get(
                               {static_cast<int64_t>(shape.size())},
                               b.getI64Type()),
                           ArrayRef<int64_t>(shape))));
    SmallVector<int64_t> dynamic(type.getRank(), ShapedType::kDynamic);
    auto resultType = MemRefType::get(dynamic, type.getElementType());
    std::string symbol = "hfq_weight_" + typeName(type.getElementType()) +
                         "_" + std::to_string(type.getRank());
    auto fnType = FunctionType::get(
        &getContext(), {nameBuffer.getType(), shapeBuffer.getType()},
        {resultType});
    declare(b, module, symbol, fnType, /*cInterface=*/true);
    Value loaded = func::CallOp::create(b, loc, symbol, TypeRange{resultType},
                                        ValueRange{nameBuffer, shapeBuffer})
                       .getResult(0);
    op.replaceAllUsesWith(memref::CastOp::create(b, loc, type, loaded).getResult());
    op.erase();
  }
};

} // namespace

void hfq::conversion::populateWeightPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerWeight>(patterns.getContext());
}
