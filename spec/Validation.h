//===- Validation.h - pydantic-style validation of schema values -*- C++ -*-===//
//
// A config class whose nested objects a pydantic model validates
// (compressed-tensors' QuantizationConfig) declares `config.validation`:
// schema fields are then checked with pydantic's lax coercions (an int from
// "8"), every problem is collected with its location, and the whole list is
// raised as one ValidationError in pydantic's text. The wording of each
// error type, the model title and the docs URL are spec data; this file
// knows which error type applies and how pydantic lays the text out.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_VALIDATION_H
#define HFQ_SPEC_VALIDATION_H

#include "spec/MethodSpec.h"

#include <map>
#include <string>
#include <vector>

namespace hfq::spec {

/// One line error: where (the path of keys, union tags and indices), its
/// pydantic type ("missing", "int_parsing"), the input it saw, and the
/// values its message template names (`{model}`).
struct LineError {
  std::vector<std::string> loc;
  std::string type;
  Json input;
  Json context = Json::object();
};

/// The error types validateLax and the schema engine report; a spec's
/// `validation.messages` must give a text for each.
const std::vector<std::string> &validationErrorTypes();

/// pydantic's lax validation of `value` (not null) as `type`, converting it
/// in place where pydantic does (int from "8" or 8.0, bool from "yes").
/// Appends an error for each problem (list elements by index); returns
/// whether there were none.
bool validateLax(const FieldType &type, Json &value,
                 const std::vector<std::string> &loc,
                 std::vector<LineError> &errors);

/// How pydantic names a type in a union's error locations: "list[str]".
std::string pydanticTypeTag(const FieldType &type);

/// How pydantic names a model with after-validators in a union's error
/// locations: "function-after[validate_model_after(), QuantizationScheme]"
/// (the first validator innermost).
std::string pydanticModelTag(const std::string &model,
                             const std::vector<std::string> &afterValidators);

/// pydantic's repr of an input value, cut to head + "..." + tail code
/// points when longer than `style.reprLimit`.
std::string truncatedInputRepr(const ValidationStyle &style,
                               const Json &value);

/// The ValidationError's text: "<n> validation error(s) for <title>" and,
/// per error, its location, message, type, input and docs URL.
std::string formatValidationError(const ValidationStyle &style,
                                  const std::vector<LineError> &errors);

} // namespace hfq::spec

#endif // HFQ_SPEC_VALIDATION_H
