//===- ValidationTest.cpp - pydantic-style validation of schema values ----===//
//
// config.validation (spec/Validation.h): lax coercions, error collection
// with locations and union tags, the ValidationError text, and the load-time
// checks of the spec data that drives it.
//
//===----------------------------------------------------------------------===//

#include "quantizer/QuantizationConfig.h"
#include "spec/MethodSpec.h"
#include "spec/Validation.h"

#include <gtest/gtest.h>

using namespace hfq::spec;

namespace {

/// A config whose `groups` values are Union[Scheme, list[str]], Scheme
/// holding a required `targets` and an `args` object.
const char *kPydanticSpec = R"({
  "hfq_spec": 1,
  "config": {
    "class": "ToyConfig",
    "quant_method": "toy",
    "fields": [
      {"name": "groups", "type": "dict", "default": null,
       "value_schema": "Scheme", "union_types": ["list<string>"]}
    ],
    "validation": {
      "title": "ToyModel",
      "docs_url": "https://example.invalid/v/",
      "repr_limit": 20, "repr_head": 5, "repr_tail": 4,
      "messages": {
        "missing": "Field required", "int_type": "int!",
        "int_parsing": "int parse!", "int_from_float": "fraction!",
        "float_type": "float!", "float_parsing": "float parse!",
        "bool_type": "bool!", "bool_parsing": "bool parse!",
        "string_type": "str!", "list_type": "list!", "dict_type": "dict!",
        "model_type": "not a {class_name}"
      }
    },
    "schemas": [
      {"name": "Scheme", "after_validators": ["check"], "fields": [
        {"name": "targets", "type": "list<string>"},
        {"name": "args", "type": "dict", "default": null, "schema": "Args"}]},
      {"name": "Args", "fields": [
        {"name": "bits", "type": "int", "default": 8},
        {"name": "sym", "type": "bool", "default": true}]}
    ]
  },
  "quantizers": [{"key": "toy", "class": "ToyHfQuantizer", "order": 100,
    "skip_modules": {"field": null, "default_skips": "never"},
    "layouts": [{"tensors": [{"name": "w", "dtype": "i8", "shape": ["N", "K"]}]}],
    "kernels": [{"name": "toy_ref", "when": "true"}]}]
})";

std::unique_ptr<MethodSpec> toySpec(const std::string &text = kPydanticSpec) {
  SpecError error;
  std::unique_ptr<MethodSpec> spec = parseMethodSpec(text, "toy.json", error);
  EXPECT_NE(spec, nullptr) << error.str();
  return spec;
}

RaisedError resolveError(const Json &groups) {
  std::unique_ptr<MethodSpec> spec = toySpec();
  std::vector<DispatchMessage> messages;
  RaisedError error;
  if (spec)
    EXPECT_FALSE(resolveConfig(spec->config, {{"groups", groups}}, messages,
                               error));
  return error;
}

std::string patchedSpec(const std::string &from, const std::string &to) {
  std::string text = kPydanticSpec;
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

TEST(Validation, LaxCoercions) {
  FieldType intType{FieldType::Kind::Int, nullptr};
  std::vector<LineError> errors;
  Json value = " 8 ";
  EXPECT_TRUE(validateLax(intType, value, {"x"}, errors));
  EXPECT_EQ(value, Json(8));
  value = 4.0;
  EXPECT_TRUE(validateLax(intType, value, {"x"}, errors));
  EXPECT_EQ(value, Json(4));
  value = "eight";
  EXPECT_FALSE(validateLax(intType, value, {"x"}, errors));
  value = 4.5;
  EXPECT_FALSE(validateLax(intType, value, {"x"}, errors));
  value = Json::array();
  EXPECT_FALSE(validateLax(intType, value, {"x"}, errors));
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].type, "int_parsing");
  EXPECT_EQ(errors[1].type, "int_from_float");
  EXPECT_EQ(errors[2].type, "int_type");

  FieldType boolType{FieldType::Kind::Bool, nullptr};
  value = "Yes";
  EXPECT_TRUE(validateLax(boolType, value, {"b"}, errors));
  EXPECT_EQ(value, Json(true));
  value = 2;
  EXPECT_FALSE(validateLax(boolType, value, {"b"}, errors));
  EXPECT_EQ(errors.back().type, "bool_parsing");
}

TEST(Validation, ListElementsByIndex) {
  FieldType list{FieldType::Kind::List,
                 std::make_shared<FieldType>(
                     FieldType{FieldType::Kind::String, nullptr})};
  std::vector<LineError> errors;
  Json value = Json::array({"a", 3, "c", false});
  EXPECT_FALSE(validateLax(list, value, {"targets"}, errors));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].loc, (std::vector<std::string>{"targets", "1"}));
  EXPECT_EQ(errors[1].loc, (std::vector<std::string>{"targets", "3"}));
  EXPECT_EQ(errors[1].type, "string_type");
  EXPECT_EQ(pydanticTypeTag(list), "list[str]");
  EXPECT_EQ(pydanticModelTag("M", {"a", "b"}),
            "function-after[b(), function-after[a(), M]]");
}

TEST(Validation, InputReprTruncation) {
  ValidationStyle style;
  style.reprLimit = 10;
  style.reprHead = 3;
  style.reprTail = 2;
  EXPECT_EQ(truncatedInputRepr(style, Json("abcdefgh")), "'abcdefgh'");
  EXPECT_EQ(truncatedInputRepr(style, Json("abcdefghi")), "'ab...i'");
  // Code points, not bytes: 'é' is one.
  EXPECT_EQ(truncatedInputRepr(style, Json("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                           "\xc3\xa9")),
            "'\xc3\xa9\xc3\xa9...\xc3\xa9'");
}

TEST(Validation, MissingFieldAndBothUnionBranches) {
  RaisedError error = resolveError({{"g", {{"args", {{"bits", 4}}}}}});
  EXPECT_EQ(error.kind, "ValidationError");
  EXPECT_EQ(error.message,
            "2 validation errors for ToyModel\n"
            "groups.g.function-after[check(), Scheme].targets\n"
            "  Field required [type=missing, input_value={'arg... 4}}, "
            "input_type=dict]\n"
            "    For further information visit "
            "https://example.invalid/v/missing\n"
            "groups.g.list[str]\n"
            "  list! [type=list_type, input_value={'arg... 4}}, "
            "input_type=dict]\n"
            "    For further information visit "
            "https://example.invalid/v/list_type");
}

TEST(Validation, NestedErrorsAreAllCollected) {
  RaisedError error = resolveError(
      {{"g", {{"targets", {"Linear"}}, {"args", {{"bits", "x"}, {"sym", 5}}}}},
       {"h", 7}});
  EXPECT_EQ(error.message.rfind("5 validation errors for ToyModel\n", 0), 0u)
      << error.message;
  for (const char *line :
       {"\ngroups.g.function-after[check(), Scheme].args.bits\n  int parse! "
        "[type=int_parsing, input_value='x', input_type=str]",
        "\ngroups.g.function-after[check(), Scheme].args.sym\n  bool parse! "
        "[type=bool_parsing, input_value=5, input_type=int]",
        "\ngroups.h.function-after[check(), Scheme]\n  not a Scheme "
        "[type=model_type, input_value=7, input_type=int]",
        "\ngroups.h.list[str]\n  list! [type=list_type"})
    EXPECT_NE(error.message.find(line), std::string::npos) << line;
}

TEST(Validation, ValidValuesAreCoercedOrKept) {
  std::unique_ptr<MethodSpec> spec = toySpec();
  ASSERT_NE(spec, nullptr);
  std::vector<DispatchMessage> messages;
  RaisedError error;
  Json groups = {{"g", {{"targets", {"Linear"}}, {"args", {{"bits", "4"}}}}},
                 {"preset", {"Linear"}}};
  std::optional<Json> config =
      resolveConfig(spec->config, {{"groups", groups}}, messages, error);
  ASSERT_TRUE(config) << error.str();
  EXPECT_EQ((*config)["groups"]["g"]["args"],
            Json({{"bits", 4}, {"sym", true}}));
  EXPECT_EQ((*config)["groups"]["preset"], Json({"Linear"}));
}

TEST(Validation, SpecDataIsChecked) {
  SpecError error;
  EXPECT_EQ(parseMethodSpec(patchedSpec(R"("dict_type": "dict!",)", ""),
                            "toy.json", error),
            nullptr);
  EXPECT_EQ(error.pointer, "/config/validation/messages");
  EXPECT_EQ(error.message, "no message for error type 'dict_type'");
  EXPECT_EQ(parseMethodSpec(patchedSpec(R"("dict_type")", R"("dict_typo")"),
                            "toy.json", error),
            nullptr);
  EXPECT_EQ(error.pointer, "/config/validation/messages/dict_typo");
  EXPECT_EQ(parseMethodSpec(patchedSpec(R"("value_schema": "Scheme", )", ""),
                            "toy.json", error),
            nullptr);
  EXPECT_EQ(error.pointer, "/config/fields/0/union_types");
  EXPECT_EQ(parseMethodSpec(patchedSpec(R"("repr_head": 5)",
                                        R"("repr_head": 50)"),
                            "toy.json", error),
            nullptr);
  EXPECT_EQ(error.pointer, "/config/validation");
}

} // namespace
