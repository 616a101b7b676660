//===- GetHfQuantizer.h - get_hf_quantizer over specs -----------*- C++ -*-===//
//
// What transformers does between `from_pretrained(..., quantization_config=)`
// and the first weight being loaded, driven by method specs instead of
// Python classes: choosing the quantizer and merging a checkpoint's config
// with the user's (`get_hf_quantizer`, `merge_quantization_configs`), then
// the quantizer's environment, dtype and device-map hooks. Config objects
// are built and serialized by QuantizationConfig.h. Messages and exceptions
// carry transformers' exact text.
//
// Pure data in, data out (no MLIR): a pass or a tool wraps it. Nothing here
// throws, asserts or crashes on bad input; a problem comes back as a
// RaisedError.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_QUANTIZER_GETHFQUANTIZER_H
#define HFQ_QUANTIZER_GETHFQUANTIZER_H

#include "quantizer/CompileTarget.h"
#include "quantizer/Diagnostics.h"
#include "spec/MethodRegistry.h"

#include <optional>
#include <string>
#include <vector>

namespace hfq::spec {

/// What `from_pretrained` receives.
struct DispatchInputs {
  /// The checkpoint's config.json. The model is pre-quantized iff it has the
  /// key "quantization_config" (whatever its value); its "dtype" or
  /// "torch_dtype" resolves dtype="auto".
  Json modelConfig = Json::object();
  /// `quantization_config=` as a dict including "quant_method" (or the bnb
  /// load flags); unset when the user passed none.
  std::optional<Json> userConfig;
  /// `device_map=`: null (not given), a string ("auto", "cpu", ...) or a
  /// dict {"module.name": "cuda:0" | 0 | "cpu" | "disk", ...}. Only a dict
  /// counts as a device map for the environment rules.
  Json deviceMap;
  /// `dtype=`: "auto", a torch dtype name ("float16", "bfloat16", ...,
  /// optionally prefixed "torch."), or "" / "None" for None.
  std::string dtype = "auto";
  /// `weights_only=` (in scope of environment rules).
  bool weightsOnly = true;
  /// The machine, parsed where the option was read; an invalid one makes
  /// dispatch raise its error().
  CompileTarget target = "sm_90";
};

/// What `get_hf_quantizer` and `_get_dtype` decide.
struct DispatchDecision {
  /// The quantizer; null when the model loads unquantized. Also set when a
  /// later step of dispatch raised, so a report can name it.
  const QuantizerSpec *quantizer = nullptr;
  /// Whether the checkpoint is treated as pre-quantized (false after an
  /// unknown method was skipped).
  bool preQuantized = false;
  /// The resolved (merged) config after the environment rules; null
  /// without a quantizer.
  Json config;
  /// serializeConfig(config): exactly what transformers' to_dict() returns.
  Json configDict;
  /// Warnings and infos in the order transformers emits them.
  std::vector<DispatchMessage> messages;
  /// Set when dispatch stops with an exception; later fields keep what was
  /// decided before it.
  std::optional<RaisedError> error;
  /// The dtype the model loads in: "auto"/None resolved as v5's
  /// `_get_dtype` does, then the quantizer's `dtype_rules`.
  std::string dtype;
  /// The device map after the quantizer's `update_device_map`.
  Json deviceMap;
};

/// transformers' `get_hf_quantizer` (newest order, see
/// specs/README.md and the reference's §1.7) followed by `_get_dtype`,
/// after hfq's own inputs are checked (target, config and device-map
/// types, the dtype name). One function per step, in GetHfQuantizer.cpp:
///   1. the user's config is built first (it is an object before
///      `from_pretrained` runs), so its errors come first; an unknown method
///      there raises;
///   2. pre-quantized iff the model config has "quantization_config"; an
///      unknown method there warns and the checkpoint is loaded unquantized;
///   3. pre-quantized: the file's config is resolved and merged with the
///      user's (class mismatch raises; loading attributes are copied when
///      both classes are loading-attribute classes); otherwise the user's
///      config alone (on-the-fly quantization); neither: no quantizer;
///   4. `requires_calibration` without a pre-quantized checkpoint raises;
///   5. the quantizer's `environment` rules (they may `set` config fields;
///      `dtype` in their scope is step 6's dtype before `dtype_rules`, since
///      v5's validate_environment is not given one);
///   6. dtype: "auto" takes the checkpoint's dtype, else float32 (torch's
///      default), then the quantizer's `dtype_rules`;
///   7. `device_map_default` fills an unset device map.
/// Last, the config is serialized as to_dict() writes it.
DispatchDecision dispatchQuantizer(const MethodRegistry &registry,
                                   const DispatchInputs &in);

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_GETHFQUANTIZER_H
