//===- ModulePlan.h - Which modules a method converts, and with what -*- C++ -*-===//
//
// After dispatch has chosen a quantizer, each linear layer is either
// converted or skipped by the method's skip-module policy (transformers'
// get_modules_to_not_convert and v5 should_convert_module; optimum's GPTQ
// block rule; compressed-tensors' config_groups targets), and a converted
// one runs on the first kernel whose rule accepts it. Both the hfq-dispatch
// pass and the dry-run planner use these functions, so they cannot disagree.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_QUANTIZER_MODULEPLAN_H
#define HFQ_QUANTIZER_MODULEPLAN_H

#include "quantizer/GetHfQuantizer.h"

#include <optional>
#include <string>
#include <vector>

namespace hfq::spec {

/// What the model tells about itself beyond its linear layers (transformers
/// reads these off the PyTorch module).
struct ModelHints {
  /// Module names of the output embeddings (`model.get_output_embeddings()`).
  std::vector<std::string> outputEmbeddings;
  /// Both sides of `model.all_tied_weights_keys` (parameter names).
  std::vector<std::string> tiedWeights;
  /// The last entry of `named_parameters()`.
  std::string lastParameter;
  /// `model._keep_in_fp32_modules`.
  std::vector<std::string> keepInFp32;
};

/// The fate of one linear layer.
struct ModulePlan {
  std::string name;
  bool quantized = false;
  /// Why: the skip rule that matched, or how it is quantized.
  std::string rule;
  /// The module's own scheme (compressed-tensors), else null.
  Json scheme;
};

/// Plans every module of `names` under `decision` (which must have a
/// quantizer and no error).
std::vector<ModulePlan> planModules(const DispatchDecision &decision,
                                    const std::vector<std::string> &names,
                                    const ModelHints &hints);

/// The outcome of the ordered kernel rules for one layer.
struct KernelChoice {
  /// The chosen kernel; empty when no rule accepted the layer.
  std::string kernel;
  /// Each rule tried before it, with why it did not apply.
  std::vector<std::pair<std::string, std::string>> rejected;
};

/// Evaluates `quantizer`'s kernel rules for a layer of `n` outputs, `k`
/// inputs and `m` activation rows (-1: unknown) on `target` (a targetScope
/// value). With `forced` set, only that kernel's rule is evaluated, and a
/// kernel the method lacks or whose rule does not hold is an error (never a
/// silent fallback). Returns nullopt and sets `error` when a rule cannot be
/// evaluated or the forced kernel cannot run the layer.
std::optional<KernelChoice>
selectKernel(const QuantizerSpec &quantizer, const Json &config,
             const Json &scheme, int64_t n, int64_t k, int64_t m,
             const Json &target, const std::string &actDtype,
             std::string &error, const std::string &forced = "");

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_MODULEPLAN_H
