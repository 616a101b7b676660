//===- GetHfQuantizer.h - transformers' quantizer dispatch over specs -*- C++ -*-===//
//
// What transformers does between `from_pretrained(..., quantization_config=)`
// and the first weight being loaded, driven by method specs instead of
// Python classes: building a config object from a dict (`from_dict` and
// `post_init`), serializing it (`to_dict`), choosing the quantizer and
// merging a checkpoint's config with the user's (`get_hf_quantizer`,
// `merge_quantization_configs`), then the quantizer's environment, dtype and
// device-map hooks. Messages and exceptions carry transformers' exact text.
//
// Everything here is pure data in, data out (no MLIR): a pass or a tool wraps
// it. Inputs come from users and checkpoints, so nothing here throws,
// asserts or crashes on bad input; a problem comes back as a RaisedError.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_QUANTIZER_GETHFQUANTIZER_H
#define HFQ_QUANTIZER_GETHFQUANTIZER_H

#include "spec/MethodRegistry.h"

#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace hfq::spec {

/// A `warnings.warn` / `logger.warning` (Warning) or `logger.info` (Info).
struct DispatchMessage {
  enum class Level { Warning, Info };
  Level level = Level::Warning;
  std::string text;
};

/// An exception transformers would raise: the Python class name
/// ("ValueError", "KeyError", ...) and `str(exception)`. One kind has no
/// transformers counterpart: "InternalError", a bug in hfq or in a spec
/// (caught instead of crashing).
struct RaisedError {
  std::string kind;
  std::string message;

  /// "ValueError: <message>", as Python prints the last traceback line.
  std::string str() const;
};

/// `ConfigClass.from_dict(dict)` followed by the class's `post_init`, for
/// the class `spec` describes:
///   1. `strict_keys` missing from `dict` raise KeyError (message: the key's
///      repr, as Python's str(KeyError) prints it);
///   2. `legacy_keys` replace their target field, in the order listed (a
///      later legacy key wins), except where the legacy value is null;
///   3. a required field (no default) that is absent raises transformers'
///      TypeError "<Class>.__init__() missing 1 required positional
///      argument: '<name>'"; keys that are not fields are dropped;
///   4. each given field is type checked (`type_error`), lower-cased
///      (`normalize`), renamed (`map`) and checked against `allowed`
///      (`value_error`); absent fields take their default;
///   5. `rules` run in order: `error` stops, `warning`/`info` append to
///      `messages` (rendered in the config's scope), `set` assigns.
/// Returns the resolved config: "quant_method" followed by every field in
/// field order. On failure returns nullopt and fills `error`; messages
/// emitted before the failure stay in `messages`.
std::optional<Json> resolveConfig(const ConfigSpec &spec, const Json &dict,
                                  std::vector<DispatchMessage> &messages,
                                  RaisedError &error);

/// `to_dict()` of a resolved config: the `serialize.keys` of `spec` in order
/// (a field under its own name, or a computed `{"key", "value"}` entry).
std::optional<Json> serializeConfig(const ConfigSpec &spec,
                                    const Json &resolved, RaisedError &error);

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
  /// The machine: "sm_NN" or "cpu" (see targetScope()).
  std::string target = "sm_90";
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
/// specs/README.md and the reference's §1.7) followed by `_get_dtype`:
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
DispatchDecision dispatchQuantizer(const MethodRegistry &registry,
                                   const DispatchInputs &in);

/// v5 `should_convert_module` patterns, compiled once: a module name is
/// skipped if, for any pattern `key`, `re.match(key + "\\.", name)` or
/// `re.match(key, name)` (a regex anchored at the start only) or
/// `name.endswith(key)`. A pattern that is not a valid ECMAScript regex is
/// matched as a plain-string prefix instead.
class SkipPatterns {
public:
  explicit SkipPatterns(const std::vector<std::string> &patterns);

  /// Whether `name` is left unconverted.
  bool skips(const std::string &name) const;

private:
  struct Pattern {
    std::string text;
    /// Unset when `text` is not a valid regex (or too long to run safely).
    std::optional<std::regex> withDot;
    std::optional<std::regex> plain;
  };
  std::vector<Pattern> patterns;
};

/// One-shot form of SkipPatterns(patterns).skips(name).
bool shouldSkipModule(const std::string &name,
                      const std::vector<std::string> &patterns);

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_GETHFQUANTIZER_H
