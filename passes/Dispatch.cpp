//===- Dispatch.cpp - transformers' get_hf_quantizer over model IR --------===//
//
// The decision itself — pre-quantized detection, merge, validation,
// environment, dtype and device map — is dispatchQuantizer() in quantizer/,
// shared with the dry-run planner. This pass feeds it from the IR and the
// options, turns its messages into diagnostics, applies the method's
// skip-module policy, rewrites the linear layers with their layouts
// resolved once, here, and records the decision on the module
// (DispatchRecord.h), from which `report=` is written.
//
//===----------------------------------------------------------------------===//

#include "passes/DispatchRecord.h"
#include "passes/Passes.h"
#include "quantizer/ModulePlan.h"
#include "spec/Input.h"

#include "mlir/IR/Builders.h"

#include <cstring>

namespace hfq {
#define GEN_PASS_DEF_HFQDISPATCH
#include "passes/Passes.h.inc"
} // namespace hfq

using namespace mlir;
using namespace hfq;

namespace {

/// Parses an option that holds JSON inline or as `@file`, under the limits
/// of spec/Limits.h: the file must be a regular file of at most
/// kMaxJsonFileBytes (not /dev/zero), the JSON nested at most kMaxJsonDepth.
FailureOr<spec::Json> parseJsonOption(ModuleOp module, StringRef option,
                                      StringRef text) {
  std::string source = text.str(), error;
  bool fromFile = text.starts_with("@");
  if (fromFile &&
      !spec::readInputFile(text.drop_front().str(),
                           (option + " file").str().c_str(), source, error))
    return module.emitError("cannot read ")
           << option << " file '" << text.drop_front() << "': " << error;
  spec::Json value;
  spec::JsonParseError parseError;
  bool parsed = spec::parseJsonText(source, value, parseError);
  // MLIR's pass-option parser strips one pair of braces from a value that
  // starts with '{' (nested options), so `device-map={"lm_head": "cpu"}`
  // arrives as `"lm_head": "cpu"`: put them back.
  spec::JsonParseError braced;
  if (!parsed && !fromFile &&
      spec::parseJsonText("{" + source + "}", value, braced))
    return value;
  if (parsed)
    return value;
  // An object whose braces were stripped: its own error says more.
  if (!fromFile && !text.starts_with("{") &&
      source.find(':') != std::string::npos) {
    source = "{" + source + "}";
    parseError = braced;
  }
  std::string where = fromFile ? text.drop_front().str() : std::string();
  if (parseError.message.rfind("invalid JSON", 0) == 0)
    return module.emitError("option ")
           << option << " is not valid JSON: "
           << (fromFile ? "(" + where + ")"
                        : "'" + spec::quoteLimited(source) + "'")
           << ": " << parseError.message.substr(strlen("invalid JSON: "));
  // A limit: valid JSON that hfq does not read.
  return module.emitError("option ")
         << option << (fromFile ? " (" + where + ")" : std::string()) << ": "
         << (parseError.pointer.empty() ? "" : parseError.pointer + ": ")
         << parseError.message;
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

/// The model's own facts that transformers reads off the PyTorch module.
spec::ModelHints modelHints(ModuleOp module) {
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
  return hints;
}

struct DispatchPass : hfq::impl::HFQDispatchBase<DispatchPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  FailureOr<spec::DispatchInputs> readInputs(ModuleOp module);
  void emitMessages(ModuleOp module, const spec::DispatchDecision &decision);
  LogicalResult rewriteModules(ModuleOp module,
                               const spec::DispatchDecision &decision,
                               std::vector<spec::ModulePlan> &plans);
  LogicalResult rewrite(LinearOp op, const spec::DispatchDecision &decision,
                        MethodAttr method, const spec::Json &scheme);
};

} // namespace

/// What from_pretrained receives, from the IR and the options; the target
/// is parsed here, once.
FailureOr<spec::DispatchInputs> DispatchPass::readInputs(ModuleOp module) {
  spec::DispatchInputs inputs;
  if (Attribute attr = module->getAttr("hfq.model_config")) {
    std::string pointer, problem;
    std::optional<spec::Json> config = attributeToJson(attr, pointer, problem);
    if (!config)
      return module.emitError("'hfq.model_config' at ")
             << (pointer.empty() ? "/" : pointer) << ": " << problem;
    if (!config->is_object())
      return module.emitError("'hfq.model_config' must be a dictionary (the "
                              "checkpoint's config.json)");
    inputs.modelConfig = *config;
  }
  if (!quantizationConfig.empty()) {
    FailureOr<spec::Json> user =
        parseJsonOption(module, "quantization-config", quantizationConfig);
    if (failed(user))
      return failure();
    inputs.userConfig = *user;
  }
  if (!deviceMap.empty()) {
    // A JSON object, possibly with its braces stripped (see
    // parseJsonOption); device names never start with '"'.
    StringRef text = StringRef(deviceMap).trim();
    if (text.starts_with("{") || text.starts_with("\"") ||
        text.starts_with("@")) {
      FailureOr<spec::Json> map =
          parseJsonOption(module, "device-map", deviceMap);
      if (failed(map))
        return failure();
      inputs.deviceMap = *map;
    } else {
      inputs.deviceMap = deviceMap;
    }
  }
  inputs.dtype = dtype;
  inputs.weightsOnly = weightsOnly;
  inputs.target = spec::CompileTarget(target);
  if (!inputs.target.valid())
    return module.emitError(inputs.target.error());
  return inputs;
}

/// transformers' warnings are warnings, its infos remarks (on request).
void DispatchPass::emitMessages(ModuleOp module,
                                const spec::DispatchDecision &decision) {
  for (const spec::DispatchMessage &message : decision.messages) {
    if (message.level == spec::DispatchMessage::Level::Warning)
      module.emitWarning(message.text);
    else if (remarks)
      module.emitRemark(message.text);
  }
}

void DispatchPass::runOnOperation() {
  ModuleOp module = getOperation();
  const spec::MethodRegistry &registry =
      getContext().getLoadedDialect<HFQDialect>()->getMethodRegistry();
  FailureOr<spec::DispatchInputs> inputs = readInputs(module);
  if (failed(inputs))
    return signalPassFailure();

  spec::DispatchDecision decision = spec::dispatchQuantizer(registry, *inputs);
  emitMessages(module, decision);
  std::vector<spec::ModulePlan> plans;
  LogicalResult rewritten = success();
  if (decision.error)
    module.emitError(decision.error->str());
  else if (decision.quantizer)
    rewritten = rewriteModules(module, decision, plans);

  recordDispatch(module, spec::makeReport(decision, inputs->target, plans));
  if (!report.empty() && failed(writeReport(module, report)))
    return signalPassFailure();
  if (decision.error || failed(rewritten))
    signalPassFailure();
}

/// Plans every hfq.linear and rewrites the ones the plan quantizes; stops
/// at the first that cannot be. `plans` is every module's plan either way.
LogicalResult
DispatchPass::rewriteModules(ModuleOp module,
                             const spec::DispatchDecision &decision,
                             std::vector<spec::ModulePlan> &plans) {
  SmallVector<LinearOp> linears;
  std::vector<std::string> names;
  module.walk([&](LinearOp op) {
    linears.push_back(op);
    names.push_back(op.getName().str());
  });
  plans = spec::planModules(decision, names, modelHints(module));

  auto method = MethodAttr::get(
      &getContext(), StringAttr::get(&getContext(), decision.quantizer->key),
      cast<DictionaryAttr>(jsonToAttribute(decision.config, &getContext())));
  for (auto [op, plan] : llvm::zip(linears, plans)) {
    if (!plan.quantized) {
      if (remarks)
        op.emitRemark("not quantized: ") << plan.rule;
    } else if (failed(rewrite(op, decision, method, plan.scheme))) {
      return failure();
    }
  }
  return success();
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
  // The layout is resolved here, once, for the model's activation type; the
  // ops record it.
  std::string error;
  LayoutAttr layout = resolveLayoutAttr(
      &getContext(), quantizer, decision.config, scheme, n, k,
      cast<RankedTensorType>(op.getInput().getType()).getElementType(), error);
  if (!layout)
    return op.emitOpError("cannot be quantized with '")
           << quantizer.key << "': " << error;

  OpBuilder builder(op);
  SmallVector<Value> packed;
  if (decision.preQuantized) {
    for (auto [tensor, type] : llvm::zip(layout.getNames(), layout.getTypes()))
      packed.push_back(
          WeightOp::create(builder, op.getLoc(), type,
                           builder.getStringAttr(name + "." + tensor.str())));
  } else {
    auto quantize = QuantizeOp::create(
        builder, op.getLoc(), layout.getTypes(), builder.getStringAttr(name),
        op.getWeight(), method, schemeAttr, /*kernel=*/StringAttr(), layout);
    llvm::append_range(packed, quantize.getResults());
  }
  auto qlinear = QLinearOp::create(
      builder, op.getLoc(), op.getResult().getType(),
      builder.getStringAttr(name), op.getInput(), packed, op.getBias(), method,
      schemeAttr, /*kernel=*/StringAttr(), /*rejected_kernels=*/ArrayAttr(),
      layout);
  Value oldWeight = op.getWeight();
  op.getResult().replaceAllUsesWith(qlinear.getResult());
  op.erase();
  // A pre-quantized checkpoint has no float weight: drop its binding.
  if (auto weight = oldWeight.getDefiningOp<WeightOp>())
    if (weight->use_empty())
      weight.erase();
  return success();
}
