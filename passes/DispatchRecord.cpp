//===- DispatchRecord.cpp - The dispatch decision, carried in the IR ------===//

#include "passes/DispatchRecord.h"
#include "dialect/HFQDialect.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;

namespace hfq {

void recordDispatch(ModuleOp module, const spec::Report &report) {
  spec::Report recorded = report;
  for (spec::ModuleReport &entry : recorded.modules)
    entry.kernel.reset();
  module->setAttr(
      kDispatchAttrName,
      JsonAttr::get(module.getContext(), spec::reportToJson(recorded)));
}

std::optional<spec::Report> readDispatch(ModuleOp module) {
  auto attr = module->getAttrOfType<JsonAttr>(kDispatchAttrName);
  if (!attr)
    return std::nullopt;
  std::string ignored;
  return spec::reportFromJson(attr.getJson(), ignored);
}

/// The kernel choice a hfq.qlinear records: `kernel`, and each
/// `rejected_kernels` entry "<kernel>: <reason>".
static std::optional<spec::KernelChoice> kernelChoiceOf(QLinearOp op) {
  if (!op.getKernel())
    return std::nullopt;
  spec::KernelChoice choice;
  choice.kernel = op.getKernel()->str();
  if (ArrayAttr rejected = op.getRejectedKernelsAttr())
    for (StringRef entry : rejected.getAsValueRange<StringAttr>()) {
      auto [name, why] = entry.split(": ");
      choice.rejected.emplace_back(name.str(), why.str());
    }
  return choice;
}

LogicalResult writeReport(ModuleOp module, StringRef path,
                          const std::optional<std::string> &kernelTarget) {
  std::optional<spec::Report> report = readDispatch(module);
  if (!report)
    return module.emitError("cannot read the dispatch report '")
           << path << "' from this module: it carries no '" << kDispatchAttrName
           << "' decision (run --hfq-dispatch first)";
  std::map<std::string, spec::KernelChoice> choices;
  module.walk([&](QLinearOp op) {
    if (std::optional<spec::KernelChoice> choice = kernelChoiceOf(op))
      choices[op.getName().str()] = std::move(*choice);
  });
  for (spec::ModuleReport &entry : report->modules) {
    auto it = choices.find(entry.name);
    if (it != choices.end())
      entry.kernel = it->second;
  }
  report->kernelTarget = kernelTarget;

  std::string tmp = (path + ".tmp").str();
  std::error_code ec;
  {
    llvm::raw_fd_ostream os(tmp, ec);
    if (!ec)
      os << spec::reportToJson(*report).dump(
                2, ' ', false, spec::Json::error_handler_t::replace)
         << "\n";
  }
  if (ec || llvm::sys::fs::rename(tmp, path))
    return module.emitError("cannot write the report to '") << path << "'";
  return success();
}

} // namespace hfq
