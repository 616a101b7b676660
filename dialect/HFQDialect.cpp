//===- HFQDialect.cpp - The hfq dialect and its method registry -----------===//
//
// The registry the verifiers consult, and how the printer names attributes
// (HFQAttrs.cpp implements them).
//
//===----------------------------------------------------------------------===//

#include "dialect/HFQDialect.h"
#include "spec/BuiltinSpecs.h"

#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"

#include <mutex>

using namespace mlir;
using namespace hfq;

#include "dialect/HFQOpsDialect.cpp.inc"

//===----------------------------------------------------------------------===//
// The method registry
//===----------------------------------------------------------------------===//

namespace {
std::mutex registryMutex;
std::shared_ptr<const spec::MethodRegistry> currentRegistry;
} // namespace

void hfq::setMethodRegistry(
    std::shared_ptr<const spec::MethodRegistry> registry) {
  std::lock_guard<std::mutex> lock(registryMutex);
  currentRegistry = std::move(registry);
}

std::shared_ptr<const spec::MethodRegistry> hfq::getMethodRegistry() {
  std::lock_guard<std::mutex> lock(registryMutex);
  if (!currentRegistry) {
    auto registry = std::make_shared<spec::MethodRegistry>();
    spec::SpecError error;
    // The build checks the shipped specs, so this cannot fail unless the
    // binary was built from a broken tree.
    if (!spec::loadBuiltinSpecs(*registry, error))
      llvm::report_fatal_error(llvm::Twine("hfq: built-in spec is invalid: ") +
                               error.str());
    currentRegistry = std::move(registry);
  }
  return currentRegistry;
}

namespace {
/// Prints each method attribute once, at the top, under its key
/// (`#gptq = #hfq.method<"gptq", {...}>`): resolved configs are long, and a
/// model repeats them on every layer. Layouts likewise (`#layout`, `#layout1`,
/// ...): layers of one shape share one.
struct HFQOpAsmInterface : public OpAsmDialectInterface {
  using OpAsmDialectInterface::OpAsmDialectInterface;

  AliasResult getAlias(Attribute attr, raw_ostream &os) const override {
    if (auto method = dyn_cast<MethodAttr>(attr)) {
      for (char c : method.getKey().getValue())
        os << (llvm::isAlnum(c) ? c : '_');
      return AliasResult::OverridableAlias;
    }
    if (isa<LayoutAttr>(attr)) {
      os << "layout";
      return AliasResult::OverridableAlias;
    }
    return AliasResult::NoAlias;
  }
};
} // namespace

void HFQDialect::initialize() {
  registry = hfq::getMethodRegistry();
  addInterfaces<HFQOpAsmInterface>();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "dialect/HFQOps.cpp.inc"
      >();
}

const spec::MethodRegistry &HFQDialect::getMethodRegistry() const {
  return *registry;
}
