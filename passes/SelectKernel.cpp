//===- SelectKernel.cpp - Choose kernels by the specs' ordered rules -------===//

#include "passes/Passes.h"
#include "quantizer/KernelRules.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

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
    spec::Target targetValue(target);
    if (!targetValue.valid()) {
      getOperation().emitError(targetValue.error());
      return signalPassFailure();
    }
    const spec::MethodRegistry &registry =
        getContext().getLoadedDialect<HFQDialect>()->getMethodRegistry();
    WalkResult result = getOperation().walk([&](QLinearOp op) {
      return succeeded(select(op, registry, targetValue))
                 ? WalkResult::advance()
                 : WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    if (!report.empty() && failed(updateReport()))
      signalPassFailure();
  }

  /// Adds the kernel choices to the modules of a dispatch report.
  LogicalResult updateReport() {
    auto buffer = llvm::MemoryBuffer::getFile(report);
    if (!buffer)
      return getOperation().emitError("cannot read the dispatch report '")
             << report << "': " << buffer.getError().message();
    spec::Json json = spec::parseJson((*buffer)->getBuffer().str())
                          .value_or(spec::Json());
    if (!json.is_object() || !json.contains("modules") ||
        !json["modules"].is_array())
      return getOperation().emitError("'")
             << report << "' is not a dispatch report (no \"modules\" list)";
    for (spec::Json &module : json["modules"]) {
      if (!module.is_object() || !module.contains("name") ||
          !module["name"].is_string())
        continue;
      auto it = choices.find(module["name"].get<std::string>());
      if (it == choices.end())
        continue;
      module["kernel"] = it->second.kernel;
      spec::Json rejected = spec::Json::array();
      for (const auto &[name, why] : it->second.rejected)
        rejected.push_back({{"kernel", name}, {"reason", why}});
      module["rejected_kernels"] = rejected;
    }
    std::string tmp = report + ".tmp";
    std::error_code ec;
    {
      llvm::raw_fd_ostream os(tmp, ec);
      if (!ec)
        os << json.dump(2, ' ', false, spec::Json::error_handler_t::replace)
           << "\n";
    }
    if (ec || llvm::sys::fs::rename(tmp, report))
      return getOperation().emitError("cannot write the report to '")
             << report << "'";
    return success();
  }

  std::map<std::string, spec::KernelChoice> choices;

  LogicalResult select(QLinearOp op, const spec::MethodRegistry &registry,
                       const spec::Target &targetValue) {
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
        elementTypeName(input.getElementType()), error, forceKernel);
    if (!choice)
      return op.emitOpError(error);
    if (choice->kernel.empty())
      return op.emitOpError("no kernel of method '")
             << quantizer->key << "' accepts this layer on target '" << target
             << "'";
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
    choices[op.getName().str()] = *choice;
    return success();
  }
};

} // namespace
