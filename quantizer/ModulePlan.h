//===- ModulePlan.h - Which modules a method converts -----------*- C++ -*-===//
//
// After dispatch has chosen a quantizer, each linear layer is either
// converted or skipped by the method's skip-module policy (transformers'
// get_modules_to_not_convert and v5 should_convert_module; optimum's GPTQ
// block rule; compressed-tensors' config_groups targets). Which kernel runs
// a converted one is KernelRules.h. Both the hfq-dispatch pass and the
// dry-run planner use these functions, so they cannot disagree.
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

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_MODULEPLAN_H
