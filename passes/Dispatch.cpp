//===- Dispatch.cpp - transformers' get_hf_quantizer over model IR ---------===//
//
// The decision itself — pre-quantized detection, merge, validation,
// environment, dtype and device map — is dispatchQuantizer() in the spec
// library, shared with the dry-run planner. This pass feeds it from the IR
// and the options, turns its messages into diagnostics, applies the
// method's skip-module policy and rewrites the linear layers.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "quantizer/ModulePlan.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"


namespace hfq {
#define GEN_PASS_DEF_HFQDISPATCH
#include "passes/Passes.h.inc"
} // namespace hfq

using namespace mlir;
using namespace hfq;

namespace {

/// Parses an option that holds JSON inline or as `@file`.
FailureOr<spec::Json> parseJsonOption(ModuleOp module, StringRef option,
                                      StringRef text) {
  std::string source = text.str();
  if (text.starts_with("@")) {
    auto buffer = llvm::MemoryBuffer::getFile(text.drop_front());
    if (!buffer)
      return module.emitError("cannot read ")
             << option << " file '" << text.drop_front()
             << "': " << buffer.getError().message();
    source = (*buffer)->getBuffer().str();
  }
  std::optional<spec::Json> value = spec::parseJson(source);
  // MLIR's pass-option parser strips one pair of braces from a value that
  // starts with '{' (nested options), so `device-map={"lm_head": "cpu"}`
  // arrives as `"lm_head": "cpu"`: put them back.
  if (!value && !text.starts_with("@"))
    value = spec::parseJson("{" + source + "}");
  if (!value)
    return module.emitError("option ")
           << option << " is not valid JSON: '" << source << "'";
  return *value;
}

/// Module attribute `name` as a list of strings (empty when absent).
std::vector<std::string> stringListAttr(ModuleOp module, StringRef name) {
  std::vector<std::string> out;
  if (auto list = module->getAttrOfType<ArrayAttr>(name))
    for (Attribute item : list)
      if (auto s = dyn_cast<StringAttr>(item))
        out.push_back(s.str());
  return out;
}

struct DispatchPass : hfq::impl::HFQDispatchBase<DispatchPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LogicalResult rewrite(LinearOp op, const spec::DispatchDecision &decision,
                        MethodAttr method, const spec::Json &scheme);
  void writeReport(const spec::DispatchDecision &decision,
                   const std::vector<spec::ModulePlan> &modules);
};

} // namespace

void DispatchPass::runOnOperation() {
  ModuleOp module = getOperation();
  const spec::MethodRegistry &registry =
      getContext().getLoadedDialect<HFQDialect>()->getMethodRegistry();

  spec::DispatchInputs inputs;
  if (Attribute attr = module->getAttr("hfq.model_config")) {
    std::optional<spec::Json> config = attributeToJson(attr);
    if (!config || !config->is_object()) {
      module.emitError("'hfq.model_config' must be a dictionary (the "
                       "checkpoint's config.json)");
      return signalPassFailure();
    }
    inputs.modelConfig = *config;
  }
  if (!quantizationConfig.empty()) {
    FailureOr<spec::Json> user =
        parseJsonOption(module, "quantization-config", quantizationConfig);
    if (failed(user))
      return signalPassFailure();
    inputs.userConfig = *user;
  }
  if (!deviceMap.empty()) {
    // A JSON object, possibly with its braces stripped (see
    // parseJsonOption); device names never start with '"'.
    StringRef text = StringRef(deviceMap).trim();
    if (text.starts_with("{") || text.starts_with("\"") ||
        text.starts_with("@")) {
      FailureOr<spec::Json> map = parseJsonOption(module, "device-map", deviceMap);
      if (failed(map))
        return signalPassFailure();
      inputs.deviceMap = *map;
    } else {
      inputs.deviceMap = deviceMap;
    }
  }
  inputs.dtype = dtype;
  inputs.weightsOnly = weightsOnly;
  inputs.target = spec::Target(target);
  if (!inputs.target.valid()) {
    module.emitError(inputs.target.error());
    return signalPassFailure();
  }

  spec::DispatchDecision decision = spec::dispatchQuantizer(registry, inputs);
  for (const spec::DispatchMessage &message : decision.messages) {
    if (message.level == spec::DispatchMessage::Level::Warning)
      module.emitWarning(message.text);
    else if (remarks)
      module.emitRemark(message.text);
  }
  std::vector<spec::ModulePlan> plans;
  if (decision.error) {
    module.emitError(decision.error->str());
    writeReport(decision, plans);
    return signalPassFailure();
  }
  if (!decision.quantizer) {
    writeReport(decision, plans);
    return;
  }

  // The model's own facts that transformers reads off the PyTorch module.
  spec::ModelHints hints;
  hints.outputEmbeddings = stringListAttr(module, "hfq.output_embeddings");
  if (!module->hasAttr("hfq.output_embeddings"))
    module.walk([&](LinearOp op) {
      if (op.getName() == "lm_head")
        hints.outputEmbeddings.push_back("lm_head");
    });
  hints.tiedWeights = stringListAttr(module, "hfq.tied_weights");
  hints.keepInFp32 = stringListAttr(module, "hfq.keep_in_fp32_modules");
  module.walk([&](WeightOp op) { hints.lastParameter = op.getName().str(); });

  SmallVector<LinearOp> linears;
  std::vector<std::string> names;
  module.walk([&](LinearOp op) {
    linears.push_back(op);
    names.push_back(op.getName().str());
  });
  plans = spec::planModules(decision, names, hints);

  const spec::QuantizerSpec &quantizer = *decision.quantizer;
  auto method = MethodAttr::get(
      &getContext(), StringAttr::get(&getContext(), quantizer.key),
      cast<DictionaryAttr>(jsonToAttribute(decision.config, &getContext())));
  for (auto [op, plan] : llvm::zip(linears, plans)) {
    if (!plan.quantized) {
      if (remarks)
        op.emitRemark("not quantized: ") << plan.rule;
    } else if (failed(rewrite(op, decision, method, plan.scheme))) {
      writeReport(decision, plans);
      return signalPassFailure();
    }
  }
  writeReport(decision, plans);
}

LogicalResult DispatchPass::rewrite(LinearOp op,
                                    const spec::DispatchDecision &decision,
                                    MethodAttr method,
                                    const spec::Json &scheme) {
  const spec::QuantizerSpec &quantizer = *decision.quantizer;
  auto weightType = cast<RankedTensorType>(op.getWeight().getType());
  if (!weightType.hasStaticShape())
    return op.emitOpError("needs a static [N, K] weight to be quantized");
  int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
  std::string name = op.getName().str();

  DictionaryAttr schemeAttr;
  if (quantizer.moduleScheme)
    schemeAttr = cast<DictionaryAttr>(jsonToAttribute(scheme, &getContext()));
  std::string error;
  std::optional<std::vector<spec::TensorLayout>> layout =
      spec::resolveLayout(quantizer, decision.config, scheme, n, k, error);
  if (!layout)
    return op.emitOpError("cannot be quantized with '")
           << quantizer.key << "': " << error;

  OpBuilder builder(op);
  SmallVector<Type> packedTypes;
  for (const spec::TensorLayout &tensor : *layout) {
    Type element = parseType(tensor.dtype, &getContext());
    if (!element)
      return op.emitOpError("method '")
             << quantizer.key << "' declares unknown element type '"
             << tensor.dtype << "'";
    packedTypes.push_back(RankedTensorType::get(tensor.shape, element));
  }
  SmallVector<Value> packed;
  if (decision.preQuantized) {
    for (auto [tensor, type] : llvm::zip(*layout, packedTypes))
      packed.push_back(WeightOp::create(
          builder, op.getLoc(), type,
          builder.getStringAttr(name + "." + tensor.name)));
  } else {
    auto quantize = QuantizeOp::create(
        builder, op.getLoc(), packedTypes, builder.getStringAttr(name), op.getWeight(),
        method, schemeAttr);
    llvm::append_range(packed, quantize.getResults());
  }
  auto qlinear = QLinearOp::create(
      builder, op.getLoc(), op.getResult().getType(), builder.getStringAttr(name),
      op.getInput(), packed, op.getBias(), method, schemeAttr,
      /*kernel=*/StringAttr(), /*rejected_kernels=*/ArrayAttr());
  Value oldWeight = op.getWeight();
  op.getResult().replaceAllUsesWith(qlinear.getResult());
  op.erase();
  // A pre-quantized checkpoint has no float weight: drop its binding.
  if (auto weight = oldWeight.getDefiningOp<WeightOp>())
    if (weight->use_empty())
      weight.erase();
  return success();
}

void DispatchPass::writeReport(const spec::DispatchDecision &decision,
                               const std::vector<spec::ModulePlan> &modules) {
  if (report.empty())
    return;
  spec::Json out = spec::Json::object();
  const spec::QuantizerSpec *q = decision.quantizer;
  out["quant_method"] = q ? spec::Json(q->key) : spec::Json();
  out["quantizer_class"] = q ? spec::Json(q->className) : spec::Json();
  out["config_class"] = q ? spec::Json(q->method->config.className) : spec::Json();
  out["pre_quantized"] = decision.preQuantized;
  out["config"] = decision.configDict;
  spec::Json warnings = spec::Json::array(), infos = spec::Json::array();
  for (const spec::DispatchMessage &message : decision.messages)
    (message.level == spec::DispatchMessage::Level::Warning ? warnings : infos)
        .push_back(message.text);
  out["warnings"] = warnings;
  out["infos"] = infos;
  out["error"] = decision.error
                     ? spec::Json{{"kind", decision.error->kind},
                                  {"message", decision.error->message}}
                     : spec::Json();
  out["dtype"] = decision.dtype;
  out["device_map"] = decision.deviceMap;
  out["target"] = target;
  spec::Json list = spec::Json::array();
  for (const spec::ModulePlan &module : modules)
    list.push_back({{"name", module.name},
                    {"action", module.quantized ? "quantized" : "skipped"},
                    {"rule", module.rule},
                    {"method", module.quantized && q ? spec::Json(q->key)
                                                     : spec::Json()}});
  out["modules"] = list;
  // Write through a temporary so a failed run leaves no half-written report.
  std::string tmp = report + ".tmp";
  std::error_code ec;
  {
    llvm::raw_fd_ostream os(tmp, ec);
    if (!ec)
      os << out.dump(2, ' ', false, spec::Json::error_handler_t::replace)
         << "\n";
  }
  if (ec || llvm::sys::fs::rename(tmp, report)) {
    getOperation().emitError("cannot write the report to '") << report << "'";
    signalPassFailure();
  }
}
