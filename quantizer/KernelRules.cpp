//===- KernelRules.cpp - Which kernel runs a quantized layer --------------===//

#include "quantizer/KernelRules.h"

namespace hfq::spec {

namespace {

/// Whether `rule` holds in `scope`; nullopt (and `error`) when its
/// expression cannot be evaluated.
std::optional<bool> ruleHolds(const KernelRule &rule, const Json &scope,
                              std::string &error) {
  ExprError exprError;
  std::optional<bool> holds = rule.when.evaluateCondition(scope, exprError);
  if (!holds)
    error = "cannot evaluate the rule of kernel '" + rule.name + "' ('" +
            rule.when.text() + "'): " + exprError.str();
  return holds;
}

/// `force-kernel`: only the named rule, and it must hold. `layer` says
/// which layer, for the message.
std::optional<KernelChoice> forceKernel(const QuantizerSpec &quantizer,
                                        const Json &scope,
                                        const std::string &forced,
                                        const std::string &layer,
                                        std::string &error) {
  std::string names;
  for (const KernelRule &rule : quantizer.kernels) {
    names += (names.empty() ? "" : ", ") + rule.name;
    if (rule.name != forced)
      continue;
    std::optional<bool> holds = ruleHolds(rule, scope, error);
    if (!holds)
      return std::nullopt;
    if (!*holds) {
      error = "the forced kernel '" + forced +
              "' cannot run this layer: its rule '" + rule.when.text() +
              "' does not hold (" + layer + ")";
      return std::nullopt;
    }
    if (!rule.planned.empty()) {
      error = "the forced kernel '" + forced +
              "' is planned but not implemented yet (" + rule.planned + ")";
      return std::nullopt;
    }
    return KernelChoice{forced, {}};
  }
  error = "method '" + quantizer.key + "' has no kernel '" + forced +
          "' (its kernels: " + names + ")";
  return std::nullopt;
}

} // namespace

std::optional<KernelChoice>
selectKernel(const QuantizerSpec &quantizer, const Json &config,
             const Json &scheme, int64_t n, int64_t k, int64_t m,
             const CompileTarget &target, const std::string &actDtype,
             std::string &error, const std::string &forced) {
  Json scope = configScope(quantizer.method->config, config);
  scope["N"] = n;
  scope["K"] = k;
  scope["M"] = m;
  scope["target"] = target.scope();
  scope["act_dtype"] = actDtype;
  if (quantizer.moduleScheme)
    scope["scheme"] = scheme;
  if (!forced.empty())
    return forceKernel(
        quantizer, scope, forced,
        "M = " + std::to_string(m) + ", N = " + std::to_string(n) +
            ", K = " + std::to_string(k) + ", target " + target.name(),
        error);

  KernelChoice choice;
  for (const KernelRule &rule : quantizer.kernels) {
    std::optional<bool> holds = ruleHolds(rule, scope, error);
    if (!holds)
      return std::nullopt;
    if (*holds && rule.planned.empty()) {
      choice.kernel = rule.name;
      return choice;
    }
    choice.rejected.emplace_back(
        rule.name, *holds
                       ? "planned, not implemented yet (" + rule.planned + ")"
                       : "'" + rule.when.text() + "' does not hold");
  }
  return choice;
}

std::string quantizeKernel(const QuantizerSpec &quantizer) {
  return quantizer.kernels.empty() ? std::string()
                                   : quantizer.kernels.back().name;
}

std::string activationDtype(const std::string &dtype) {
  if (dtype == "bfloat16")
    return "bf16";
  if (dtype == "float32")
    return "f32";
  return "f16";
}

} // namespace hfq::spec
