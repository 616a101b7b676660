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
#include "dialect/spec/Dispatch.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringExtras.h"
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
  spec::Json value = spec::Json::parse(source, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded())
    return module.emitError("option ")
           << option << " is not valid JSON: '" << source << "'";
  return value;
}

/// `object[key]`, or null when `object` is not an object or lacks the key
/// (nlohmann's const operator[] must not be called on a missing key).
spec::Json member(const spec::Json &object, const std::string &key) {
  if (!object.is_object())
    return spec::Json();
  auto it = object.find(key);
  return it == object.end() ? spec::Json() : *it;
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

/// One module's fate, for diagnostics and the report.
struct ModuleDecision {
  std::string name;
  bool quantized = false;
  std::string rule;
};

/// The skip list of transformers' get_modules_to_not_convert, with the
/// reason each pattern is on it.
struct SkipList {
  std::vector<std::pair<std::string, std::string>> entries; // pattern, why

  void add(const std::string &pattern, const std::string &why) {
    for (const auto &entry : entries)
      if (entry.first == pattern)
        return;
    entries.emplace_back(pattern, why);
  }

  /// The reason `name` is skipped, or nullopt.
  std::optional<std::string> match(const std::string &name) const {
    for (const auto &[pattern, why] : entries)
      if (spec::shouldSkipModule(name, {pattern}))
        return why + " '" + pattern + "'";
    return std::nullopt;
  }
};

/// Finds the compressed-tensors config group that targets `name`: a class
/// target ("Linear"), a regex ("re:..."), or the module name itself.
std::optional<spec::Json> schemeFor(const spec::Json &groups,
                                    const std::string &name) {
  if (!groups.is_object())
    return std::nullopt;
  for (const auto &group : groups.items()) {
    spec::Json targets = member(group.value(), "targets");
    if (!targets.is_array())
      continue;
    for (const spec::Json &target : targets) {
      if (!target.is_string())
        continue;
      std::string text = target.get<std::string>();
      bool matches = text == "Linear" || text == name;
      // compressed-tensors' "re:<pattern>" is a regex matched at the start:
      // the same rule as transformers' skip patterns.
      if (!matches && text.rfind("re:", 0) == 0)
        matches = spec::SkipPatterns({text.substr(3)}).skips(name);
      if (matches)
        return group.value();
    }
  }
  return std::nullopt;
}

struct DispatchPass : hfq::impl::HFQDispatchBase<DispatchPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LogicalResult rewrite(LinearOp op, const spec::DispatchDecision &decision,
                        MethodAttr method, const spec::Json &scheme);
  void writeReport(const spec::DispatchDecision &decision,
                   const std::vector<ModuleDecision> &modules);
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
    if (StringRef(deviceMap).trim().starts_with("{") ||
        StringRef(deviceMap).starts_with("@")) {
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
  inputs.target = target;
  if (!spec::targetScope(target)) {
    module.emitError("unknown target '")
        << target << "' (expected sm_<NN> such as sm_90, or cpu)";
    return signalPassFailure();
  }

  spec::DispatchDecision decision = spec::dispatchQuantizer(registry, inputs);
  for (const spec::DispatchMessage &message : decision.messages) {
    if (message.level == spec::DispatchMessage::Level::Warning)
      module.emitWarning(message.text);
    else if (remarks)
      module.emitRemark(message.text);
  }
  std::vector<ModuleDecision> modules;
  if (decision.error) {
    module.emitError(decision.error->str());
    writeReport(decision, modules);
    return signalPassFailure();
  }
  if (!decision.quantizer) {
    writeReport(decision, modules);
    return;
  }

  // transformers' get_modules_to_not_convert for this method's policy.
  const spec::QuantizerSpec &quantizer = *decision.quantizer;
  const spec::SkipPolicy &policy = quantizer.skipModules;
  SkipList skips;
  spec::Json userList = policy.field ? member(decision.config, *policy.field)
                                     : spec::Json();
  bool addDefaults =
      policy.defaults == spec::SkipPolicy::Defaults::Always ||
      (policy.defaults == spec::SkipPolicy::Defaults::IfUnset &&
       userList.is_null());
  if (addDefaults) {
    std::vector<std::string> outputs =
        stringListAttr(module, "hfq.output_embeddings");
    if (!module->hasAttr("hfq.output_embeddings"))
      module.walk([&](LinearOp op) {
        if (op.getName() == "lm_head")
          outputs.push_back("lm_head");
      });
    for (const std::string &name : outputs)
      skips.add(name, "default skip (output embedding)");
    for (const std::string &name : stringListAttr(module, "hfq.tied_weights"))
      skips.add(name, "default skip (tied weight)");
    std::string lastParameter;
    module.walk([&](WeightOp op) { lastParameter = op.getName().str(); });
    if (!lastParameter.empty())
      skips.add(lastParameter, "default skip (last parameter)");
  }
  if (userList.is_array())
    for (const spec::Json &item : userList)
      if (item.is_string())
        skips.add(item.get<std::string>(), *policy.field);
  if (policy.keepInFp32)
    for (const std::string &name :
         stringListAttr(module, "hfq.keep_in_fp32_modules"))
      skips.add(name, "keep_in_fp32_modules");

  // optimum's GPTQ converts only the linears inside the transformer blocks.
  std::vector<std::string> blocks;
  if (policy.blockField) {
    spec::Json field = member(decision.config, *policy.blockField);
    if (field.is_string())
      blocks.push_back(field.get<std::string>());
    else if (field.is_array())
      for (const spec::Json &item : field)
        if (item.is_string())
          blocks.push_back(item.get<std::string>());
    for (const std::string &pattern : policy.blockDefaults) {
      if (!blocks.empty())
        break;
      module.walk([&](LinearOp op) {
        if (blocks.empty() && op.getName().starts_with(pattern))
          blocks.push_back(pattern);
      });
    }
  }
  auto outsideBlocks = [&](StringRef name) -> std::optional<std::string> {
    if (!policy.blockField)
      return std::nullopt;
    for (const std::string &block : blocks)
      if (name.starts_with(block))
        return std::nullopt;
    return blocks.empty()
               ? std::string("no transformer block found (" +
                             *policy.blockField + " is None)")
               : "outside the quantized blocks (" + *policy.blockField +
                     " = '" + llvm::join(blocks, "', '") + "')";
  };

  auto method = MethodAttr::get(
      &getContext(), StringAttr::get(&getContext(), quantizer.key),
      cast<DictionaryAttr>(jsonToAttribute(decision.config, &getContext())));

  SmallVector<LinearOp> linears;
  module.walk([&](LinearOp op) { linears.push_back(op); });
  for (LinearOp op : linears) {
    ModuleDecision entry{op.getName().str(), false, ""};
    // AQLM's skip list holds parameter names ("lm_head.weight").
    std::string subject = policy.match == spec::SkipPolicy::Match::Weight
                              ? entry.name + ".weight"
                              : entry.name;
    std::optional<std::string> why = outsideBlocks(entry.name);
    if (!why)
      why = skips.match(subject);
    // compressed-tensors: a module no config group targets stays as is.
    spec::Json scheme;
    if (!why && quantizer.moduleScheme) {
      std::optional<spec::Json> found = schemeFor(
          member(decision.config, *quantizer.moduleScheme), entry.name);
      if (found)
        scheme = *found;
      else
        why = "no entry of '" + *quantizer.moduleScheme +
              "' targets this module";
    }
    if (why) {
      entry.rule = *why;
      if (remarks)
        op.emitRemark("not quantized: ") << *why;
    } else if (failed(rewrite(op, decision, method, scheme))) {
      writeReport(decision, modules);
      return signalPassFailure();
    } else {
      entry.quantized = true;
      entry.rule = decision.preQuantized ? "pre-quantized checkpoint tensors"
                                         : "quantized on the fly";
    }
    modules.push_back(std::move(entry));
  }
  writeReport(decision, modules);
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
      /*kernel=*/StringAttr());
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
                               const std::vector<ModuleDecision> &modules) {
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
  for (const ModuleDecision &module : modules)
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
