//===- HFQModelOps.cpp - verifiers of the decoder's model ops -------------===//
//
// Shapes are checked where they are static; a dynamic dimension (the token
// count T of a prefill) is left to the kernel, which checks every size it
// receives (kernels/include/hfq_model_ops.h).
//
//===----------------------------------------------------------------------===//

#include "dialect/HFQDialect.h"

using namespace mlir;
using namespace hfq;

namespace {

bool isActivationType(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

bool sameOrDynamic(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// A `[T, width]` activation tensor of f32, f16 or bf16 (width unchecked
/// when `width` is dynamic).
LogicalResult verifyActivation(Operation *op, StringRef what, Type type,
                               int64_t width = ShapedType::kDynamic) {
  auto tensor = cast<RankedTensorType>(type);
  if (tensor.getRank() != 2 || !isActivationType(tensor.getElementType()))
    return op->emitOpError() << what
                             << " must be a 2-D tensor of f32, f16 or bf16, got "
                             << type;
  if (!sameOrDynamic(tensor.getDimSize(1), width))
    return op->emitOpError() << what << " must have " << width
                             << " columns, got " << type;
  return success();
}

/// Positions: `[T]` i64 with T matching `rows` where both are static.
LogicalResult verifyPositions(Operation *op, Value positions, int64_t rows) {
  auto type = cast<RankedTensorType>(positions.getType());
  if (type.getRank() != 1 || !sameOrDynamic(type.getDimSize(0), rows))
    return op->emitOpError("positions must be [T] with T = ")
           << rows << ", got " << type;
  return success();
}

LogicalResult verifyWeightVector(Operation *op, Type type, int64_t width) {
  auto tensor = cast<RankedTensorType>(type);
  if (tensor.getRank() != 1 || !isActivationType(tensor.getElementType()) ||
      !sameOrDynamic(tensor.getDimSize(0), width))
    return op->emitOpError("weight must be a [")
           << width << "] tensor of f32, f16 or bf16, got " << type;
  return success();
}

} // namespace

LogicalResult EmbeddingOp::verify() {
  auto table = cast<RankedTensorType>(getTable().getType());
  if (table.getRank() != 2 || !isActivationType(table.getElementType()))
    return emitOpError("table must be a [V, H] tensor of f32, f16 or bf16, got ")
           << table;
  if (cast<RankedTensorType>(getIds().getType()).getRank() != 1)
    return emitOpError("ids must be a 1-D tensor [T]");
  if (failed(verifyActivation(*this, "result", getResult().getType(),
                              table.getDimSize(1))))
    return failure();
  return verifyPositions(*this, getIds(),
                         getResult().getType().getDimSize(0));
}

LogicalResult RmsNormOp::verify() {
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type must be the input's");
  auto input = cast<RankedTensorType>(getInput().getType());
  if (failed(verifyActivation(*this, "input", input)))
    return failure();
  if (!(getEps().convertToDouble() >= 0))
    return emitOpError("eps must be >= 0");
  return verifyWeightVector(*this, getWeight().getType(), input.getDimSize(1));
}

LogicalResult RotaryOp::verify() {
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type must be the input's");
  auto input = cast<RankedTensorType>(getInput().getType());
  if (failed(verifyActivation(*this, "input", input)))
    return failure();
  int64_t headDim = getHeadDim();
  if (headDim <= 0 || headDim % 2)
    return emitOpError("head_dim must be even and positive, got ") << headDim;
  if (getInvFreq().getType().getRank() != 1 ||
      getInvFreq().getNumElements() != headDim / 2)
    return emitOpError("inv_freq must hold head_dim / 2 = ")
           << headDim / 2 << " frequencies, got " << getInvFreq().getType();
  if (!input.isDynamicDim(1) && input.getDimSize(1) % headDim)
    return emitOpError("input width ")
           << input.getDimSize(1) << " is not a multiple of head_dim "
           << headDim;
  return verifyPositions(*this, getPositions(), input.getDimSize(0));
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads % kvHeads)
    return emitOpError("heads (")
           << heads << ") must be a positive multiple of kv_heads (" << kvHeads
           << ") and head_dim (" << headDim << ") positive";
  if (getLayer() < 0 || getSlidingWindow() < 0)
    return emitOpError("layer and window must be >= 0");
  auto query = cast<RankedTensorType>(getQuery().getType());
  if (failed(verifyActivation(*this, "query", query, heads * headDim)) ||
      failed(verifyActivation(*this, "key", getKey().getType(),
                              kvHeads * headDim)) ||
      failed(verifyActivation(*this, "value", getValue().getType(),
                              kvHeads * headDim)) ||
      failed(verifyActivation(*this, "result", getResult().getType(),
                              heads * headDim)))
    return failure();
  Type element = query.getElementType();
  for (Value v : {getKey(), getValue(), getResult()})
    if (cast<RankedTensorType>(v.getType()).getElementType() != element)
      return emitOpError("query, key, value and result must share one "
                         "element type");
  auto cache = cast<MemRefType>(getCache().getType());
  if (cache.getRank() != 5 || cache.getElementType() != element ||
      !sameOrDynamic(cache.getDimSize(1), 2) ||
      !sameOrDynamic(cache.getDimSize(3), kvHeads) ||
      !sameOrDynamic(cache.getDimSize(4), headDim))
    return emitOpError("cache must be memref<L x 2 x S x ")
           << kvHeads << " x " << headDim << " x " << element << ">, got "
           << cache;
  if (!cache.isDynamicDim(0) && static_cast<int64_t>(getLayer()) >= cache.getDimSize(0))
    return emitOpError("layer ")
           << getLayer() << " is outside the cache's " << cache.getDimSize(0)
           << " layers";
  return verifyPositions(*this, getPositions(), query.getDimSize(0));
}

/// silu_mul and add: both operands and the result have one type.
static LogicalResult verifyElementwise(Operation *op) {
  Type type = op->getResult(0).getType();
  if (op->getOperand(0).getType() != type ||
      op->getOperand(1).getType() != type)
    return op->emitOpError("operands and result must have one type");
  return verifyActivation(op, "operands", type);
}

LogicalResult SiluMulOp::verify() { return verifyElementwise(*this); }

LogicalResult AddOp::verify() { return verifyElementwise(*this); }
