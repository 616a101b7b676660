//===- LimitsTest.cpp - Unit tests of the input limits
//---------------------===//
//
// spec/Input.h (bounded JSON, files, quoting, IR nesting) and the limits
// checkpoint/ModelShapes.cpp applies to config.json, at their boundaries.
// docs/limits.md lists every limit; the lit tests in test/hardening run the
// tools on the malformed files themselves.
//
//===----------------------------------------------------------------------===//

#include "checkpoint/ModelShapes.h"
#include "spec/Input.h"
#include "spec/MethodSpec.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

using namespace hfq;
using spec::Json;

namespace {

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonLimits, DepthIsCheckedWhileParsing) {
  Json value;
  spec::JsonParseError error;
  EXPECT_TRUE(spec::parseJsonText(nested(limits::kMaxJsonDepth), value, error));
  EXPECT_FALSE(
      spec::parseJsonText(nested(limits::kMaxJsonDepth + 1), value, error));
  EXPECT_TRUE(value.is_null()); // Nothing half-built is handed back.
  EXPECT_EQ(error.message, "JSON nested deeper than 64 levels (limit: 64, "
                           "kMaxJsonDepth in spec/Limits.h)");
  // The pointer is where the 65th level starts.
  EXPECT_EQ(error.pointer, "/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/"
                           "0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/"
                           "0/0/0/0/0/0/0/0/0/0/0/0/0/0/0");
  // 10^6 levels: refused as fast, no recursion anywhere.
  EXPECT_FALSE(spec::parseJsonText(nested(1000000), value, error));
  EXPECT_FALSE(spec::parseJson(nested(1000000)));
  // Objects count too, and the pointer names keys.
  EXPECT_FALSE(spec::parseJsonText(
      R"({"a": {"b": [{"c": )" + nested(62) + "}]}}", value, error));
  EXPECT_EQ(error.pointer.substr(0, 11), "/a/b/0/c/0/");
}

TEST(JsonLimits, PointersOfErrors) {
  Json value;
  spec::JsonParseError error;
  spec::JsonParseOptions strict;
  strict.rejectDuplicateKeys = true;
  EXPECT_FALSE(spec::parseJsonText(R"({"x": [1, {"a/b": 1, "a/b": 2}]})", value,
                                   error, strict));
  EXPECT_EQ(error.pointer, "/x/1/a~1b");
  EXPECT_EQ(error.message, "duplicate key in JSON object");
  // Without the option the last value wins at the first one's position
  // (Python's json, and nlohmann's own parser).
  ASSERT_TRUE(spec::parseJsonText(R"({"a": 1, "b": 2, "a": 3})", value, error));
  EXPECT_EQ(value.dump(), R"({"a":3,"b":2})");
  EXPECT_FALSE(spec::parseJsonText("{\"a\": tru}", value, error));
  EXPECT_EQ(error.pointer, "");
  EXPECT_EQ(
      error.message.rfind("invalid JSON: parse error at line 1, column ", 0),
      0u);
}

TEST(JsonLimits, ParsesLikeNlohmann) {
  const char *text = R"({"b": [1, -2, 3.5, 1e300, 18446744073709551615,
    null, true, "\u00e9\ud83d\ude00"], "a": {}, "c": [], "d": {"x": {"y": 1}}})";
  Json value;
  spec::JsonParseError error;
  ASSERT_TRUE(spec::parseJsonText(text, value, error)) << error.message;
  EXPECT_EQ(value.dump(), Json::parse(text).dump());
  EXPECT_EQ(value.begin().key(), "b"); // Key order is kept.
}

TEST(JsonLimits, ManyKeysParseInLinearTime) {
  // 300k members, one of them repeated at the end: nlohmann's ordered_json
  // searches every member on each insertion (quadratic); this is not.
  std::string text = "{";
  for (int i = 0; i < 300000; ++i)
    text += "\"t" + std::to_string(i) + "\": " + std::to_string(i) + ",";
  text += "\"t7\": -1}";
  auto start = std::chrono::steady_clock::now();
  Json value;
  spec::JsonParseError error;
  ASSERT_TRUE(spec::parseJsonText(text, value, error));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_EQ(value.size(), 300000u);
  EXPECT_EQ(value["t7"], -1);
  EXPECT_LT(seconds, 20.0); // ~0.3 s; minutes when quadratic.
}

TEST(JsonLimits, FindTooDeep) {
  Json value = Json::parse(R"({"a": [[1], {"b": [[[]]]}]})");
  EXPECT_FALSE(spec::findTooDeep(value, 6));
  EXPECT_EQ(spec::findTooDeep(value, 5).value_or("none"), "/a/1/b/0/0");
  EXPECT_FALSE(spec::findTooDeep(Json(3), 0));
}

TEST(InputFiles, RegularFilesOnly) {
  std::string text, error;
  EXPECT_FALSE(spec::readInputFile("/dev/zero", "config.json", text, error));
  EXPECT_EQ(error,
            "config.json must be a regular file, not a character device");
  EXPECT_FALSE(spec::readInputFile("/", "config.json", text, error));
  EXPECT_EQ(error, "config.json must be a regular file, not a directory");
  EXPECT_FALSE(
      spec::readInputFile("/no/such/file", "config.json", text, error));
  EXPECT_EQ(error, "cannot open config.json");

  std::string path = testing::TempDir() + "hfq-limits-test.json";
  {
    FILE *f = std::fopen(path.c_str(), "wb");
    ASSERT_TRUE(f);
    std::fputs("{\"a\": 1}", f);
    std::fclose(f);
  }
  ASSERT_TRUE(spec::readInputFile(path, "config.json", text, error));
  EXPECT_EQ(text, "{\"a\": 1}");
  EXPECT_FALSE(spec::readInputFile(path, "config.json", text, error, 7,
                                   "kMaxJsonFileBytes"));
  EXPECT_EQ(error, "config.json is 8 bytes, more than hfq reads (limit: 7, "
                   "kMaxJsonFileBytes in spec/Limits.h)");
  Json value;
  ASSERT_TRUE(spec::readJsonFile(path, "config.json", value, error));
  EXPECT_EQ(value["a"], 1);
  std::remove(path.c_str());
}

TEST(Messages, QuoteLimited) {
  EXPECT_EQ(spec::quoteLimited("short"), "short");
  std::string longText(1000, 'x');
  EXPECT_EQ(spec::quoteLimited(longText, 4), "xxxx... (1000 bytes)");
  // Never cuts a UTF-8 sequence: "é" is two bytes.
  EXPECT_EQ(spec::quoteLimited("a\xc3\xa9z", 2), "a... (4 bytes)");
}

TEST(IrNesting, BracketsOutsideStringsAndComments) {
  EXPECT_FALSE(
      spec::findDeepNesting("module { func.func @f() -> tensor<4xf32> }", 3));
  auto at = spec::findDeepNesting("module {\n  x = [[[[1]]]]\n}", 4);
  ASSERT_TRUE(at);
  EXPECT_EQ(*at, std::make_pair(std::size_t(2), std::size_t(10)));
  // Strings, comments, arrows and comparisons do not count.
  EXPECT_FALSE(spec::findDeepNesting(
      "\"[[[[[[\" // [[[[[[\n%0 = affine.if #set(d0) : (d0 >= 0) -> ()", 3));
  EXPECT_TRUE(spec::findDeepNesting(std::string(100000, '<'), 512));
}

Json llama(int64_t layers) {
  return Json{{"model_type", "llama"},       {"hidden_size", 4096},
              {"num_hidden_layers", layers}, {"num_attention_heads", 32},
              {"intermediate_size", 11008},  {"vocab_size", 32000}};
}

TEST(ConfigLimits, LayersAndSizes) {
  std::vector<checkpoint::LinearInfo> linears;
  std::string error;
  ASSERT_TRUE(checkpoint::linearsFromConfig(llama(32), linears, error));
  EXPECT_EQ(linears.size(), 32u * 7 + 1);
  EXPECT_EQ(error, "");

  // num_hidden_layers = 10^9 ran out of memory.
  linears.clear();
  EXPECT_FALSE(
      checkpoint::linearsFromConfig(llama(1000000000), linears, error));
  EXPECT_EQ(error, "/num_hidden_layers: 1000000000 is more than hfq plans for "
                   "(limit: 16384, kMaxHiddenLayers in spec/Limits.h)");
  EXPECT_TRUE(linears.empty());
  EXPECT_TRUE(checkpoint::linearsFromConfig(llama(limits::kMaxHiddenLayers),
                                            linears, error));
  linears.clear();

  Json config = llama(2);
  config["head_dim"] = -5; // Printed as shapes "4096 x -5" before.
  EXPECT_FALSE(checkpoint::linearsFromConfig(config, linears, error));
  EXPECT_EQ(error, "/head_dim: -5 is less than 1");
  config["head_dim"] = "128";
  EXPECT_FALSE(checkpoint::linearsFromConfig(config, linears, error));
  EXPECT_EQ(error, "/head_dim: expected an integer, got str");
  config["head_dim"] = nullptr; // null is absent.
  EXPECT_TRUE(checkpoint::linearsFromConfig(config, linears, error));
  linears.clear();
  config["hidden_size"] = 18446744073709551615u;
  EXPECT_FALSE(checkpoint::linearsFromConfig(config, linears, error));
  EXPECT_EQ(error, "/hidden_size: 18446744073709551615 is more than hfq plans "
                   "for (limit: 16777216, kMaxConfigDim in spec/Limits.h)");
}

TEST(ConfigLimits, DerivedShapesAndExperts) {
  std::vector<checkpoint::LinearInfo> linears;
  std::string error;
  // Two sizes in range whose product is not (it overflowed int64 in the
  // planner's output before: "-4611686018427387416 linear layers").
  Json config = llama(1);
  config["num_attention_heads"] = limits::kMaxConfigDim;
  config["head_dim"] = limits::kMaxConfigDim;
  EXPECT_FALSE(checkpoint::linearsFromConfig(config, linears, error));
  EXPECT_EQ(error, "/: model.layers.0.self_attn.q_proj would have N = "
                   "281474976710656 (limit: 2147483647, kMaxLinearDim in "
                   "spec/Limits.h)");
  Json deepseek = {{"model_type", "deepseek_v3"},
                   {"hidden_size", 7168},
                   {"num_hidden_layers", 4},
                   {"num_attention_heads", 128},
                   {"q_lora_rank", 1536},
                   {"kv_lora_rank", 512},
                   {"qk_nope_head_dim", 128},
                   {"qk_rope_head_dim", 64},
                   {"v_head_dim", 128},
                   {"intermediate_size", 18432},
                   {"moe_intermediate_size", 2048},
                   {"n_routed_experts", 256},
                   {"n_shared_experts", 1},
                   {"first_k_dense_replace", 3},
                   {"vocab_size", 129280}};
  ASSERT_TRUE(checkpoint::linearsFromConfig(deepseek, linears, error)) << error;
  deepseek["n_routed_experts"] = 4611686018427387904;
  EXPECT_FALSE(checkpoint::linearsFromConfig(deepseek, linears, error));
  EXPECT_EQ(error, "/n_routed_experts: 4611686018427387904 is more than hfq "
                   "plans for (limit: 65536, kMaxExperts in spec/Limits.h)");
}

} // namespace
