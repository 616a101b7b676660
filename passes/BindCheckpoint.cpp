//===- BindCheckpoint.cpp - Checkpoint tensors into the IR -----------------===//

#include "passes/Passes.h"
#include "checkpoint/Safetensors.h"

#include "llvm/ADT/StringExtras.h"

#include <map>

namespace hfq {
#define GEN_PASS_DEF_HFQBINDCHECKPOINT
#include "passes/Passes.h.inc"
} // namespace hfq

using namespace mlir;
using namespace hfq;

namespace {

/// The MLIR element type of a safetensors dtype, or null.
Type elementTypeOf(StringRef dtype, MLIRContext *ctx) {
  Builder b(ctx);
  if (dtype == "F32")
    return b.getF32Type();
  if (dtype == "F16")
    return b.getF16Type();
  if (dtype == "BF16")
    return b.getBF16Type();
  if (dtype == "F8_E4M3")
    return Float8E4M3FNType::get(ctx);
  if (dtype == "F8_E5M2")
    return Float8E5M2Type::get(ctx);
  if (dtype == "I8")
    return b.getIntegerType(8);
  if (dtype == "U8")
    return IntegerType::get(ctx, 8, IntegerType::Unsigned);
  if (dtype == "I16")
    return b.getIntegerType(16);
  if (dtype == "I32")
    return b.getIntegerType(32);
  if (dtype == "I64")
    return b.getIntegerType(64);
  return Type();
}

std::string typeString(Type type) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << type;
  return out;
}

struct BindCheckpointPass
    : hfq::impl::HFQBindCheckpointBase<BindCheckpointPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::map<std::string, checkpoint::TensorInfo> tensors;
    SmallVector<StringRef> files;
    StringRef(safetensors).split(files, ',', -1, /*KeepEmpty=*/false);
    if (files.empty()) {
      module.emitError("hfq-bind-checkpoint needs safetensors=<file>[,<file>...]");
      return signalPassFailure();
    }
    for (StringRef file : files) {
      std::string error;
      if (!checkpoint::readSafetensorsHeader(file.trim().str(), tensors, error)) {
        module.emitError(error);
        return signalPassFailure();
      }
    }
    WalkResult result = module.walk([&](WeightOp op) {
      return succeeded(bind(op, tensors)) ? WalkResult::advance()
                                          : WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult bind(WeightOp op,
                     const std::map<std::string, checkpoint::TensorInfo> &tensors) {
    auto it = tensors.find(op.getName().str());
    if (it == tensors.end())
      return op.emitOpError("checkpoint tensor '")
             << op.getName() << "' is in none of the safetensors files";
    const checkpoint::TensorInfo &info = it->second;
    auto type = cast<RankedTensorType>(op.getResult().getType());
    Type element = elementTypeOf(info.dtype, &getContext());
    auto stored = element ? RankedTensorType::get(info.shape, element)
                          : RankedTensorType();
    if (!stored || stored != type)
      return op.emitOpError("checkpoint tensor '")
             << op.getName() << "' in " << info.file << " is " << info.dtype
             << " " << llvm::join(llvm::map_range(info.shape,
                                                  [](int64_t d) {
                                                    return std::to_string(d);
                                                  }),
                                  "x")
             << ", but the IR expects " << typeString(type);
    std::vector<char> bytes;
    std::string error;
    if (!checkpoint::readTensorData(info, bytes, error))
      return op.emitOpError(error);
    int64_t bits = type.getElementTypeBitWidth();
    if (static_cast<int64_t>(bytes.size()) * 8 != type.getNumElements() * bits)
      return op.emitOpError("checkpoint tensor '")
             << op.getName() << "' has " << bytes.size()
             << " bytes of data, expected "
             << type.getNumElements() * bits / 8;
    // safetensors data is little-endian row-major: the raw buffer MLIR's
    // dense attributes hold on the little-endian machines hfq targets.
    auto value = DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(bytes.data(), bytes.size()));
    OpBuilder builder(op);
    Value constant = arith::ConstantOp::create(builder, op.getLoc(), type,
                                               cast<TypedAttr>(value));
    op.getResult().replaceAllUsesWith(constant);
    op.erase();
    return success();
  }
};

} // namespace
