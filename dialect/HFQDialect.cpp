//===- HFQDialect.cpp - The hfq dialect and its attributes -----------------===//

#include "dialect/HFQDialect.h"
#include "spec/BuiltinSpecs.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

using namespace mlir;
using namespace hfq;

#include "dialect/HFQOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/HFQAttrs.cpp.inc"

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
      llvm::report_fatal_error(
          llvm::Twine("hfq: built-in spec is invalid: ") + error.str());
    currentRegistry = std::move(registry);
  }
  return currentRegistry;
}

namespace {
/// Prints each method attribute once, at the top, under its key
/// (`#gptq = #hfq.method<"gptq", {...}>`): resolved configs are long, and a
/// model repeats them on every layer.
struct HFQOpAsmInterface : public OpAsmDialectInterface {
  using OpAsmDialectInterface::OpAsmDialectInterface;

  AliasResult getAlias(Attribute attr, raw_ostream &os) const override {
    if (auto method = dyn_cast<MethodAttr>(attr)) {
      for (char c : method.getKey().getValue())
        os << (llvm::isAlnum(c) ? c : '_');
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

void HFQDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/HFQAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Config values as attributes
//===----------------------------------------------------------------------===//

Attribute hfq::jsonToAttribute(const spec::Json &value, MLIRContext *context) {
  Builder builder(context);
  switch (value.type()) {
  case spec::Json::value_t::null:
  case spec::Json::value_t::discarded:
    return NoneAttr::get(context);
  case spec::Json::value_t::boolean:
    return builder.getBoolAttr(value.get<bool>());
  case spec::Json::value_t::number_integer:
    return builder.getI64IntegerAttr(value.get<int64_t>());
  case spec::Json::value_t::number_unsigned:
    // Config integers beyond int64 do not occur; keep the bits.
    return builder.getI64IntegerAttr(
        static_cast<int64_t>(value.get<uint64_t>()));
  case spec::Json::value_t::number_float:
    return builder.getF64FloatAttr(value.get<double>());
  case spec::Json::value_t::string:
  case spec::Json::value_t::binary:
    return builder.getStringAttr(value.is_string() ? value.get<std::string>()
                                                   : std::string());
  case spec::Json::value_t::array: {
    SmallVector<Attribute> items;
    for (const spec::Json &item : value)
      items.push_back(jsonToAttribute(item, context));
    return builder.getArrayAttr(items);
  }
  case spec::Json::value_t::object: {
    SmallVector<NamedAttribute> entries;
    for (const auto &item : value.items())
      entries.emplace_back(builder.getStringAttr(item.key()),
                           jsonToAttribute(item.value(), context));
    return builder.getDictionaryAttr(entries);
  }
  }
  return NoneAttr::get(context);
}

std::optional<spec::Json> hfq::attributeToJson(Attribute attr) {
  if (isa<NoneAttr, UnitAttr>(attr))
    return spec::Json(nullptr);
  if (auto b = dyn_cast<BoolAttr>(attr))
    return spec::Json(b.getValue());
  if (auto i = dyn_cast<IntegerAttr>(attr)) {
    if (i.getType().isSignlessInteger(1))
      return spec::Json(i.getValue().getBoolValue());
    // Config ints are int64: read unsigned types as unsigned, and refuse a
    // value that does not fit rather than keep its low bits.
    const APInt &value = i.getValue();
    if (i.getType().isUnsignedInteger()) {
      if (value.getActiveBits() > 63)
        return std::nullopt;
      return spec::Json(static_cast<int64_t>(value.getZExtValue()));
    }
    if (value.getSignificantBits() > 64)
      return std::nullopt;
    return spec::Json(value.getSExtValue());
  }
  if (auto f = dyn_cast<FloatAttr>(attr))
    return spec::Json(f.getValueAsDouble());
  if (auto s = dyn_cast<StringAttr>(attr))
    return spec::Json(s.getValue().str());
  if (auto a = dyn_cast<ArrayAttr>(attr)) {
    spec::Json out = spec::Json::array();
    for (Attribute item : a) {
      std::optional<spec::Json> value = attributeToJson(item);
      if (!value)
        return std::nullopt;
      out.push_back(std::move(*value));
    }
    return out;
  }
  if (auto d = dyn_cast<DictionaryAttr>(attr)) {
    spec::Json out = spec::Json::object();
    for (NamedAttribute entry : d) {
      std::optional<spec::Json> value = attributeToJson(entry.getValue());
      if (!value)
        return std::nullopt;
      out[entry.getName().str()] = std::move(*value);
    }
    return out;
  }
  return std::nullopt;
}

spec::Json MethodAttr::getConfigJson() const {
  std::optional<spec::Json> json = attributeToJson(getConfig());
  return json ? *json : spec::Json::object();
}
