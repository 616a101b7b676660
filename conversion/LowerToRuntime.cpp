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

#include "conversion/Passes.h"
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

namespace {

/// The ABI's element type code (HfqDType), or 0 for types it does not carry.
int64_t dtypeCode(Type type) {
  if (auto i = dyn_cast<IntegerType>(type)) {
    if (i.getWidth() == 8)
      return i.isUnsigned() ? HFQ_U8 : HFQ_I8;
    if (i.getWidth() == 16 && !i.isUnsigned())
      return HFQ_I16;
    if (i.getWidth() == 32 && !i.isUnsigned())
      return HFQ_I32;
    return 0;
  }
  if (type.isF16())
    return HFQ_F16;
  if (type.isBF16())
    return HFQ_BF16;
  if (type.isF32())
    return HFQ_F32;
  if (isa<Float8E4M3FNType>(type))
    return HFQ_F8E4M3FN;
  if (isa<Float8E5M2Type>(type))
    return HFQ_F8E5M2;
  return 0;
}

/// "f32", "f16" or "bf16": the activation suffix of kernel symbols.
std::optional<std::string> activationSuffix(Type type) {
  if (type.isF32())
    return std::string("f32");
  if (type.isF16())
    return std::string("f16");
  if (type.isBF16())
    return std::string("bf16");
  return std::nullopt;
}

/// Declares `name` once per module.
func::FuncOp declare(PatternRewriter &rewriter, ModuleOp module, StringRef name,
                     FunctionType type, bool cInterface) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  auto fn = func::FuncOp::create(rewriter, module.getLoc(), name, type);
  fn.setPrivate();
  if (cInterface)
    fn->setAttr("llvm.emit_c_interface", rewriter.getUnitAttr());
  return fn;
}

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// A memref<?x8xi64> tensor table describing `buffers`.
Value buildTable(OpBuilder &b, Location loc, ArrayRef<Value> buffers) {
  auto tableType =
      MemRefType::get({static_cast<int64_t>(buffers.size()), HFQ_TABLE_COLUMNS},
                      b.getI64Type());
  Value table = memref::AllocaOp::create(b, loc, tableType);
  auto store = [&](Value v, int64_t row, int64_t col) {
    memref::StoreOp::create(
        b, loc, v, table,
        ValueRange{indexConstant(b, loc, row), indexConstant(b, loc, col)});
  };
  auto i64 = [&](int64_t v) {
    return arith::ConstantIntOp::create(b, loc, v, 64).getResult();
  };
  for (auto [row, buffer] : llvm::enumerate(buffers)) {
    auto type = cast<MemRefType>(buffer.getType());
    Value address =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
    store(arith::IndexCastOp::create(b, loc, b.getI64Type(), address), row, 0);
    store(i64(dtypeCode(type.getElementType())), row, 1);
    store(i64(type.getRank()), row, 2);
    for (int64_t d = 0; d < HFQ_MAX_RANK; ++d) {
      Value size = d < type.getRank()
                       ? arith::IndexCastOp::create(
                             b, loc, b.getI64Type(),
                             memref::DimOp::create(b, loc, buffer, d))
                             .getResult()
                       : i64(0);
      store(size, row, 3 + d);
    }
    store(i64(0), row, 7);
  }
  return memref::CastOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic, HFQ_TABLE_COLUMNS},
                      b.getI64Type()),
      table);
}

/// A memref<?xf64> holding the layout's kernel arguments, in order.
Value buildArgs(OpBuilder &b, Location loc, LayoutAttr layout) {
  ArrayRef<double> args = layout.getArgValues().asArrayRef();
  auto type =
      MemRefType::get({static_cast<int64_t>(args.size())}, b.getF64Type());
  Value buffer = memref::AllocaOp::create(b, loc, type);
  for (auto [i, arg] : llvm::enumerate(args))
    memref::StoreOp::create(
        b, loc,
        arith::ConstantFloatOp::create(b, loc, b.getF64Type(), APFloat(arg)),
        buffer, ValueRange{indexConstant(b, loc, i)});
  return memref::CastOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getF64Type()), buffer);
}

/// Casts a ranked buffer to all-dynamic dimensions (the ABI's memref types).
Value dynamicCast(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<int64_t> dynamic(type.getRank(), ShapedType::kDynamic);
  return memref::CastOp::create(
      b, loc, MemRefType::get(dynamic, type.getElementType()), buffer);
}

Value toBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*read_only=*/true);
}

/// Emits the call and its status check.
void callKernel(PatternRewriter &rewriter, Location loc, ModuleOp module,
                StringRef symbol, ValueRange operands) {
  auto fnType = FunctionType::get(rewriter.getContext(), operands.getTypes(),
                                  {rewriter.getI32Type()});
  declare(rewriter, module, symbol, fnType, /*cInterface=*/true);
  auto failType =
      FunctionType::get(rewriter.getContext(), {rewriter.getI32Type()}, {});
  declare(rewriter, module, "hfq_kernel_fail", failType, /*cInterface=*/false);
  Value status =
      func::CallOp::create(rewriter, loc, symbol,
                           TypeRange{rewriter.getI32Type()}, operands)
          .getResult(0);
  Value zero = arith::ConstantIntOp::create(rewriter, loc, 0, 32);
  Value failed = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ne,
                                       status, zero);
  auto ifOp = scf::IfOp::create(rewriter, loc, failed, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(ifOp.thenBlock());
  func::CallOp::create(rewriter, loc, "hfq_kernel_fail", TypeRange{},
                       ValueRange{status});
}

/// Copies a kernel's output tensor into a fresh one. One-Shot Bufferize sees
/// through `to_buffer(to_tensor(%alloc))` to the raw buffer, so a later
/// kernel call reading such a value would be invisible to its in-place
/// analysis, and an elementwise op in between could overwrite the buffer in
/// place. A linalg.copy makes every later read an ordinary tensor use.
/// (Making the hfq ops bufferizable would avoid the copy; see docs/kernels.md.)
Value detach(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamicSizes.push_back(tensor::DimOp::create(b, loc, tensor, d));
  Value empty = tensor::EmptyOp::create(b, loc, type, dynamicSizes);
  return linalg::CopyOp::create(b, loc, tensor, empty).getResult(0);
}

/// A kernel's output buffer as a tensor the rest of the IR may use freely.
Value resultTensor(OpBuilder &b, Location loc, Type type, Value buffer) {
  return detach(b, loc,
                bufferization::ToTensorOp::create(b, loc, type, buffer,
                                                  /*restrict=*/true,
                                                  /*writable=*/true));
}

/// Collapses a [..., K] tensor to [M, K].
Value collapseTo2D(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getRank() == 2)
    return tensor;
  if (type.getRank() == 1)
    return tensor::ExpandShapeOp::create(
        b, loc,
        RankedTensorType::get({1, type.getDimSize(0)}, type.getElementType()),
        tensor, ArrayRef<ReassociationIndices>{{0, 1}});
  ReassociationIndices leading;
  for (int64_t d = 0; d + 1 < type.getRank(); ++d)
    leading.push_back(d);
  return tensor::CollapseShapeOp::create(
      b, loc, tensor,
      ArrayRef<ReassociationIndices>{leading, {type.getRank() - 1}});
}

/// Expands an [M, N] result back to the op's result type.
Value expandFrom2D(OpBuilder &b, Location loc, Value tensor,
                   RankedTensorType resultType) {
  if (resultType.getRank() == 2)
    return tensor;
  if (resultType.getRank() == 1)
    return tensor::CollapseShapeOp::create(
        b, loc, tensor, ArrayRef<ReassociationIndices>{{0, 1}});
  ReassociationIndices leading;
  for (int64_t d = 0; d + 1 < resultType.getRank(); ++d)
    leading.push_back(d);
  return tensor::ExpandShapeOp::create(
      b, loc, resultType, tensor,
      ArrayRef<ReassociationIndices>{leading, {resultType.getRank() - 1}});
}

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
                buildArgs(rewriter, loc, *layout),
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
         buildArgs(rewriter, loc, *layout),
         buildTable(rewriter, loc, outputs)});
    SmallVector<Value> results;
    for (auto [buffer, type] : llvm::zip(outputs, op.getPacked().getTypes()))
      results.push_back(resultTensor(rewriter, loc, type, buffer));
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// hfq.linear: y = x·Wᵀ (+ b) as a linalg contraction.
struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    Value x2d = collapseTo2D(rewriter, loc, op.getInput());
    auto x2dType = cast<RankedTensorType>(x2d.getType());
    Type element = resultType.getElementType();
    int64_t n = resultType.getDimSize(resultType.getRank() - 1);
    auto outType = RankedTensorType::get({x2dType.getDimSize(0), n}, element);
    SmallVector<Value> dynamicSizes;
    if (x2dType.isDynamicDim(0))
      dynamicSizes.push_back(tensor::DimOp::create(rewriter, loc, x2d, 0));
    Value init = tensor::EmptyOp::create(rewriter, loc, outType, dynamicSizes);
    Value zero = arith::ConstantOp::create(rewriter, loc, element,
                                           rewriter.getZeroAttr(element));
    Value filled =
        linalg::FillOp::create(rewriter, loc, zero, init).getResult(0);
    MLIRContext *ctx = getContext();
    AffineExpr m, nn, kk;
    bindDims(ctx, m, nn, kk);
    SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {m, kk}, ctx),
                                   AffineMap::get(3, 0, {nn, kk}, ctx),
                                   AffineMap::get(3, 0, {m, nn}, ctx)};
    Value weight = op.getWeight();
    Value product =
        linalg::GenericOp::create(
            rewriter, loc, outType, ValueRange{x2d, weight}, ValueRange{filled},
            maps,
            ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                          utils::IteratorType::parallel,
                                          utils::IteratorType::reduction},
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value w = args[1];
              if (w.getType() != element)
                w = arith::ExtFOp::create(b, l, element, w);
              Value mul = arith::MulFOp::create(b, l, args[0], w);
              linalg::YieldOp::create(
                  b, l, ValueRange{arith::AddFOp::create(b, l, mul, args[2])});
            })
            .getResult(0);
    if (Value bias = op.getBias()) {
      AffineExpr i, j;
      bindDims(ctx, i, j);
      SmallVector<AffineMap> biasMaps = {AffineMap::get(2, 0, {j}, ctx),
                                         AffineMap::get(2, 0, {i, j}, ctx)};
      product =
          linalg::GenericOp::create(
              rewriter, loc, outType, ValueRange{bias}, ValueRange{product},
              biasMaps,
              ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                            utils::IteratorType::parallel},
              [&](OpBuilder &b, Location l, ValueRange args) {
                Value bv = args[0];
                if (bv.getType() != element)
                  bv = arith::ExtFOp::create(b, l, element, bv);
                linalg::YieldOp::create(
                    b, l, ValueRange{arith::AddFOp::create(b, l, bv, args[1])});
              })
              .getResult(0);
    }
    rewriter.replaceOp(op, expandFrom2D(rewriter, loc, product, resultType));
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
      if (auto w = dyn_cast<WeightOp>(op))
        return w.emitOpError("binds checkpoint tensor '")
                   << w.getName()
                   << "'; bind the checkpoint first "
                      "(--hfq-bind-checkpoint=safetensors=<file>)",
               WalkResult::interrupt();
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
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
    // The model's config and hints are hfq's business; the lowered module
    // must stand alone for tools that do not load the hfq dialect
    // (mlir-runner, mlir-translate).
    for (NamedAttribute attr : llvm::to_vector(module->getAttrs()))
      if (attr.getName().getValue().starts_with("hfq."))
        module->removeAttr(attr.getName());
    WalkResult left = module.walk([](Operation *op) {
      if (isa<QLinearOp, QuantizeOp, LinearOp>(op))
        return op->emitOpError("could not be lowered"), WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
