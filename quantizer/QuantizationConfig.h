//===- QuantizationConfig.h - from_dict, post_init, to_dict -----*- C++ -*-===//
//
// transformers' `utils/quantization_config.py` over specs: building a config
// object from a dict (`from_dict` and `post_init`) and serializing it
// (`to_dict`), for the class a spec's `config` describes. Messages and
// exceptions carry transformers' exact text. Pure data in, data out.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_QUANTIZER_QUANTIZATIONCONFIG_H
#define HFQ_QUANTIZER_QUANTIZATIONCONFIG_H

#include "quantizer/Diagnostics.h"
#include "spec/MethodSpec.h"

#include <optional>
#include <vector>

namespace hfq::spec {

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

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_QUANTIZATIONCONFIG_H
