//===- SelectKernel.cpp - Choose kernels by the specs' ordered rules -------===//

#include "passes/Passes.h"
#include "dialect/spec/ModulePlan.h"

#include "llvm/Support/raw_ostream.h"

namespace hfq {
#define GEN_PASS_DEF_HFQSELECTKERNEL
#include "passes/Passes.h.inc"
} // namespace hfq

using namespace mlir;
using namespace hfq;

namespace {

/// The MLIR spelling of an element type ("bf16"), used as `act_dtype`.
std::string elementTypeName(Type type) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << type;
  return out;
}

struct SelectKernelPass
    : hfq::impl::HFQSelectKernelBase<SelectKernelPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<spec::Json> targetValue = spec::targetScope(target);
    if (!targetValue) {
      getOperation().emitError("unknown target '")
          << target << "' (expected sm_<NN> such as sm_90, or cpu)";
      return signalPassFailure();
    }
    const spec::MethodRegistry &registry =
        getContext().getLoadedDialect<HFQDialect>()->getMethodRegistry();
    WalkResult result = getOperation().walk([&](QLinearOp op) {
      return succeeded(select(op, registry, *targetValue))
                 ? WalkResult::advance()
                 : WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult select(QLinearOp op, const spec::MethodRegistry &registry,
                       const spec::Json &targetValue) {
    // The verifier has checked the method is registered and the config valid.
    const spec::QuantizerSpec *quantizer =
        registry.lookup(op.getMethod().getKey().str());
    auto input = cast<RankedTensorType>(op.getInput().getType());
    int64_t m = 1;
    for (int64_t d = 0; d + 1 < input.getRank(); ++d)
      m = input.isDynamicDim(d) ? -1 : (m < 0 ? -1 : m * input.getDimSize(d));
    auto result = cast<RankedTensorType>(op.getResult().getType());
    spec::Json scheme =
        op.getScheme() ? *attributeToJson(*op.getScheme()) : spec::Json();
    std::string error;
    std::optional<spec::KernelChoice> choice = spec::selectKernel(
        *quantizer, op.getMethod().getConfigJson(), scheme,
        result.getDimSize(result.getRank() - 1),
        input.getDimSize(input.getRank() - 1), m, targetValue,
        elementTypeName(input.getElementType()), error);
    if (!choice)
      return op.emitOpError(error);
    if (choice->kernel.empty())
      return op.emitOpError("no kernel of method '")
             << quantizer->key << "' accepts this layer on target '" << target
             << "'";
    op.setKernelAttr(StringAttr::get(op.getContext(), choice->kernel));
    return success();
  }
};

} // namespace
