//===- SpecTest.cpp - Unit tests of spec parsing and the registry ----------===//

#include "spec/BuiltinSpecs.h"
#include "spec/Layout.h"
#include "spec/MethodRegistry.h"
#include "spec/Target.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

using namespace hfq::spec;

namespace {

/// A small but complete spec; tests patch it to introduce one problem.
const char *kToySpec = R"({
  "hfq_spec": 1,
  "config": {
    "class": "ToyConfig",
    "quant_method": "toy",
    "fields": [
      {"name": "bits", "type": "int", "default": 4, "allowed": [4, 8]},
      {"name": "group_size", "type": "int", "default": 128},
      {"name": "modules_to_not_convert", "type": "list<string>", "default": null}
    ],
    "legacy_keys": [{"from": "w_bit", "to": "bits"}],
    "rules": [
      {"when": "group_size == 0", "error": {"kind": "ValueError", "message": "group_size must not be 0, got {group_size}"}}
    ],
    "loading_attributes": ["group_size"]
  },
  "quantizers": [{
    "key": "toy",
    "class": "ToyHfQuantizer",
    "order": 100,
    "requires_calibration": true,
    "skip_modules": {"field": "modules_to_not_convert", "default_skips": "if_unset"},
    "layouts": [{
      "params": {"g": "group_size == -1 ? K : group_size"},
      "require": [{"when": "K % g != 0", "message": "K ({K}) must be a multiple of {g}"}],
      "tensors": [
        {"name": "qweight", "dtype": "i32", "shape": ["K * bits // 32", "N"]},
        {"name": "scales", "dtype": "f16", "shape": ["K // g", "N"]},
        {"name": "g_idx", "dtype": "i32", "shape": ["K"], "when": "bits == 8"}
      ]
    }],
    "kernels": [
      {"name": "toy_gemv", "when": "target.cuda and M >= 1 and M <= 16"},
      {"name": "toy_ref", "when": "true"}
    ]
  }]
})";

std::string patched(const std::string &from, const std::string &to) {
  std::string text = kToySpec;
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

SpecError parseError(const std::string &text) {
  SpecError error;
  EXPECT_EQ(parseMethodSpec(text, "toy.json", error), nullptr);
  return error;
}

TEST(SpecParse, ToySpecParses) {
  SpecError error;
  std::unique_ptr<MethodSpec> spec = parseMethodSpec(kToySpec, "toy.json", error);
  ASSERT_NE(spec, nullptr) << error.str();
  EXPECT_EQ(spec->config.className, "ToyConfig");
  ASSERT_EQ(spec->config.fields.size(), 3u);
  EXPECT_EQ(spec->config.fields[0].name, "bits");
  EXPECT_EQ(*spec->config.fields[0].defaultValue, Json(4));
  EXPECT_TRUE(spec->config.fields[2].nullable);
  EXPECT_EQ(spec->config.fields[2].type.str(), "list<string>");
  ASSERT_EQ(spec->quantizers.size(), 1u);
  const QuantizerSpec &q = spec->quantizers[0];
  EXPECT_EQ(q.method, spec.get());
  EXPECT_TRUE(q.requiresCalibration);
  EXPECT_TRUE(q.serializable.constant);
  EXPECT_EQ(q.kernels.size(), 2u);
  // Without serialize.keys, to_dict() is quant_method then every field.
  ASSERT_EQ(spec->config.serializedKeys.size(), 4u);
  EXPECT_EQ(spec->config.serializedKeys[0].key, "quant_method");
  EXPECT_EQ(spec->config.loadingAttributes, std::vector<std::string>{"group_size"});
  EXPECT_TRUE(spec->config.loadingAttributesClass);
}

TEST(SpecParse, ErrorsNameTheJsonPointer) {
  SpecError e = parseError(patched(R"("type": "int", "default": 4)",
                                   R"("type": "integer", "default": 4)"));
  EXPECT_EQ(e.file, "toy.json");
  EXPECT_EQ(e.pointer, "/config/fields/0/type");
  EXPECT_NE(e.message.find("unknown field type 'integer'"), std::string::npos);

  e = parseError(patched(R"("order": 100)", R"("order": "first")"));
  EXPECT_EQ(e.pointer, "/quantizers/0/order");
  EXPECT_EQ(e.message, "expected an integer, got str");

  e = parseError(patched(R"("K * bits // 32")", R"("K * bits // ")"));
  EXPECT_EQ(e.pointer, "/quantizers/0/layouts/0/tensors/0/shape/0");
  EXPECT_NE(e.message.find("bad expression 'K * bits // '"), std::string::npos);
  EXPECT_NE(e.message.find("column"), std::string::npos);

  e = parseError(patched(R"("when": "true"})", R"("when": "tru"})"));
  EXPECT_EQ(e.pointer, "/quantizers/0/kernels/1/when");
  EXPECT_NE(e.message.find("unknown name 'tru'"), std::string::npos);
}

TEST(SpecParse, RejectsUnknownKeysAndBadDefaults) {
  SpecError e = parseError(patched(R"("order": 100,)", R"("order": 100, "ordr": 1,)"));
  EXPECT_EQ(e.pointer, "/quantizers/0/ordr");
  EXPECT_NE(e.message.find("unknown key 'ordr'"), std::string::npos);

  e = parseError(patched(R"("default": 128})", R"("default": "128"})"));
  EXPECT_EQ(e.pointer, "/config/fields/1/default");
  EXPECT_NE(e.message.find("not of the field's type int"), std::string::npos);

  e = parseError(patched(R"("to": "bits")", R"("to": "nbits")"));
  EXPECT_EQ(e.pointer, "/config/legacy_keys/0/to");
}

TEST(SpecParse, NamesAreCheckedInTheirScope) {
  // `M` is in scope for kernels but not for layouts.
  SpecError e = parseError(patched(R"("when": "bits == 8")", R"("when": "M == 8")"));
  EXPECT_EQ(e.pointer, "/quantizers/0/layouts/0/tensors/2/when");
  EXPECT_NE(e.message.find("unknown name 'M'"), std::string::npos);
  // Message templates are checked too.
  e = parseError(patched("got {group_size}", "got {group}"));
  EXPECT_EQ(e.pointer, "/config/rules/0/error/message");
  EXPECT_NE(e.message.find("unknown name 'group'"), std::string::npos);
}

TEST(SpecParse, SchemasAreChecked) {
  const std::string schemas =
      R"("schemas": [{"name": "Args", "fields": [
          {"name": "kind", "type": "string", "default": "a"},
          {"name": "data", "type": "any", "default": null, "schema_from": "kind"}],
        "rules": [{"when": "kind == 'b'", "set": {"data": "null"}}],
        "omit_if_null": ["data"]}],
      "legacy_keys")";
  // A schema that parses, referenced by a field.
  SpecError error;
  std::string good = patched(R"("legacy_keys")", schemas);
  const std::string lastField =
      R"({"name": "modules_to_not_convert", "type": "list<string>", "default": null})";
  good.replace(good.find(lastField), lastField.size(),
               lastField + R"(,
      {"name": "extra", "type": "dict", "default": null, "schema": "Args"})");
  std::unique_ptr<MethodSpec> spec = parseMethodSpec(good, "toy.json", error);
  ASSERT_NE(spec, nullptr) << error.str();
  ASSERT_EQ(spec->config.schemas.size(), 1u);
  EXPECT_EQ(spec->config.fields[3].schema, "Args");
  EXPECT_EQ(spec->config.schemas[0].fields[1].schemaFrom, "kind");

  // An unknown schema name.
  std::string bad = good;
  bad.replace(bad.find(R"("schema": "Args")"), 16, R"("schema": "Argz")");
  SpecError e = parseError(bad);
  EXPECT_EQ(e.pointer, "/config/fields/3/schema");
  EXPECT_EQ(e.message, "unknown schema 'Argz'");

  // A schema on a field that cannot hold an object.
  bad = good;
  bad.replace(bad.find(R"("type": "dict", "default": null, "schema")"), 14,
              R"("type": "int")");
  e = parseError(bad);
  EXPECT_EQ(e.pointer, "/config/fields/3/schema");

  // schema_from must name an earlier field of the schema.
  bad = good;
  bad.replace(bad.find(R"("schema_from": "kind")"), 21,
              R"("schema_from": "knd")");
  e = parseError(bad);
  EXPECT_EQ(e.pointer, "/config/schemas/0/fields/1/schema_from");

  // Rules and omit lists are checked against the schema's fields.
  bad = good;
  bad.replace(bad.find(R"("omit_if_null": ["data"])"), 24,
              R"("omit_if_null": ["dta"])");
  e = parseError(bad);
  EXPECT_EQ(e.pointer, "/config/schemas/0/omit_if_null/0");
  bad = good;
  bad.replace(bad.find("kind == 'b'"), 11, "bits == 4");
  e = parseError(bad);
  EXPECT_EQ(e.pointer, "/config/schemas/0/rules/0/when");
}

TEST(SpecParse, InvalidJsonAndDuplicateKeys) {
  SpecError e = parseError("{\"hfq_spec\": 1,");
  EXPECT_EQ(e.pointer, "");
  EXPECT_NE(e.message.find("invalid JSON"), std::string::npos);
  EXPECT_NE(e.str().find("toy.json: /: invalid JSON"), std::string::npos);

  e = parseError(patched(R"("group_size", "type": "int", "default": 128})",
                         R"("group_size", "type": "int", "default": 128, "type": "int"})"));
  EXPECT_EQ(e.pointer, "/config/fields/1/type");
  EXPECT_EQ(e.message, "duplicate key in JSON object");
}

TEST(SpecLayout, ResolvesShapesAndOptionalTensors) {
  SpecError error;
  std::unique_ptr<MethodSpec> spec = parseMethodSpec(kToySpec, "toy.json", error);
  ASSERT_NE(spec, nullptr);
  std::string message;
  auto layout = resolveLayout(spec->quantizers[0], Json::object(), Json(), 256,
                              512, "f32", message);
  ASSERT_TRUE(layout) << message;
  ASSERT_EQ(layout->size(), 2u);
  EXPECT_EQ((*layout)[0].name, "qweight");
  EXPECT_EQ((*layout)[0].shape, (std::vector<int64_t>{64, 256}));
  EXPECT_EQ((*layout)[1].dtype, "f16");
  EXPECT_EQ((*layout)[1].shape, (std::vector<int64_t>{4, 256}));

  layout = resolveLayout(spec->quantizers[0], Json{{"bits", 8}, {"group_size", -1}},
                         Json(), 256, 512, "f32", message);
  ASSERT_TRUE(layout) << message;
  ASSERT_EQ(layout->size(), 3u);
  EXPECT_EQ((*layout)[0].shape, (std::vector<int64_t>{128, 256}));
  EXPECT_EQ((*layout)[1].shape, (std::vector<int64_t>{1, 256}));
  EXPECT_EQ((*layout)[2].shape, (std::vector<int64_t>{512}));

  EXPECT_FALSE(resolveLayout(spec->quantizers[0], Json::object(), Json(), 256,
                             100, "f32", message));
  EXPECT_EQ(message, "K (100) must be a multiple of 128");
}

TEST(SpecLayout, ActDtypeIsTheModelsActivationType) {
  // A tensor written in the model's dtype (quark's scales) says so with
  // `act_dtype`, the name kernel rules use for the same fact.
  SpecError error;
  std::unique_ptr<MethodSpec> spec =
      parseMethodSpec(patched(R"("dtype": "f16", "shape": ["K // g")",
                              R"("dtype": "act_dtype", "shape": ["K // g")"),
                      "toy.json", error);
  ASSERT_NE(spec, nullptr) << error.str();
  std::string message;
  for (const char *act : {"f32", "bf16", "f16"}) {
    auto layout = resolveLayout(spec->quantizers[0], Json::object(), Json(),
                                256, 512, act, message);
    ASSERT_TRUE(layout) << message;
    EXPECT_EQ((*layout)[1].dtype, act);
  }

  // A dtype expression over it must still yield an element type name.
  spec = parseMethodSpec(
      patched(R"("dtype": "f16", "shape": ["K // g")",
              R"("dtype": "act_dtype == 'bf16'", "shape": ["K // g")"),
      "toy.json", error);
  ASSERT_NE(spec, nullptr) << error.str();
  EXPECT_FALSE(resolveLayout(spec->quantizers[0], Json::object(), Json(), 256,
                             512, "bf16", message));
  EXPECT_EQ(message, "the dtype of tensor 'scales' evaluates to True, not an "
                     "element type name");

  // It is a property of the model being loaded: config rules and
  // selected_when, which decide before there is one, cannot name it.
  SpecError e = parseError(patched(R"("when": "group_size == 0")",
                                   R"("when": "act_dtype == 'bf16'")"));
  EXPECT_EQ(e.pointer, "/config/rules/0/when");
  EXPECT_NE(e.message.find("unknown name 'act_dtype'"), std::string::npos);
}

TEST(SpecTarget, ParsesComputeTargets) {
  std::optional<Json> sm90a = targetScope("sm_90a");
  ASSERT_TRUE(sm90a);
  EXPECT_EQ((*sm90a)["sm"], Json(90));
  EXPECT_EQ((*sm90a)["major"], Json(9));
  EXPECT_EQ((*sm90a)["cuda"], Json(true));
  std::optional<Json> cpu = targetScope("cpu");
  ASSERT_TRUE(cpu);
  EXPECT_EQ((*cpu)["cuda"], Json(false));
  EXPECT_FALSE(targetScope("sm_x0"));
  EXPECT_FALSE(targetScope("hopper"));
}

TEST(Registry, DuplicateKeyNamesBothFiles) {
  MethodRegistry registry;
  SpecError error;
  ASSERT_TRUE(registry.addText(kToySpec, "a/toy.json", error)) << error.str();
  EXPECT_FALSE(registry.addText(kToySpec, "b/toy.json", error));
  EXPECT_EQ(error.file, "b/toy.json");
  EXPECT_EQ(error.pointer, "/quantizers/0/key");
  EXPECT_NE(error.message.find("Quantizer 'toy' already registered (by a/toy.json)"),
            std::string::npos);
  // The failed add changed nothing.
  EXPECT_EQ(registry.lookup("toy")->method->file, "a/toy.json");
}

TEST(Registry, OverrideReplacesAKey) {
  MethodRegistry registry;
  SpecError error;
  ASSERT_TRUE(registry.addText(kToySpec, "a/toy.json", error));
  std::string text = patched(R"("order": 100,)", R"("order": 100, "overrides": true,)");
  ASSERT_TRUE(registry.addText(text, "b/toy.json", error)) << error.str();
  EXPECT_EQ(registry.lookup("toy")->method->file, "b/toy.json");
  EXPECT_EQ(registry.keys(), std::vector<std::string>{"toy"});
}

TEST(Registry, LoadsADirectoryInNameOrder) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "hfq-registry-test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "b.json") << patched(R"("key": "toy")", R"("key": "toy_b")");
  std::ofstream(dir / "a.json") << kToySpec;
  std::ofstream(dir / "notes.txt") << "not a spec";
  MethodRegistry registry;
  SpecError error;
  // Both declare quant_method "toy": the second one (b.json) conflicts.
  EXPECT_FALSE(registry.loadPath(dir.string(), error));
  EXPECT_EQ(error.file, (dir / "b.json").string());
  EXPECT_EQ(error.pointer, "/config/quant_method");
  EXPECT_FALSE(registry.loadPath((dir / "missing.json").string(), error));
  EXPECT_EQ(error.message, "no such spec file or directory");
  fs::remove_all(dir);
}

TEST(Registry, BuiltinsHoldTheKeysInTransformersOrder) {
  // transformers 5.17's AUTO_QUANTIZER_MAPPING (quantizers/auto.py): its 27
  // keys, in its order.
  MethodRegistry registry;
  SpecError error;
  ASSERT_TRUE(loadBuiltinSpecs(registry, error)) << error.str();
  std::string keys;
  for (const std::string &key : registry.keys())
    keys += (keys.empty() ? "" : " ") + key;
  EXPECT_EQ(keys,
            "awq bitsandbytes_4bit bitsandbytes_8bit gptq aqlm quanto "
            "quark fouroversix fp_quant eetq higgs hqq compressed-tensors "
            "fbgemm_fp8 torchao bitnet vptq spqr fp8 gguf nvfp4 mxfp8 "
            "auto-round mxfp4 metal sinq gemma");
  ASSERT_NE(registry.lookup("bitsandbytes_4bit"), nullptr);
  EXPECT_EQ(registry.lookup("bitsandbytes_4bit")->method->config.className,
            "BitsAndBytesConfig");
  EXPECT_EQ(registry.lookupConfig("bitsandbytes"),
            &registry.lookup("bitsandbytes_8bit")->method->config);
  EXPECT_TRUE(registry.lookup("awq")->requiresCalibration);
  EXPECT_FALSE(registry.lookup("gptq")->requiresCalibration);
}

TEST(Registry, HqqOptimizeArgDefaultsToTrue) {
  // hqq's Quantizer.quantize defaults optimize=True; the layout's last arg
  // (read by kernels/ref/HqqEntry.cpp) follows the key, true when absent.
  MethodRegistry registry;
  SpecError error;
  ASSERT_TRUE(loadBuiltinSpecs(registry, error)) << error.str();
  const QuantizerSpec &q = registry.lookup("hqq")->method->quantizers[0];
  auto lastArg = [&](const Json &wq) {
    Json config = Json::object();
    config["quant_config"] = Json{{"weight_quant_params", wq}};
    std::string message;
    auto r = resolveLayoutWithArgs(q, config, Json(), 128, 128, "f32", message);
    EXPECT_TRUE(r) << message;
    if (!r || r->args.empty())
      return std::make_pair(std::string(), -1.0);
    return r->args.back();
  };
  Json wq{{"nbits", 4}, {"group_size", 64}, {"axis", 1}};
  EXPECT_EQ(lastArg(wq), std::make_pair(std::string("optimize"), 1.0));
  wq["optimize"] = false;
  EXPECT_EQ(lastArg(wq), std::make_pair(std::string("optimize"), 0.0));
  wq["optimize"] = true;
  EXPECT_EQ(lastArg(wq), std::make_pair(std::string("optimize"), 1.0));
}

} // namespace

//===----------------------------------------------------------------------===//
// Spec-defined functions and templates (config.functions, serialize
// "template"): how quark's to_dict() writes amd-quark's dataclass reprs
//===----------------------------------------------------------------------===//

namespace {

/// The toy spec with functions and a to_dict() template that calls them.
std::string withFunctions(const std::string &functions,
                          const std::string &keys) {
  return patched(R"js("loading_attributes": ["group_size"])js",
                 R"js("loading_attributes": ["group_size"], "functions": )js" +
                     functions + R"js(, "serialize": {"keys": )js" + keys + "}");
}

const char *kReprFunctions = R"js([
  {"name": "enum_repr", "params": ["cls", "name", "value"], "template": "<{cls}.{name}: {repr(value)}>"},
  {"name": "opt", "params": ["d"], "value": "d == null ? 'None' : enum_repr('Bits', 'b' + str(get(d, 'b', 4)), get(d, 'b', 4))"},
  {"name": "point", "params": ["d"], "template": "Point(x={repr(get(d, 'x', 0.0))}, tag={opt(get(d, 'tag', None))})"}
])js";

Json evaluateKey(const MethodSpec &spec, size_t index, const Json &config) {
  ExprError error;
  std::optional<Json> value =
      spec.config.serializedKeys.at(index).value->evaluate(
          configScope(spec.config, config), error);
  EXPECT_TRUE(value) << error.str();
  return value ? *value : Json();
}

} // namespace

TEST(SpecFunctions, TemplatesRenderDataclassReprs) {
  SpecError error;
  std::unique_ptr<MethodSpec> spec = parseMethodSpec(
      withFunctions(kReprFunctions,
                    R"js([{"key": "p", "template": "<Point: {point(dict())}>"},
                        {"key": "q", "value": "point(modules_to_not_convert == null ? dict() : dict())"},
                        "quant_method"])js"),
      "toy.json", error);
  ASSERT_NE(spec, nullptr) << error.str();
  ASSERT_EQ(spec->config.serializedKeys.size(), 3u);
  // Every default filled in, str() of the placeholders, nested calls.
  EXPECT_EQ(evaluateKey(*spec, 0, Json::object()),
            "<Point: Point(x=0.0, tag=None)>");
  EXPECT_EQ(evaluateKey(*spec, 1, Json::object()), "Point(x=0.0, tag=None)");
}

TEST(SpecFunctions, CallsSeeOnlyTheirArguments) {
  SpecError error;
  std::unique_ptr<MethodSpec> spec = parseMethodSpec(
      withFunctions(kReprFunctions,
                    R"js([{"key": "p", "template": "{point(modules_to_not_convert)}"}])js"),
      "toy.json", error);
  ASSERT_NE(spec, nullptr) << error.str();
  Json given = Json::object();
  given["modules_to_not_convert"] = Json::parse(R"js({"x": 1.5, "tag": {"b": 8}})js");
  EXPECT_EQ(evaluateKey(*spec, 0, given),
            "Point(x=1.5, tag=<Bits.b8: 8>)");
  // A value of the wrong kind is an evaluation error naming the function,
  // never a crash.
  given["modules_to_not_convert"] = Json::array({"a"});
  ExprError exprError;
  EXPECT_FALSE(spec->config.serializedKeys[0].value->evaluate(
      configScope(spec->config, given), exprError));
  EXPECT_NE(exprError.message.find("in point(): get() needs a dict"),
            std::string::npos)
      << exprError.str();
}

TEST(SpecFunctions, DefinitionsAreChecked) {
  auto fails = [](const std::string &functions, const std::string &keys) {
    return parseError(withFunctions(functions, keys));
  };
  const std::string keys = R"js(["quant_method"])js";
  // A body reads only its parameters.
  SpecError e = fails(R"js([{"name": "f", "params": ["a"], "value": "a + bits"}])js", keys);
  EXPECT_EQ(e.pointer, "/config/functions/0/value");
  EXPECT_NE(e.message.find("unknown name 'bits'"), std::string::npos);
  // Only earlier functions may be called: no recursion.
  e = fails(R"js([{"name": "f", "params": ["a"], "value": "f(a)"}])js", keys);
  EXPECT_NE(e.message.find("unknown function 'f'"), std::string::npos);
  e = fails(R"js([{"name": "f", "params": [], "value": "1"},
               {"name": "f", "params": [], "value": "2"}])js", keys);
  EXPECT_EQ(e.pointer, "/config/functions/1/name");
  e = fails(R"js([{"name": "len", "params": ["a"], "value": "a"}])js", keys);
  EXPECT_NE(e.message.find("already defined"), std::string::npos);
  e = fails(R"js([{"name": "f", "params": ["a"], "value": "a", "template": "{a}"}])js", keys);
  EXPECT_EQ(e.pointer, "/config/functions/0");
  e = fails(R"js([{"name": "f", "params": ["a", "a"], "value": "a"}])js", keys);
  EXPECT_EQ(e.pointer, "/config/functions/0/params");
  // Arity and template syntax are load-time errors where the call stands.
  e = fails(kReprFunctions, R"js([{"key": "p", "value": "point(1, 2)"}])js");
  EXPECT_EQ(e.pointer, "/config/serialize/keys/0/value");
  EXPECT_NE(e.message.find("point() takes 1 argument (2 given)"), std::string::npos);
  e = fails(kReprFunctions, R"js([{"key": "p", "template": "{point(dict()"}])js");
  EXPECT_EQ(e.pointer, "/config/serialize/keys/0/template");
  EXPECT_NE(e.message.find("bad template"), std::string::npos);
  e = fails(kReprFunctions, R"js([{"key": "p", "value": "1", "template": "x"}])js");
  EXPECT_EQ(e.pointer, "/config/serialize/keys/0");
}

TEST(SpecFunctions, CallCountIsBounded) {
  // Each function calls the one before twice: 2^20 calls, over the bound.
  std::string functions = R"js([{"name": "f0", "params": ["a"], "value": "a"})js";
  for (int i = 1; i <= 20; ++i)
    functions += R"js(, {"name": "f)js" + std::to_string(i) +
                 R"js(", "params": ["a"], "value": "f)js" + std::to_string(i - 1) +
                 "(a) + f" + std::to_string(i - 1) + "(a)\"}";
  functions += "]";
  SpecError error;
  std::unique_ptr<MethodSpec> spec = parseMethodSpec(
      withFunctions(functions, R"js([{"key": "p", "value": "f20(1)"}])js"),
      "toy.json", error);
  ASSERT_NE(spec, nullptr) << error.str();
  ExprError exprError;
  EXPECT_FALSE(spec->config.serializedKeys[0].value->evaluate(
      configScope(spec->config, Json::object()), exprError));
  EXPECT_NE(exprError.message.find("function calls in one evaluation"),
            std::string::npos)
      << exprError.str();
  // Small chains evaluate.
  spec = parseMethodSpec(
      withFunctions(functions, R"js([{"key": "p", "value": "f3(1)"}])js"),
      "toy.json", error);
  ASSERT_NE(spec, nullptr) << error.str();
  EXPECT_EQ(evaluateKey(*spec, 0, Json::object()), Json(8));
}

TEST(SpecFunctions, QuarkWritesAmdQuarkReprs) {
  // quark.json's to_dict(): the legacy export (no `export`) is
  // JsonExporterConfig() with every default.
  MethodRegistry registry;
  SpecError loadError;
  ASSERT_TRUE(loadBuiltinSpecs(registry, loadError)) << loadError.str();
  const QuantizerSpec *quark = registry.lookup("quark");
  ASSERT_NE(quark, nullptr);
  const ConfigSpec &config = quark->method->config;
  Json given = Json::parse(R"js({"global_quant_config": {"weight": {"dtype": "int4", "round_method": "floor"}}})js");
  Json scope = configScope(config, given);
  std::map<std::string, std::string> written;
  for (const SerializedKey &key : config.serializedKeys) {
    if (!key.value)
      continue;
    ExprError error;
    std::optional<Json> value = key.value->evaluate(scope, error);
    ASSERT_TRUE(value) << key.key << ": " << error.str();
    written[key.key] = pythonStr(*value);
  }
  EXPECT_EQ(written["json_export_config"],
            "<JsonExporterConfig: JsonExporterConfig(weight_merge_groups=None, "
            "kv_cache_group=[], min_kv_scale=0.0, weight_format='real_quantized', "
            "pack_method='reorder')>");
  EXPECT_NE(written["quant_config"].find(
                "weight=QTensorConfig(dtype=<Dtype.int4: 'int4'>, observer_cls=None, "),
            std::string::npos);
  EXPECT_NE(written["quant_config"].find("round_method=<RoundType.floor: 3>"),
            std::string::npos);
  EXPECT_NE(written["quant_config"].find(
                "quant_mode=<QuantizationMode.eager_mode: 1>"),
            std::string::npos);
}
