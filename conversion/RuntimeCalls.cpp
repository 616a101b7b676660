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
    if (i.getWidth() == 64 && !i.isUnsigned())
      return HFQ_I64;
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

Value constantBuffer(OpBuilder &b, Location loc, DenseElementsAttr value) {
  ModuleOp module =
      b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  auto tensorType = cast<RankedTensorType>(value.getType());
  auto type =
      MemRefType::get(tensorType.getShape(), tensorType.getElementType());
  std::string typeText;
  llvm::raw_string_ostream(typeText) << tensorType;
  llvm::hash_code hash = llvm::hash_combine(
      typeText, llvm::hash_combine_range(value.getRawData().begin(),
                                         value.getRawData().end()));
  std::string base = "__hfq_const_" + llvm::utohexstr(size_t(hash));
  std::string name = base;
  for (unsigned i = 1;; ++i, name = base + "_" + std::to_string(i)) {
    auto existing = module.lookupSymbol<memref::GlobalOp>(name);
    if (!existing) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(module.getBody());
      memref::GlobalOp::create(b, loc, name, b.getStringAttr("private"), type,
                               value, /*constant=*/true,
                               /*alignment=*/b.getI64IntegerAttr(16));
      break;
    }
    if (existing.getInitialValueAttr() == value)
      break;
  }
  return memref::GetGlobalOp::create(b, loc, type, name);
}

/// A memref<?x8xi64> tensor table describing `buffers`: a constant template
/// (element types, ranks, static sizes) copied once, then the addresses —
/// and any dynamic size — stored. Eight stores a row would make the
/// lowered code, and its compile time, several times larger.
Value buildTable(OpBuilder &b, Location loc, ArrayRef<Value> buffers) {
  int64_t rows = static_cast<int64_t>(buffers.size());
  auto tableType = MemRefType::get({rows, HFQ_TABLE_COLUMNS}, b.getI64Type());
  std::vector<int64_t> cells(static_cast<size_t>(rows * HFQ_TABLE_COLUMNS), 0);
  for (auto [row, buffer] : llvm::enumerate(buffers)) {
    auto type = cast<MemRefType>(buffer.getType());
    int64_t *cell = &cells[row * HFQ_TABLE_COLUMNS];
    cell[1] = dtypeCode(type.getElementType());
    cell[2] = type.getRank();
    for (int64_t d = 0; d < type.getRank() && d < HFQ_MAX_RANK; ++d)
      cell[3 + d] = type.isDynamicDim(d) ? 0 : type.getDimSize(d);
  }
  Value table = memref::AllocaOp::create(b, loc, tableType);
  if (rows > 0)
    memref::CopyOp::create(
        b, loc,
        constantBuffer(b, loc,
                       DenseElementsAttr::get(
                           RankedTensorType::get(tableType.getShape(),
                                                 b.getI64Type()),
                           ArrayRef<int64_t>(cells))),
        table);
  auto store = [&](Value v, int64_t row, int64_t col) {
    memref::StoreOp::create(
        b, loc, arith::IndexCastOp::create(b, loc, b.getI64Type(), v), table,
        ValueRange{indexConstant(b, loc, row), indexConstant(b, loc, col)});
  };
  for (auto [row, buffer] : llvm::enumerate(buffers)) {
    auto type = cast<MemRefType>(buffer.getType());
    store(memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer), row,
          0);
    for (int64_t d = 0; d < type.getRank() && d < HFQ_MAX_RANK; ++d)
      if (type.isDynamicDim(d))
        store(memref::DimOp::create(b, loc, buffer, d), row, 3 + d);
  }
  return memref::CastOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic, HFQ_TABLE_COLUMNS},
                      b.getI64Type()),
      table);
}

/// A memref<?xf64> holding `args`, in order: a constant global shared by
/// every call with the same arguments.
Value buildArgs(OpBuilder &b, Location loc, ArrayRef<double> args) {
  auto dynamic = MemRefType::get({ShapedType::kDynamic}, b.getF64Type());
  if (args.empty())
    return memref::CastOp::create(
        b, loc, dynamic,
        memref::AllocaOp::create(b, loc, MemRefType::get({0}, b.getF64Type())));
  auto type = RankedTensorType::get({static_cast<int64_t>(args.size())},
                                    b.getF64Type());
  return memref::CastOp::create(
      b, loc, dynamic,
      constantBuffer(b, loc, DenseElementsAttr::get(type, args)));
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

/// Emits the call and its status check: one call of hfq_kernel_check, not
/// an scf.if, whose block split per kernel made lowering quadratic in the
/// function's size.
void callKernel(OpBuilder &rewriter, Location loc, ModuleOp module,
                StringRef symbol, ValueRange operands) {
  auto fnType = FunctionType::get(rewriter.getContext(), operands.getTypes(),
                                  {rewriter.getI32Type()});
  declare(rewriter, module, symbol, fnType, /*cInterface=*/true);
  auto checkType =
      FunctionType::get(rewriter.getContext(), {rewriter.getI32Type()}, {});
  declare(rewriter, module, "hfq_kernel_check", checkType,
          /*cInterface=*/false);
  Value status =
      func::CallOp::create(rewriter, loc, symbol,
                           TypeRange{rewriter.getI32Type()}, operands)
          .getResult(0);
  func::CallOp::create(rewriter, loc, "hfq_kernel_check", TypeRange{},
                       ValueRange{status});
}

/// A kernel's output buffer as a tensor: restrict (nothing else aliases
/// it) and not writable, so One-Shot Bufferize copies it before any op
/// writes in place into it, and a later kernel reading it through
/// to_buffer sees the data the kernel wrote. No copy is made otherwise.
Value resultTensor(OpBuilder &b, Location loc, Type type, Value buffer) {
  return bufferization::ToTensorOp::create(b, loc, type, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/false);
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
