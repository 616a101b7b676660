//===- SelectKernel.cpp - Choose kernels by the specs' ordered rules ------===//
//
// A thin pass over quantizer/KernelRules.h: it reads each quantized op's
// method, scheme and shapes, asks the rules, and records the choice on the
// op (`kernel`, `rejected_kernels`); hfq.quantize gets the method's
// quantizing kernel. With `report=` it writes the dispatch report read off
// the IR (DispatchRecord.h), kernels included.
//
//===----------------------------------------------------------------------===//

#include "passes/DispatchRecord.h"
#include "passes/Passes.h"
#include "quantizer/KernelRules.h"

#include "mlir/IR/Builders.h"

namespace hfq {
#define GEN_PASS_DEF_HFQSELECTKERNEL
#include "passes/Passes.h.inc"
} // namespace hfq

using namespace mlir;
using namespace hfq;

namespace {

/// Activation rows: the product of the input's leading dimensions, -1 when
/// one is dynamic.
int64_t activationRows(RankedTensorType input) {
  int64_t m = 1;
  for (int64_t d = 0; d + 1 < input.getRank(); ++d)
    m = input.isDynamicDim(d) || m < 0 ? -1 : m * input.getDimSize(d);
  return m;
}

struct SelectKernelPass : hfq::impl::HFQSelectKernelBase<SelectKernelPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    spec::CompileTarget target = targetFor(module);
    if (!target.valid()) {
      module.emitError(target.error());
      return signalPassFailure();
    }
    const spec::MethodRegistry &registry =
        getContext().getLoadedDialect<HFQDialect>()->getMethodRegistry();
    WalkResult result = module.walk([&](Operation *op) {
      LogicalResult selected = success();
      if (auto qlinear = dyn_cast<QLinearOp>(op))
        selected = select(qlinear, registry, target);
      else if (auto quantize = dyn_cast<QuantizeOp>(op))
        selected = select(quantize, registry);
      return succeeded(selected) ? WalkResult::advance()
                                 : WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    if (!report.empty() && failed(writeReport(module, report, target.name())))
      signalPassFailure();
  }

  /// The `target` option, else the target --hfq-dispatch decided for, else
  /// sm_90.
  spec::CompileTarget targetFor(ModuleOp module) {
    if (!targetOption.empty())
      return spec::CompileTarget(targetOption);
    if (std::optional<spec::Report> decision = readDispatch(module))
      return spec::CompileTarget(decision->target);
    return spec::CompileTarget("sm_90");
  }

  LogicalResult select(QLinearOp op, const spec::MethodRegistry &registry,
                       const spec::CompileTarget &target) {
    // The verifier has checked the method is registered and the config valid.
    const spec::QuantizerSpec *quantizer =
        registry.lookup(op.getMethod().getKey().str());
    auto input = cast<RankedTensorType>(op.getInput().getType());
    spec::Json scheme =
        op.getScheme() ? attributeToJson(*op.getScheme()).value_or(spec::Json())
                       : spec::Json();
    std::string error;
    std::optional<spec::KernelChoice> choice = spec::selectKernel(
        *quantizer, op.getMethod().getConfigJson(), scheme, op.getN(),
        op.getK(), activationRows(input), target,
        elementTypeName(input.getElementType()), error, forceKernel);
    if (!choice)
      return op.emitOpError(error);
    if (choice->kernel.empty())
      return op.emitOpError("no kernel of method '")
             << quantizer->key << "' accepts this layer on target '"
             << target.name() << "'";
    Builder b(op.getContext());
    op.setKernelAttr(b.getStringAttr(choice->kernel));
    SmallVector<std::string> rejected;
    for (const auto &[name, why] : choice->rejected)
      rejected.push_back(name + ": " + why);
    if (rejected.empty())
      op.removeRejectedKernelsAttr();
    else
      op.setRejectedKernelsAttr(b.getStrArrayAttr(
          SmallVector<StringRef>(rejected.begin(), rejected.end())));
    return success();
  }

  LogicalResult select(QuantizeOp op, const spec::MethodRegistry &registry) {
    const spec::QuantizerSpec *quantizer =
        registry.lookup(op.getMethod().getKey().str());
    std::string kernel = spec::quantizeKernel(*quantizer);
    if (kernel.empty())
      return op.emitOpError("method '")
             << quantizer->key << "' has no kernel to quantize with";
    op.setKernelAttr(Builder(op.getContext()).getStringAttr(kernel));
    return success();
  }
};

} // namespace
