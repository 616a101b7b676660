//===- Layout.h - A quantizer's checkpoint layout for one layer -*- C++ -*-===//
//
// A spec's layouts say, as expressions over the config and the layer's
// shape, which tensors a quantized linear layer has in the checkpoint
// (names, element types, shapes) and which scalar arguments its kernels
// receive. This evaluates them for one layer; dispatch, the op verifier and
// the lowering all read a layer's layout through here, so that they agree.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_LAYOUT_H
#define HFQ_SPEC_LAYOUT_H

#include "spec/expr/Expr.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hfq::spec {

struct ConfigSpec;
struct QuantizerSpec;

/// One resolved checkpoint tensor of a linear layer.
struct TensorLayout {
  std::string name;
  /// MLIR element type name ("i32", "f16", ...).
  std::string dtype;
  std::vector<int64_t> shape;
};

/// A layout evaluated for one layer: its tensors and its kernel arguments.
struct ResolvedLayout {
  /// Index of the layout in the quantizer's `layouts`.
  size_t index = 0;
  std::vector<TensorLayout> tensors;
  std::vector<std::pair<std::string, double>> args;
};

/// Like resolveLayout, with the layout's kernel arguments.
std::optional<ResolvedLayout>
resolveLayoutWithArgs(const QuantizerSpec &quantizer, const Json &config,
                      const Json &scheme, int64_t n, int64_t k,
                      const std::string &actDtype, std::string &error);

/// Evaluates the first matching layout of `quantizer` for a linear of
/// `n` outputs and `k` inputs under `config` (a resolved config dict;
/// `scheme` is the module's scheme or null) in a model whose activations
/// are `actDtype` ("f32", "f16", "bf16": the element type name the layout
/// sees as `act_dtype`, the same as kernel rules). On failure returns
/// nullopt and sets `error` to a user-facing message.
std::optional<std::vector<TensorLayout>>
resolveLayout(const QuantizerSpec &quantizer, const Json &config,
              const Json &scheme, int64_t n, int64_t k,
              const std::string &actDtype, std::string &error);

/// The expression scope of a config: `quant_method` and every field, with
/// the field's default for the ones `config` lacks.
Json configScope(const ConfigSpec &spec, const Json &config);

/// Whether `name` is an element type a layout may name literally ("i32",
/// "bf16", "f8E4M3FN", ...).
bool isElementTypeName(const std::string &name);

} // namespace hfq::spec

#endif // HFQ_SPEC_LAYOUT_H
