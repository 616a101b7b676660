//===- CheckDeviceResident.cpp - Only kernel calls touch device memory ----===//
//
// For a GPU target the lowering allocates every activation buffer through
// the device runtime (finalize-memref-to-llvm's generic allocation
// functions), and the host passes the KV cache, ids and positions as device
// buffers. Host code may hand such a buffer to a call, view it, read its
// metadata and free it; a load, a store, a copy or a loop over it would
// dereference a device address on the host, and so would the CPU
// quantizer of on-the-fly quantization (hfq.quantize) filling one. This pass proves, before any
// code exists, that the lowered model never does (docs/runtime.md, "The GPU
// target").
//
//===----------------------------------------------------------------------===//

#include "conversion/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace hfq {
#define GEN_PASS_DEF_HFQCHECKDEVICERESIDENT
#include "conversion/Passes.h.inc"
} // namespace hfq

using namespace mlir;

namespace {

/// Ops that use a buffer without reading or writing its elements on the
/// host, and produce nothing that aliases it.
bool touchesOnlyMetadata(Operation *op) {
  return isa<func::CallOp, func::ReturnOp, memref::DeallocOp, memref::DimOp,
             bufferization::DeallocOp>(op);
}

/// The results of `op` that alias the buffer it uses (views, casts, the
/// base buffer of extract_strided_metadata).
SmallVector<Value> aliasesOf(Operation *op) {
  if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(op))
    return {meta.getBaseBuffer()};
  if (isa<ViewLikeOpInterface, memref::CastOp, memref::ReinterpretCastOp>(op))
    return SmallVector<Value>(op->getResults());
  return {};
}

struct CheckDeviceResidentPass
    : hfq::impl::HFQCheckDeviceResidentBase<CheckDeviceResidentPass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](func::FuncOp fn) {
      if (fn.isExternal())
        return WalkResult::advance();
      SmallVector<std::pair<Value, std::string>> roots;
      if (fn.isPublic())
        for (BlockArgument arg : fn.getArguments())
          if (isa<MemRefType>(arg.getType()))
            roots.push_back({arg, "argument #" +
                                      std::to_string(arg.getArgNumber()) +
                                      " of @" + fn.getSymName().str()});
      fn.walk([&](memref::AllocOp alloc) {
        roots.push_back({alloc.getResult(), "a buffer allocated here"});
      });
      for (auto &[root, origin] : roots)
        if (failed(check(root, origin)))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  /// Follows `root` through its aliases; fails at the first use that would
  /// touch its elements on the host.
  LogicalResult check(Value root, const std::string &origin) {
    SmallVector<Value> work{root};
    while (!work.empty()) {
      Value value = work.pop_back_val();
      for (OpOperand &use : value.getUses()) {
        Operation *user = use.getOwner();
        if (auto call = dyn_cast<func::CallOp>(user);
            call && call.getCallee().contains("_quantize_")) {
          InFlightDiagnostic diag = user->emitError()
              << "'" << call.getCallee()
              << "' quantizes on the host into a device buffer: on-the-fly "
                 "quantization is not available for a GPU target; quantize "
                 "and save the checkpoint first, or compile for the CPU";
          diag.attachNote(root.getLoc()) << "the device buffer: " << origin;
          return failure();
        }
        if (isa<memref::ExtractAlignedPointerAsIndexOp>(user)) {
          InFlightDiagnostic diag = user->emitError()
              << "puts a device buffer's address in a tensor table, whose "
                 "tensors the host reads (the packed weights of on-the-fly "
                 "quantization): a GPU target takes pre-quantized checkpoints";
          diag.attachNote(root.getLoc()) << "the device buffer: " << origin;
          return failure();
        }
        if (touchesOnlyMetadata(user))
          continue;
        SmallVector<Value> aliases = aliasesOf(user);
        if (!aliases.empty()) {
          work.append(aliases.begin(), aliases.end());
          continue;
        }
        InFlightDiagnostic diag = user->emitError()
            << "'" << user->getName()
            << "' would read or write device memory on the host: for a GPU "
               "target every activation, the KV cache, ids and positions "
               "live on the device, and only kernel calls may touch them";
        diag.attachNote(root.getLoc()) << "the device buffer: " << origin;
        return failure();
      }
    }
    return success();
  }
};

} // namespace
