//===- Layout.cpp - A quantizer's checkpoint layout for one layer ---------===//
//
// The first layout whose `when` holds is evaluated in steps: its params
// extend the scope, its requirements may reject the config with the spec's
// message, then each present tensor gets its element type and shape, and
// each kernel argument its number. Every failure is a message for the user
// naming the expression that failed.
//
//===----------------------------------------------------------------------===//

#include "spec/Layout.h"
#include "spec/Input.h"
#include "spec/MethodSpec.h"

#include <algorithm>
#include <iterator>

namespace hfq::spec {

/// Element type names a layout may use literally.
static const char *const kElementTypes[] = {
    "i1",   "i8",       "i16",    "i32",        "i64",        "ui8",
    "ui16", "ui32",     "ui64",   "f16",        "bf16",       "f32",
    "f64",  "f8E4M3FN", "f8E5M2", "f8E4M3FNUZ", "f8E5M2FNUZ", "f4E2M1FN"};

bool isElementTypeName(const std::string &name) {
  return std::any_of(std::begin(kElementTypes), std::end(kElementTypes),
                     [&](const char *t) { return name == t; });
}

Json configScope(const ConfigSpec &spec, const Json &config) {
  Json scope = Json::object();
  scope["quant_method"] = spec.quantMethod;
  // A field the dict omits has its default (None for required ones, which
  // the callers reject before evaluating anything).
  for (const FieldSpec &field : spec.fields)
    scope[field.name] = field.defaultValue ? *field.defaultValue : Json();
  if (config.is_object())
    for (const auto &entry : config.items())
      scope[entry.key()] = entry.value();
  return scope;
}

std::optional<std::vector<TensorLayout>>
resolveLayout(const QuantizerSpec &quantizer, const Json &config,
              const Json &scheme, int64_t n, int64_t k,
              const std::string &actDtype, std::string &error) {
  std::optional<ResolvedLayout> layout =
      resolveLayoutWithArgs(quantizer, config, scheme, n, k, actDtype, error);
  if (!layout)
    return std::nullopt;
  return std::move(layout->tensors);
}

//===----------------------------------------------------------------------===//
// The steps of resolveLayoutWithArgs
//===----------------------------------------------------------------------===//

/// "<what> '<expression>': <why it failed>".
static std::string cannotEvaluate(const std::string &what, const Expr &expr,
                                  const ExprError &exprError) {
  return what + " '" + quoteLimited(expr.text()) + "': " + exprError.str();
}

/// The value of one of a layout's named expressions (`what` is "layout
/// parameter" or "kernel argument", for the message).
static std::optional<Json> evaluateNamed(const char *what,
                                         const std::string &name,
                                         const Expr &expr, const Json &scope,
                                         std::string &error) {
  ExprError exprError;
  std::optional<Json> value = expr.evaluate(scope, exprError);
  if (!value)
    error = cannotEvaluate(std::string("cannot evaluate ") + what + " '" +
                               name + "'",
                           expr, exprError);
  return value;
}

/// Evaluates the layout's params into `scope`, each seeing those before it.
static bool bindParams(const LayoutSpec &layout, Json &scope,
                       std::string &error) {
  for (const auto &[name, expr] : layout.params) {
    std::optional<Json> value =
        evaluateNamed("layout parameter", name, expr, scope, error);
    if (!value)
      return false;
    scope[name] = *value;
  }
  return true;
}

/// Fails with the message of the first requirement the config violates.
static bool checkRequirements(const LayoutSpec &layout, const Json &scope,
                              std::string &error) {
  ExprError exprError;
  for (const Requirement &req : layout.requirements) {
    std::optional<bool> violated = req.when.evaluateCondition(scope, exprError);
    if (!violated) {
      error = cannotEvaluate("cannot evaluate layout requirement", req.when,
                             exprError);
      return false;
    }
    if (*violated) {
      std::optional<std::string> text =
          renderTemplate(req.message, scope, exprError);
      // A placeholder that fails (`{K // 0}`) names the failure instead of
      // printing the template as if it were the message.
      error = text ? *text
                   : "cannot render the message of layout requirement '" +
                         quoteLimited(req.when.text()) + "': " +
                         exprError.str();
      return false;
    }
  }
  return true;
}

/// The element type and shape of one tensor the layout declares.
static std::optional<TensorLayout>
resolveTensor(const TensorSpec &tensor, const Json &scope, std::string &error) {
  ExprError exprError;
  TensorLayout out;
  out.name = tensor.name;
  std::optional<Json> dtype = tensor.dtype.evaluate(scope, exprError);
  if (!dtype) {
    error = cannotEvaluate("cannot evaluate the dtype of tensor '" +
                               tensor.name + "'",
                           tensor.dtype, exprError);
    return std::nullopt;
  }
  if (!dtype->is_string() ||
      !isElementTypeName(dtype->get_ref<const std::string &>())) {
    error = "the dtype of tensor '" + tensor.name + "' evaluates to " +
            quoteLimited(pythonRepr(*dtype)) + ", not an element type name";
    return std::nullopt;
  }
  out.dtype = dtype->get<std::string>();
  for (const Expr &dim : tensor.shape) {
    std::optional<Json> size = dim.evaluate(scope, exprError);
    if (!size) {
      error = cannotEvaluate("cannot evaluate a dimension of tensor '" +
                                 tensor.name + "'",
                             dim, exprError);
      return std::nullopt;
    }
    if (!size->is_number_integer() || size->get<int64_t>() < 0) {
      error = "dimension '" + quoteLimited(dim.text()) + "' of tensor '" +
              tensor.name + "' evaluates to " +
              quoteLimited(pythonRepr(*size)) +
              ", not a non-negative integer";
      return std::nullopt;
    }
    out.shape.push_back(size->get<int64_t>());
  }
  return out;
}

/// The tensors whose `when` holds, each resolved; a name may be present
/// only once.
static std::optional<std::vector<TensorLayout>>
resolveTensors(const LayoutSpec &layout, const Json &scope,
               std::string &error) {
  ExprError exprError;
  std::vector<TensorLayout> tensors;
  for (const TensorSpec &tensor : layout.tensors) {
    if (tensor.when) {
      std::optional<bool> present =
          tensor.when->evaluateCondition(scope, exprError);
      if (!present) {
        error = cannotEvaluate("cannot evaluate the condition of tensor '" +
                                   tensor.name + "'",
                               *tensor.when, exprError);
        return std::nullopt;
      }
      if (!*present)
        continue;
    }
    for (const TensorLayout &previous : tensors)
      if (previous.name == tensor.name) {
        error = "tensor '" + tensor.name +
                "' is present twice for this config (the 'when's of its "
                "declarations overlap)";
        return std::nullopt;
      }
    std::optional<TensorLayout> resolved = resolveTensor(tensor, scope, error);
    if (!resolved)
      return std::nullopt;
    tensors.push_back(std::move(*resolved));
  }
  return tensors;
}

/// The kernel arguments as numbers (booleans as 0 and 1).
static bool resolveArgs(const LayoutSpec &layout, const Json &scope,
                        std::vector<std::pair<std::string, double>> &args,
                        std::string &error) {
  for (const auto &[name, expr] : layout.args) {
    std::optional<Json> value =
        evaluateNamed("kernel argument", name, expr, scope, error);
    if (!value)
      return false;
    if (value->is_boolean())
      args.emplace_back(name, value->get<bool>() ? 1.0 : 0.0);
    else if (value->is_number())
      args.emplace_back(name, value->get<double>());
    else {
      error = "kernel argument '" + name + "' ('" + quoteLimited(expr.text()) +
              "') evaluates to " + quoteLimited(pythonRepr(*value)) +
              ", not a number";
      return false;
    }
  }
  return true;
}

std::optional<ResolvedLayout>
resolveLayoutWithArgs(const QuantizerSpec &quantizer, const Json &config,
                      const Json &scheme, int64_t n, int64_t k,
                      const std::string &actDtype, std::string &error) {
  Json scope = configScope(quantizer.method->config, config);
  scope["N"] = n;
  scope["K"] = k;
  // A tensor some libraries write in the model's dtype (quark's scales)
  // names it as `act_dtype`, as kernel rules do.
  scope["act_dtype"] = actDtype;
  if (quantizer.moduleScheme)
    scope["scheme"] = scheme;
  for (size_t index = 0; index < quantizer.layouts.size(); ++index) {
    const LayoutSpec &layout = quantizer.layouts[index];
    if (layout.when) {
      ExprError exprError;
      std::optional<bool> applies =
          layout.when->evaluateCondition(scope, exprError);
      if (!applies) {
        error = cannotEvaluate("cannot evaluate layout condition", *layout.when,
                               exprError);
        return std::nullopt;
      }
      if (!*applies)
        continue;
    }
    Json layoutScope = scope;
    if (!bindParams(layout, layoutScope, error) ||
        !checkRequirements(layout, layoutScope, error))
      return std::nullopt;
    if (layout.tensors.empty()) {
      error = "the guard layout at " + layout.pointer +
              " applies but none of its requirements explains why";
      return std::nullopt;
    }
    std::optional<std::vector<TensorLayout>> tensors =
        resolveTensors(layout, layoutScope, error);
    if (!tensors)
      return std::nullopt;
    ResolvedLayout resolved;
    resolved.index = index;
    resolved.tensors = std::move(*tensors);
    if (!resolveArgs(layout, layoutScope, resolved.args, error))
      return std::nullopt;
    return resolved;
  }
  error = "no layout of '" + quantizer.key + "' applies to this config";
  return std::nullopt;
}

} // namespace hfq::spec
