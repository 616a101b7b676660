//===- MethodSpec.cpp - A quantization method declared in JSON ------------===//
//
// The few behaviours of the in-memory spec types: how a problem is printed,
// which values a field type accepts (Python's isinstance, torch's dtype
// names), and looking a field up by name. Reading a spec file is
// SpecParser's (SpecParser.h); evaluating its layouts is Layout's.
//
//===----------------------------------------------------------------------===//

#include "spec/MethodSpec.h"

#include <algorithm>
#include <iterator>

namespace hfq::spec {

std::string SpecError::str() const {
  return file + ": " + (pointer.empty() ? std::string("/") : pointer) + ": " +
         message;
}

//===----------------------------------------------------------------------===//
// Field types
//===----------------------------------------------------------------------===//

static const char *const kDtypeNames[] = {
    "bool",          "int8",        "uint8",   "int16",   "int32",
    "int64",         "float16",     "float32", "float64", "bfloat16",
    "float8_e4m3fn", "float8_e5m2", "half",    "float",   "double"};

bool FieldType::accepts(const Json &value) const {
  switch (kind) {
  case Kind::Any:
    return true;
  case Kind::Bool:
    return value.is_boolean();
  case Kind::Int:
    return value.is_number_integer();
  case Kind::Float:
    return value.is_number_float();
  case Kind::Number:
    return value.is_number();
  case Kind::String:
    return value.is_string();
  case Kind::Dtype:
    if (!value.is_string())
      return false;
    return std::any_of(std::begin(kDtypeNames), std::end(kDtypeNames),
                       [&](const char *name) {
                         return value.get_ref<const std::string &>() == name;
                       });
  case Kind::Dict:
    return value.is_object();
  case Kind::List:
    if (!value.is_array())
      return false;
    for (const Json &item : value)
      if (!element->accepts(item))
        return false;
    return true;
  }
  return false;
}

std::string FieldType::str() const {
  switch (kind) {
  case Kind::Any:
    return "any";
  case Kind::Bool:
    return "bool";
  case Kind::Int:
    return "int";
  case Kind::Float:
    return "float";
  case Kind::Number:
    return "number";
  case Kind::String:
    return "string";
  case Kind::Dtype:
    return "dtype";
  case Kind::Dict:
    return "dict";
  case Kind::List:
    return "list<" + element->str() + ">";
  }
  return "any";
}

const FieldSpec *ConfigSpec::findField(const std::string &name) const {
  for (const FieldSpec &field : fields)
    if (field.name == name)
      return &field;
  return nullptr;
}

const ObjectSchema *ConfigSpec::findSchema(const std::string &name) const {
  for (const ObjectSchema &schema : schemas)
    if (schema.name == name)
      return &schema;
  return nullptr;
}

} // namespace hfq::spec
