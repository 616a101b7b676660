//===- KernelRules.h - Which kernel runs a quantized layer ------*- C++ -*-===//
//
// A spec's `kernels` are ordered rules: the first whose condition holds for
// the layer (config, N, K, activation rows M, activation dtype, target)
// runs it. This is the one place they are evaluated: the hfq-select-kernel
// pass and the dry-run planner both call it.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_QUANTIZER_KERNELRULES_H
#define HFQ_QUANTIZER_KERNELRULES_H

#include "quantizer/CompileTarget.h"
#include "spec/MethodSpec.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hfq::spec {

/// The outcome of the ordered kernel rules for one layer.
struct KernelChoice {
  /// The chosen kernel; empty when no rule accepted the layer.
  std::string kernel;
  /// Each rule tried before it, with why it did not apply.
  std::vector<std::pair<std::string, std::string>> rejected;
};

/// Evaluates `quantizer`'s kernel rules for a layer of `n` outputs, `k`
/// inputs and `m` activation rows (-1: unknown) with activations of
/// `actDtype` ("f16", "bf16", "f32") on `target` (valid). With `forced` set,
/// only that kernel's rule is evaluated, and a kernel the method lacks or
/// whose rule does not hold is an error (never a silent fallback). Returns
/// nullopt and sets `error` when a rule cannot be evaluated or the forced
/// kernel cannot run the layer.
std::optional<KernelChoice>
selectKernel(const QuantizerSpec &quantizer, const Json &config,
             const Json &scheme, int64_t n, int64_t k, int64_t m,
             const CompileTarget &target, const std::string &actDtype,
             std::string &error, const std::string &forced = "");

/// The kernel that quantizes a float weight on the fly (`hfq.quantize`):
/// quantization happens once, at load, so the method's reference kernel —
/// its last, catch-all rule — owns it. Empty for a method without kernels.
std::string quantizeKernel(const QuantizerSpec &quantizer);

/// The `act_dtype` of kernel rules for a model loading in torch dtype
/// `dtype` ("bfloat16" -> "bf16", "float32" -> "f32", else "f16").
std::string activationDtype(const std::string &dtype);

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_KERNELRULES_H
