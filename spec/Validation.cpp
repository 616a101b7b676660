//===- Validation.cpp - pydantic-style validation of schema values --------===//
//
// pydantic 2's lax mode (Python input) for the field types of a spec, and
// its ValidationError layout. Only what decides the error type and the text
// layout is here; the texts themselves come from the spec.
//
//===----------------------------------------------------------------------===//

#include "spec/Validation.h"
#include "spec/expr/Utf8.h"

#include <cctype>
#include <cmath>
#include <limits>

namespace hfq::spec {

namespace {

std::string trimmed(const std::string &text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin])))
    ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1])))
    --end;
  return text.substr(begin, end - begin);
}

/// pydantic's int from a string: optional sign, decimal digits, and an
/// optional fraction of zeros ("8.0"), around whitespace. A value beyond
/// 64 bits is reported as unparsable (hfq's ints are 64-bit).
std::optional<int64_t> parseIntString(const std::string &text) {
  std::string s = trimmed(text);
  size_t dot = s.find('.');
  if (dot != std::string::npos) {
    if (s.find_first_not_of('0', dot + 1) != std::string::npos)
      return std::nullopt;
    s.resize(dot);
  }
  size_t start = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (s.size() == start ||
      s.find_first_not_of("0123456789", start) != std::string::npos)
    return std::nullopt;
  try {
    return std::stoll(s);
  } catch (const std::exception &) {
    return std::nullopt;
  }
}

std::optional<double> parseFloatString(const std::string &text) {
  std::string s = trimmed(text);
  if (s.empty())
    return std::nullopt;
  try {
    size_t used = 0;
    double value = std::stod(s, &used);
    if (used == s.size())
      return value;
  } catch (const std::exception &) {
  }
  return std::nullopt;
}

std::optional<bool> parseBoolString(const std::string &text) {
  std::string s;
  for (char c : trimmed(text))
    s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char *word : {"0", "off", "f", "false", "n", "no"})
    if (s == word)
      return false;
  for (const char *word : {"1", "on", "t", "true", "y", "yes"})
    if (s == word)
      return true;
  return std::nullopt;
}

/// The error type for `value` as an int, or "" with `value` converted.
std::string laxInt(Json &value) {
  if (value.is_boolean()) {
    value = value.get<bool>() ? 1 : 0;
    return "";
  }
  if (value.is_number_integer())
    return "";
  if (value.is_number_float()) {
    double number = value.get<double>();
    if (std::trunc(number) != number || std::fabs(number) > 9.2e18)
      return "int_from_float";
    value = static_cast<int64_t>(number);
    return "";
  }
  if (!value.is_string())
    return "int_type";
  std::optional<int64_t> parsed = parseIntString(value.get<std::string>());
  if (!parsed)
    return "int_parsing";
  value = *parsed;
  return "";
}

std::string laxFloat(Json &value, bool keepInt) {
  if (value.is_number_integer() && keepInt)
    return "";
  if (value.is_number() || value.is_boolean()) {
    value = value.is_boolean() ? (value.get<bool>() ? 1.0 : 0.0)
                               : value.get<double>();
    return "";
  }
  if (!value.is_string())
    return "float_type";
  std::optional<double> parsed = parseFloatString(value.get<std::string>());
  if (!parsed)
    return "float_parsing";
  value = *parsed;
  return "";
}

std::string laxBool(Json &value) {
  if (value.is_boolean())
    return "";
  std::optional<bool> parsed;
  if (value.is_number())
    parsed = value.get<double>() == 0.0   ? std::optional<bool>(false)
             : value.get<double>() == 1.0 ? std::optional<bool>(true)
                                          : std::nullopt;
  else if (value.is_string())
    parsed = parseBoolString(value.get<std::string>());
  else
    return "bool_type";
  if (!parsed)
    return "bool_parsing";
  value = *parsed;
  return "";
}

/// The error type of a scalar (or dict) check, "" when it passes.
std::string laxScalar(const FieldType &type, Json &value) {
  switch (type.kind) {
  case FieldType::Kind::Int:
    return laxInt(value);
  case FieldType::Kind::Float:
    return laxFloat(value, false);
  case FieldType::Kind::Number:
    return laxFloat(value, true);
  case FieldType::Kind::Bool:
    return laxBool(value);
  case FieldType::Kind::String:
  case FieldType::Kind::Dtype:
    return value.is_string() ? "" : "string_type";
  case FieldType::Kind::Dict:
    return value.is_object() ? "" : "dict_type";
  default:
    return "";
  }
}

/// `{name}` in `tmpl` replaced by the context's value (a string as is).
std::string renderContext(std::string tmpl, const Json &context) {
  for (const auto &entry : context.items()) {
    std::string key = "{" + entry.key() + "}";
    std::string text = entry.value().is_string()
                           ? entry.value().get<std::string>()
                           : pythonRepr(entry.value());
    for (size_t at = tmpl.find(key); at != std::string::npos;
         at = tmpl.find(key, at + text.size()))
      tmpl.replace(at, key.size(), text);
  }
  return tmpl;
}

/// Byte offsets of the code points of `text` (invalid bytes count as one).
std::vector<size_t> codePointStarts(const std::string &text) {
  std::vector<size_t> starts;
  for (size_t pos = 0; pos < text.size();) {
    starts.push_back(pos);
    uint32_t codePoint = 0;
    size_t length = expr::decodeUtf8(text, pos, codePoint);
    pos += length ? length : 1;
  }
  return starts;
}

} // namespace

const std::vector<std::string> &validationErrorTypes() {
  static const std::vector<std::string> kTypes = {
      "missing",     "int_type",      "int_parsing", "int_from_float",
      "float_type",  "float_parsing", "bool_type",   "bool_parsing",
      "string_type", "list_type",     "dict_type",   "model_type"};
  return kTypes;
}

bool validateLax(const FieldType &type, Json &value,
                 const std::vector<std::string> &loc,
                 std::vector<LineError> &errors) {
  if (type.kind == FieldType::Kind::List) {
    if (!value.is_array()) {
      errors.push_back({loc, "list_type", value});
      return false;
    }
    bool valid = true;
    for (size_t i = 0; i < value.size(); ++i) {
      std::vector<std::string> itemLoc = loc;
      itemLoc.push_back(std::to_string(i));
      valid = validateLax(*type.element, value[i], itemLoc, errors) && valid;
    }
    return valid;
  }
  Json input = value;
  std::string errorType = laxScalar(type, value);
  if (errorType.empty())
    return true;
  errors.push_back({loc, errorType, std::move(input)});
  return false;
}

std::string pydanticTypeTag(const FieldType &type) {
  switch (type.kind) {
  case FieldType::Kind::Bool:
    return "bool";
  case FieldType::Kind::Int:
    return "int";
  case FieldType::Kind::Float:
  case FieldType::Kind::Number:
    return "float";
  case FieldType::Kind::String:
  case FieldType::Kind::Dtype:
    return "str";
  case FieldType::Kind::List:
    return "list[" + pydanticTypeTag(*type.element) + "]";
  case FieldType::Kind::Dict:
    return "dict[any,any]";
  default:
    return "any";
  }
}

std::string pydanticModelTag(const std::string &model,
                             const std::vector<std::string> &afterValidators) {
  std::string tag = model;
  for (const std::string &validator : afterValidators)
    tag = "function-after[" + validator + "(), " + tag + "]";
  return tag;
}

std::string truncatedInputRepr(const ValidationStyle &style,
                               const Json &value) {
  std::string text = pythonRepr(value);
  std::vector<size_t> starts = codePointStarts(text);
  int64_t count = static_cast<int64_t>(starts.size());
  if (count <= style.reprLimit || style.reprHead + style.reprTail >= count)
    return text;
  return text.substr(0, starts[style.reprHead]) + "..." +
         text.substr(starts[count - style.reprTail]);
}

std::string formatValidationError(const ValidationStyle &style,
                                  const std::vector<LineError> &errors) {
  std::string text = std::to_string(errors.size()) + " validation error" +
                     (errors.size() == 1 ? "" : "s") + " for " + style.title;
  for (const LineError &error : errors) {
    std::string loc;
    for (const std::string &part : error.loc)
      loc += (loc.empty() ? "" : ".") + part;
    auto message = style.messages.find(error.type);
    text += "\n" + loc + "\n  " +
            renderContext(message == style.messages.end() ? error.type
                                                          : message->second,
                          error.context) +
            " [type=" + error.type +
            ", input_value=" + truncatedInputRepr(style, error.input) +
            ", input_type=" + pythonTypeName(error.input) + "]\n" +
            "    For further information visit " + style.docsUrl + error.type;
  }
  return text;
}

} // namespace hfq::spec
