//===- RuntimeCalls.cpp - Building calls of the kernel ABIs ---------------===//

#include "conversion/RuntimeCalls.h"
#include "kernels/include/hfq_kernels.h"

using namespace mlir;

namespace hfq::conversion {

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
func::FuncOp declare(OpBuilder &rewriter, ModuleOp module, StringRef name,
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

/// A memref<?xf64> holding `args`, in order.
Value buildArgs(OpBuilder &b, Location loc, ArrayRef<double> args) {
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
void callKernel(OpBuilder &rewriter, Location loc, ModuleOp module,
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

namespace {
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
} // namespace

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

Value allocLike(OpBuilder &b, Location loc, RankedTensorType type,
                Value like) {
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamicSizes.push_back(tensor::DimOp::create(b, loc, like, d));
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()),
      dynamicSizes);
}

} // namespace hfq::conversion
