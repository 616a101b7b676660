//===- DispatchTest.cpp - Unit tests of config resolution and dispatch
//-----===//
//
// Expected values are transformers' behaviour as the shared reference
// (transformers-quantizers.md, §1.2-1.7, §2, §3) states it: message texts
// are copied from there, key orders from the config classes' __init__
// order, and the real hub configs (Inputs/real-quant-configs.json) each get
// the quantizer key their source line names.
//
//===----------------------------------------------------------------------===//

#include "quantizer/GetHfQuantizer.h"
#include "quantizer/QuantizationConfig.h"
#include "quantizer/SkipPatterns.h"
#include "spec/BuiltinSpecs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

using namespace hfq::spec;
using Level = DispatchMessage::Level;

namespace {

const MethodRegistry &builtins() {
  // Built once: every test reads the same shipped specs.
  static const MethodRegistry *registry = [] {
    auto *r = new MethodRegistry;
    SpecError error;
    if (!loadBuiltinSpecs(*r, error))
      ADD_FAILURE() << error.str();
    return r;
  }();
  return *registry;
}

const ConfigSpec *configOf(const std::string &key) {
  const QuantizerSpec *quantizer = builtins().lookup(key);
  return quantizer ? &quantizer->method->config : nullptr;
}

struct Resolved {
  std::optional<Json> config;
  std::vector<DispatchMessage> messages;
  RaisedError error;
};

Resolved resolve(const std::string &key, const Json &dict) {
  Resolved out;
  const ConfigSpec *spec = configOf(key);
  EXPECT_NE(spec, nullptr) << key;
  if (spec)
    out.config = resolveConfig(*spec, dict, out.messages, out.error);
  return out;
}

std::vector<std::string> keysOf(const Json &object) {
  std::vector<std::string> keys;
  for (const auto &item : object.items())
    keys.push_back(item.key());
  return keys;
}

/// Key order does not matter when comparing with a hub file (its keys were
/// sorted by to_json_string).
bool sameUnordered(const Json &a, const Json &b) {
  return nlohmann::json::parse(a.dump()) == nlohmann::json::parse(b.dump());
}

/// The 27 keys of transformers 5.17's AUTO_QUANTIZER_MAPPING
/// (quantizers/auto.py), in its order, as Python prints the list.
const std::string kSupported =
    "['awq', 'bitsandbytes_4bit', 'bitsandbytes_8bit', 'gptq', 'aqlm', "
    "'quanto', 'quark', 'fouroversix', 'fp_quant', 'eetq', 'higgs', 'hqq', "
    "'compressed-tensors', 'fbgemm_fp8', 'torchao', 'bitnet', 'vptq', "
    "'spqr', 'fp8', 'gguf', 'nvfp4', 'mxfp8', 'auto-round', 'mxfp4', "
    "'metal', 'sinq', 'gemma']";

const std::string kNoQuantMethod =
    "The model's quantization config from the arguments has no `quant_method` "
    "attribute. Make sure that the model has been correctly quantized";

const std::string kMergeWarning =
    "You passed `quantization_config` or equivalent parameters to "
    "`from_pretrained` but the model you're loading already has a "
    "`quantization_config` attribute. The `quantization_config` from the "
    "model will be used.";

std::string unknownSkipWarning(const std::string &method) {
  return "Unknown quantization type, got " + method +
         " - supported types are: " + kSupported +
         ". Hence, we will skip the quantization. To remove the warning, you "
         "can delete the quantization_config attribute in config.json";
}

const char *kBnbOffloadError =
    "Some modules are dispatched on the CPU or the disk. Make sure you have "
    "enough GPU RAM to fit the quantized model. If you want to dispatch the "
    "model on the CPU or the disk while keeping these modules in 32-bit, you "
    "need to set `llm_int8_enable_fp32_cpu_offload=True` and pass a custom "
    "`device_map` to `from_pretrained`. Check "
    "https://huggingface.co/docs/transformers/main/en/main_classes/"
    "quantization#offload-between-cpu-and-gpu for more details. ";

const Json kHqqQuantConfig = Json::parse(R"({
  "weight_quant_params": {"nbits": 4, "channel_wise": true, "group_size": 64,
                          "optimize": true, "round_zero": true, "axis": 1,
                          "view_as_float": false},
  "scale_quant_params": null, "zero_quant_params": null, "offload_meta": false
})");

DispatchInputs preQuantized(const Json &quantizationConfig) {
  DispatchInputs in;
  in.modelConfig["quantization_config"] = quantizationConfig;
  return in;
}

DispatchInputs onTheFly(const Json &userConfig) {
  DispatchInputs in;
  in.userConfig = userConfig;
  return in;
}

std::string keyOf(const DispatchDecision &decision) {
  return decision.quantizer ? decision.quantizer->key : "<none>";
}

std::string errorOf(const DispatchDecision &decision) {
  return decision.error ? decision.error->str() : "<no error>";
}

std::vector<std::string> textsAt(const DispatchDecision &decision,
                                 Level level) {
  std::vector<std::string> texts;
  for (const DispatchMessage &message : decision.messages)
    if (message.level == level)
      texts.push_back(message.text);
  return texts;
}

//===----------------------------------------------------------------------===//
// resolveConfig: from_dict + post_init
//===----------------------------------------------------------------------===//

TEST(ResolveConfig, GptqDefaultsInInitOrder) {
  Resolved r =
      resolve("gptq", Json::parse(R"({"quant_method": "gptq", "bits": 4})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_TRUE(r.messages.empty());
  // quant_method, then GPTQConfig.__init__'s parameters in order (§3.2).
  std::vector<std::string> expected = {"quant_method",
                                       "bits",
                                       "tokenizer",
                                       "dataset",
                                       "group_size",
                                       "damp_percent",
                                       "desc_act",
                                       "act_group_aware",
                                       "sym",
                                       "true_sequential",
                                       "format",
                                       "meta",
                                       "backend",
                                       "model_seqlen",
                                       "block_name_to_quantize",
                                       "module_name_preceding_first_block",
                                       "batch_size",
                                       "pad_token_id",
                                       "max_input_length",
                                       "cache_block_outputs",
                                       "modules_in_block_to_quantize"};
  EXPECT_EQ(keysOf(*r.config), expected);
  const Json &c = *r.config;
  EXPECT_EQ(c["quant_method"], "gptq");
  EXPECT_EQ(c["bits"], 4);
  EXPECT_EQ(c["group_size"], 128);
  EXPECT_EQ(c["damp_percent"], 0.1);
  EXPECT_EQ(c["desc_act"], false);
  EXPECT_EQ(c["act_group_aware"], true);
  EXPECT_EQ(c["sym"], true);
  EXPECT_EQ(c["format"], "gptq");
  // post_init: backend None becomes "auto".
  EXPECT_EQ(c["backend"], "auto");
  EXPECT_EQ(c["batch_size"], 1);
  EXPECT_TRUE(c["max_input_length"].is_null());
}

TEST(ResolveConfig, GptqLegacyCheckpointFormatWinsAndIsLowerCased) {
  Resolved r =
      resolve("gptq", Json::parse(R"({"quant_method": "gptq", "bits": 4,
      "format": "gptq", "checkpoint_format": "GPTQ_V2"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_EQ((*r.config)["format"], "gptq_v2");
  EXPECT_FALSE(r.config->contains("checkpoint_format"));
}

TEST(ResolveConfig, GptqNullLegacyKeyIsIgnored) {
  // `if kwargs.get("checkpoint_format") is not None`.
  Resolved r =
      resolve("gptq", Json::parse(R"({"quant_method": "gptq", "bits": 4,
      "format": "GPTQ_v2", "checkpoint_format": null})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_EQ((*r.config)["format"], "gptq_v2");
}

TEST(ResolveConfig, GptqDropsLegacyHubKeys) {
  Resolved r =
      resolve("gptq", Json::parse(R"({"quant_method": "gptq", "bits": 4,
      "use_exllama": true, "exllama_config": {"version": 1},
      "model_name_or_path": null, "model_file_base_name": "model",
      "something_new": 1})"));
  ASSERT_TRUE(r.config) << r.error.str();
  for (const char *key : {"use_exllama", "exllama_config", "model_name_or_path",
                          "model_file_base_name", "something_new"})
    EXPECT_FALSE(r.config->contains(key)) << key;
}

TEST(ResolveConfig, GptqRejectsFiveBits) {
  Resolved r =
      resolve("gptq", Json::parse(R"({"quant_method": "gptq", "bits": 5})"));
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error.kind, "ValueError");
  EXPECT_EQ(r.error.message,
            "Only support quantization to [2,3,4,8] bits but found 5");
}

TEST(ResolveConfig, GptqMissingBitsIsInitTypeError) {
  Resolved r = resolve("gptq", Json::parse(R"({"quant_method": "gptq"})"));
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error.kind, "TypeError");
  EXPECT_EQ(r.error.message,
            "GPTQConfig.__init__() missing 1 required positional argument: "
            "'bits'");
}

TEST(ResolveConfig, GptqDampPercentIsAnOpenInterval) {
  Resolved r =
      resolve("gptq", Json::parse(R"({"bits": 4, "damp_percent": 1})"));
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error.kind, "ValueError");
  EXPECT_EQ(r.error.message, "damp_percent must between 0 and 1.");
}

TEST(ResolveConfig, GptqDescActDisablesActGroupAware) {
  Resolved r = resolve("gptq", Json::parse(R"({"bits": 4, "desc_act": true,
      "backend": "MARLIN"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_EQ((*r.config)["act_group_aware"], false);
  EXPECT_EQ((*r.config)["backend"], "marlin");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].level, Level::Warning);
  EXPECT_EQ(r.messages[0].text, "`act_group_aware` has been auto-disabled as "
                                "it is not compatible with `desc_act = True`.");
}

TEST(ResolveConfig, AwqVersionIsLegacyFormat) {
  Resolved r = resolve("awq", Json::parse(R"({"quant_method": "awq",
      "zero_point": true, "group_size": 128, "bits": 4, "version": "GEMV"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_EQ((*r.config)["format"], "gemv");
  EXPECT_FALSE(r.config->contains("version"));
  EXPECT_EQ((*r.config)["backend"], "auto");
}

TEST(ResolveConfig, AwqCheckpointFormatBeatsVersion) {
  // AwqConfig.__init__ takes `version` over `format`, then GPTQConfig's
  // __init__ takes `checkpoint_format` over both.
  Resolved r = resolve("awq", Json::parse(R"({"quant_method": "awq",
      "format": "gemv_fast", "version": "gemv", "checkpoint_format": "gemm"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_EQ((*r.config)["format"], "gemm");
}

TEST(ResolveConfig, AwqLegacyBackendAndDroppedKeys) {
  Resolved r = resolve("awq", Json::parse(R"({"quant_method": "awq",
      "backend": "autoawq", "bits": 4, "group_size": 128, "version": "gemm",
      "zero_point": true, "do_fuse": false, "fuse_max_seq_len": 512})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_EQ((*r.config)["backend"], "auto");
  EXPECT_FALSE(r.config->contains("do_fuse"));
  EXPECT_FALSE(r.config->contains("fuse_max_seq_len"));
}

TEST(ResolveConfig, AwqLlmAwqBackendSelectsFormat) {
  Resolved r = resolve("awq", Json::parse(R"({"backend": "llm-awq"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_EQ((*r.config)["format"], "llm-awq");
  EXPECT_EQ((*r.config)["backend"], "auto");
}

TEST(ResolveConfig, AwqSkipsGptqChecksButChecksFormat) {
  // AwqConfig.post_init replaces GPTQConfig's: no bits check.
  Resolved bits = resolve("awq", Json::parse(R"({"bits": 3})"));
  ASSERT_TRUE(bits.config) << bits.error.str();
  Resolved format = resolve("awq", Json::parse(R"({"version": "exl2"})"));
  EXPECT_FALSE(format.config);
  EXPECT_EQ(format.error.kind, "ValueError");
  EXPECT_EQ(format.error.message, "Invalid format 'exl2'. Must be one of: "
                                  "['gemm', 'gemv', 'gemv_fast', 'llm-awq']");
}

TEST(ResolveConfig, BnbThresholdMustBeAPythonFloat) {
  Resolved r =
      resolve("bitsandbytes_8bit", Json::parse(R"({"load_in_8bit": true,
      "llm_int8_threshold": 6})"));
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error.kind, "TypeError");
  EXPECT_EQ(r.error.message, "llm_int8_threshold must be a float");

  Resolved ok =
      resolve("bitsandbytes_8bit", Json::parse(R"({"load_in_8bit": true,
      "llm_int8_threshold": 6.0})"));
  ASSERT_TRUE(ok.config) << ok.error.str();
  EXPECT_EQ((*ok.config)["llm_int8_threshold"], 6.0);
}

TEST(ResolveConfig, BnbFlagTypeAndBothFlags) {
  Resolved type =
      resolve("bitsandbytes_4bit", Json::parse(R"({"load_in_4bit": "yes"})"));
  EXPECT_FALSE(type.config);
  EXPECT_EQ(type.error.kind, "TypeError");
  EXPECT_EQ(type.error.message, "load_in_4bit must be a boolean");

  Resolved both =
      resolve("bitsandbytes_4bit",
              Json::parse(R"({"load_in_4bit": true, "load_in_8bit": true})"));
  EXPECT_FALSE(both.config);
  EXPECT_EQ(both.error.kind, "ValueError");
  EXPECT_EQ(both.error.message, "load_in_4bit and load_in_8bit are both True, "
                                "but only one can be used at the same time");
}

TEST(ResolveConfig, BnbDtypeDefaultsAndStorageCheck) {
  Resolved r =
      resolve("bitsandbytes_4bit", Json::parse(R"({"load_in_4bit": true})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_EQ((*r.config)["bnb_4bit_compute_dtype"], "float32");
  EXPECT_EQ((*r.config)["bnb_4bit_quant_storage"], "uint8");
  EXPECT_EQ((*r.config)["bnb_4bit_quant_type"], "fp4");

  Resolved storage = resolve(
      "bitsandbytes_4bit",
      Json::parse(
          R"({"load_in_4bit": true, "bnb_4bit_quant_storage": "int4"})"));
  EXPECT_FALSE(storage.config);
  EXPECT_EQ(storage.error.kind, "ValueError");
  // Note the trailing space of transformers' message.
  EXPECT_EQ(storage.error.message,
            "`bnb_4bit_quant_storage` must be a valid string (one of "
            "'float16', 'float32', 'int8', 'uint8', 'float64', 'bfloat16') ");
}

TEST(ResolveConfig, HqqFromDictRequiresItsTwoKeys) {
  Resolved noConfig = resolve(
      "hqq",
      Json::parse(R"({"quant_method": "hqq", "skip_modules": ["lm_head"]})"));
  EXPECT_FALSE(noConfig.config);
  EXPECT_EQ(noConfig.error.kind, "KeyError");
  // str(KeyError('quant_config')) is the key's repr.
  EXPECT_EQ(noConfig.error.message, "'quant_config'");

  Json dict = Json::object();
  dict["quant_method"] = "hqq";
  dict["quant_config"] = kHqqQuantConfig;
  Resolved noSkip = resolve("hqq", dict);
  EXPECT_FALSE(noSkip.config);
  EXPECT_EQ(noSkip.error.kind, "KeyError");
  EXPECT_EQ(noSkip.error.message, "'skip_modules'");

  dict["skip_modules"] = Json::array({"lm_head"});
  Resolved ok = resolve("hqq", dict);
  ASSERT_TRUE(ok.config) << ok.error.str();
  EXPECT_EQ((*ok.config)["quant_config"], kHqqQuantConfig);
}

TEST(ResolveConfig, Fp8ChecksAndDrops) {
  Resolved r = resolve("fp8", Json::parse(R"({"quant_method": "fp8",
      "activation_scheme": "DYNAMIC", "fmt": "e4m3", "scale_fmt": "ue8m0",
      "weight_block_size": [128, 128]})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_EQ((*r.config)["activation_scheme"], "dynamic");
  EXPECT_FALSE(r.config->contains("fmt"));
  // 5.17's FineGrainedFP8Config keeps scale_fmt ("float" or "ue8m0").
  EXPECT_EQ((*r.config)["scale_fmt"], "ue8m0");
  EXPECT_EQ((*r.config)["dequantize"], false);

  Resolved scheme =
      resolve("fp8", Json::parse(R"({"activation_scheme": "weird"})"));
  EXPECT_FALSE(scheme.config);
  EXPECT_EQ(scheme.error.kind, "ValueError");
  EXPECT_EQ(scheme.error.message, "Activation scheme weird not supported");

  Resolved block =
      resolve("fp8", Json::parse(R"({"weight_block_size": [128]})"));
  EXPECT_FALSE(block.config);
  EXPECT_EQ(block.error.kind, "ValueError");
  EXPECT_EQ(block.error.message,
            "weight_block_size must be a tuple of two integers");
}

TEST(ResolveConfig, EetqAndQuantoWeights) {
  Resolved eetq = resolve("eetq", Json::parse(R"({"weights": "int4"})"));
  EXPECT_FALSE(eetq.config);
  EXPECT_EQ(eetq.error.kind, "ValueError");
  EXPECT_EQ(eetq.error.message,
            "Only support weights in ['int8'] but found int4");

  Resolved quanto = resolve("quanto", Json::parse(R"({"weights": "int3"})"));
  EXPECT_FALSE(quanto.config);
  EXPECT_EQ(quanto.error.kind, "ValueError");
  EXPECT_EQ(quanto.error.message, "Only support weights in ['float8', 'int8', "
                                  "'int4', 'int2'] but found int3");
}

TEST(ResolveConfig, AqlmNoneSkipListBecomesEmpty) {
  Resolved r = resolve("aqlm", Json::parse(R"({"quant_method": "aqlm"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  EXPECT_EQ((*r.config)["linear_weights_not_to_quantize"], Json::array());
  EXPECT_EQ((*r.config)["nbits_per_codebook"], 16);
}

TEST(ResolveConfig, BitnetLinearClass) {
  Resolved r = resolve("bitnet", Json::parse(R"({"linear_class": "linear"})"));
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error.kind, "ValueError");
  EXPECT_EQ(r.error.message, "linear_class must be either 'bitlinear' or "
                             "'autobitlinear', but got linear");
}

TEST(ResolveConfig, NonObjectDictIsATypeError) {
  Resolved r = resolve("gptq", Json::array({4}));
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error.kind, "TypeError");
}

//===----------------------------------------------------------------------===//
// serializeConfig: to_dict
//===----------------------------------------------------------------------===//

TEST(SerializeConfig, BnbWritesPrivateAndPublicFlags) {
  Resolved r = resolve(
      "bitsandbytes_4bit",
      Json::parse(R"({"load_in_4bit": true, "bnb_4bit_quant_type": "nf4"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  RaisedError error;
  std::optional<Json> dict =
      serializeConfig(*configOf("bitsandbytes_4bit"), *r.config, error);
  ASSERT_TRUE(dict) << error.str();
  // __dict__ in assignment order, then the two public properties (§3.1).
  std::vector<std::string> expected = {"quant_method",
                                       "_load_in_8bit",
                                       "_load_in_4bit",
                                       "llm_int8_threshold",
                                       "llm_int8_skip_modules",
                                       "llm_int8_enable_fp32_cpu_offload",
                                       "llm_int8_has_fp16_weight",
                                       "bnb_4bit_quant_type",
                                       "bnb_4bit_use_double_quant",
                                       "bnb_4bit_compute_dtype",
                                       "bnb_4bit_quant_storage",
                                       "load_in_4bit",
                                       "load_in_8bit"};
  EXPECT_EQ(keysOf(*dict), expected);
  EXPECT_EQ((*dict)["quant_method"], "bitsandbytes");
  EXPECT_EQ((*dict)["_load_in_4bit"], true);
  EXPECT_EQ((*dict)["load_in_4bit"], true);
  EXPECT_EQ((*dict)["_load_in_8bit"], false);
  EXPECT_EQ((*dict)["load_in_8bit"], false);
}

// compressed-tensors 0.20.1's QuantizationConfig.model_dump() as 5.17
// recorded it (test/fidelity ct-nm-testing-llama-3.1-8b-instruct-fp8): each
// scheme in model field order with its defaults, QuantizationArgs' strategy
// inferred, its None-valued optional keys dropped, no sparsity_config.
TEST(SerializeConfig, CompressedTensorsDumpsNormalizedSchemes) {
  Resolved r = resolve("compressed-tensors", Json::parse(R"({
      "config_groups": {"group_0": {
        "weights": {"num_bits": 8, "type": "FLOAT", "observer": "minmax"},
        "targets": ["Linear"]}},
      "format": "naive-quantized", "quantization_status": "frozen",
      "sparsity_config": {}, "quant_method": "compressed-tensors"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  RaisedError error;
  std::optional<Json> dict =
      serializeConfig(*configOf("compressed-tensors"), *r.config, error);
  ASSERT_TRUE(dict) << error.str();
  EXPECT_EQ(keysOf(*dict),
            (std::vector<std::string>{
                "config_groups", "quant_method", "kv_cache_scheme", "format",
                "quantization_status", "global_compression_ratio", "ignore",
                "moe_sparsity_config"}));
  EXPECT_EQ((*dict)["config_groups"], Json::parse(R"({"group_0": {
      "targets": ["Linear"],
      "weights": {"num_bits": 8, "type": "float", "symmetric": true,
                  "group_size": null, "strategy": "tensor", "dynamic": false,
                  "observer": "minmax"},
      "input_activations": null, "output_activations": null,
      "format": null}})"));
  EXPECT_EQ(keysOf((*dict)["config_groups"]["group_0"]["weights"]),
            (std::vector<std::string>{"num_bits", "type", "symmetric",
                                      "group_size", "strategy", "dynamic",
                                      "observer"}));

  // Without config groups there is no QuantizationConfig: quant_method only.
  r = resolve("compressed-tensors",
              Json::parse(R"({"quant_method": "compressed-tensors"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  dict = serializeConfig(*configOf("compressed-tensors"), *r.config, error);
  ASSERT_TRUE(dict) << error.str();
  EXPECT_EQ(*dict, Json::parse(R"({"quant_method": "compressed-tensors"})"));
}

// torchao 0.18's config_to_dict writes every dataclass field of the config
// (recorded: test/fidelity torchao-int4-weight-only).
TEST(SerializeConfig, TorchAoFillsDataDefaults) {
  Resolved r = resolve("torchao", Json::parse(R"({"quant_method": "torchao",
      "quant_type": {"default": {"_type": "Int4WeightOnlyConfig",
          "_version": 2, "_data": {"group_size": 64}}}})"));
  ASSERT_TRUE(r.config) << r.error.str();
  RaisedError error;
  std::optional<Json> dict =
      serializeConfig(*configOf("torchao"), *r.config, error);
  ASSERT_TRUE(dict) << error.str();
  EXPECT_EQ((*dict)["quant_type"], Json::parse(R"({"default": {
      "_type": "Int4WeightOnlyConfig", "_version": 2, "_data": {
        "group_size": 64, "set_inductor_config": true,
        "int4_packing_format": {"_type": "Int4PackingFormat", "_data": "PLAIN"},
        "int4_choose_qparams_algorithm":
            {"_type": "Int4ChooseQParamsAlgorithm", "_data": "TINYGEMM"},
        "int4_tile_packed_ntile": 8}}})"));
}

// AutoRoundConfig keeps every extra keyword (recorded: test/fidelity
// auto-round-intel-int4).
TEST(SerializeConfig, AutoRoundKeepsExtraKeywords) {
  Resolved r = resolve("auto-round", Json::parse(R"({"quant_method":
      "auto-round", "bits": 4, "data_type": "int", "iters": 200})"));
  ASSERT_TRUE(r.config) << r.error.str();
  RaisedError error;
  std::optional<Json> dict =
      serializeConfig(*configOf("auto-round"), *r.config, error);
  ASSERT_TRUE(dict) << error.str();
  EXPECT_EQ(keysOf(*dict),
            (std::vector<std::string>{"bits", "group_size", "sym", "backend",
                                      "packing_format", "quant_method",
                                      "data_type", "iters"}));
  EXPECT_EQ((*dict)["iters"], 200);
}

// AutoRoundConfig.from_dict converts a GPTQ v1 dict (packing_format
// 'auto_round:gptq'; quant_method kept at its dict position among the
// extras) and refuses GPTQ with `meta` (recorded: test/fidelity
// auto-round-user-on-gptq-checkpoint, auto-round-user-on-gptq-v2-meta).
TEST(SerializeConfig, AutoRoundFromDictConvertsGptq) {
  Resolved r = resolve("auto-round", Json::parse(R"({"bits": 4,
      "desc_act": false, "quant_method": "gptq", "sym": true})"));
  ASSERT_TRUE(r.config) << r.error.str();
  RaisedError error;
  std::optional<Json> dict =
      serializeConfig(*configOf("auto-round"), *r.config, error);
  ASSERT_TRUE(dict) << error.str();
  EXPECT_EQ(keysOf(*dict),
            (std::vector<std::string>{"bits", "group_size", "sym", "backend",
                                      "packing_format", "desc_act",
                                      "quant_method"}));
  EXPECT_EQ((*dict)["packing_format"], "auto_round:gptq");
  EXPECT_EQ((*dict)["quant_method"], "auto-round");

  r = resolve("auto-round", Json::parse(R"({"quant_method": "gptq",
      "meta": {"quantizer": ["gptqmodel:2.0"]}})"));
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error.kind, "NotImplementedError");
  EXPECT_EQ(r.error.message, "Failed to convert gptq format to auto_round "
                             "format. Only supports `gptqv1`");
}

TEST(SerializeConfig, GptqAppendsCheckpointFormat) {
  Resolved r =
      resolve("gptq", Json::parse(R"({"bits": 4, "format": "gptq_v2"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  RaisedError error;
  std::optional<Json> dict =
      serializeConfig(*configOf("gptq"), *r.config, error);
  ASSERT_TRUE(dict) << error.str();
  std::vector<std::string> keys = keysOf(*dict);
  ASSERT_EQ(keys.size(), 22u);
  EXPECT_EQ(keys.front(), "quant_method");
  EXPECT_EQ(keys.back(), "checkpoint_format");
  EXPECT_EQ((*dict)["checkpoint_format"], "gptq_v2");
  EXPECT_EQ((*dict)["format"], "gptq_v2");
}

TEST(SerializeConfig, AwqWritesVersionNotCheckpointFormat) {
  Resolved r = resolve("awq", Json::parse(R"({"version": "gemv"})"));
  ASSERT_TRUE(r.config) << r.error.str();
  RaisedError error;
  std::optional<Json> dict =
      serializeConfig(*configOf("awq"), *r.config, error);
  ASSERT_TRUE(dict) << error.str();
  std::vector<std::string> keys = keysOf(*dict);
  ASSERT_GE(keys.size(), 4u);
  // zero_point and modules_to_not_convert are assigned before
  // GPTQConfig.__init__ sets quant_method.
  EXPECT_EQ(keys[0], "zero_point");
  EXPECT_EQ(keys[1], "modules_to_not_convert");
  EXPECT_EQ(keys[2], "quant_method");
  EXPECT_EQ(keys.back(), "version");
  EXPECT_EQ((*dict)["version"], "gemv");
  EXPECT_FALSE(dict->contains("checkpoint_format"));
  EXPECT_EQ((*dict)["quant_method"], "awq");
}

TEST(SerializeConfig, HqqIsExactlyThreeKeys) {
  Json in = Json::object();
  in["quant_config"] = kHqqQuantConfig;
  in["quant_method"] = "hqq";
  in["skip_modules"] = Json::array({"lm_head"});
  Resolved r = resolve("hqq", in);
  ASSERT_TRUE(r.config) << r.error.str();
  RaisedError error;
  std::optional<Json> dict =
      serializeConfig(*configOf("hqq"), *r.config, error);
  ASSERT_TRUE(dict) << error.str();
  EXPECT_EQ(*dict, in);
}

//===----------------------------------------------------------------------===//
// Real hub configs
//===----------------------------------------------------------------------===//

std::optional<Json> loadRealConfigs() {
  const char *fromEnv = std::getenv("HFQ_REAL_QUANT_CONFIGS");
  std::string path =
      fromEnv ? std::string(fromEnv)
              : std::string(HFQ_UNIT_INPUTS_DIR) + "/real-quant-configs.json";
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  Json configs = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!configs.is_array()) {
    ADD_FAILURE() << path << " is not a JSON array";
    return std::nullopt;
  }
  return configs;
}

Json realConfig(const std::string &sourceContains) {
  std::optional<Json> configs = loadRealConfigs();
  if (configs)
    for (const Json &entry : *configs)
      if (entry.value("source", "").find(sourceContains) != std::string::npos)
        return entry["quantization_config"];
  ADD_FAILURE() << "no real config whose source contains " << sourceContains;
  return Json::object();
}

TEST(SerializeConfig, RoundTripsRealBnbAndFp8Files) {
  // These files were written by to_dict(): resolving and serializing them
  // again must give the same dict.
  for (const char *source : {"unsloth/llama-3-8b-Instruct-bnb-4bit",
                             "BitsAndBytesConfig(load_in_4bit=True",
                             "Devstral-Small-2-24B-Instruct-2512"}) {
    SCOPED_TRACE(source);
    Json file = realConfig(source);
    DispatchDecision d = dispatchQuantizer(builtins(), preQuantized(file));
    ASSERT_FALSE(d.error) << errorOf(d);
    // Written before 5.17, whose FineGrainedFP8Config adds two attributes.
    if (file.value("quant_method", "") == "fp8") {
      file["modules_to_convert"] = nullptr;
      file["scale_fmt"] = "float";
    }
    EXPECT_TRUE(sameUnordered(d.configDict, file)) << d.configDict.dump();
  }
}

struct RealExpectation {
  /// A substring of exactly one entry's "source".
  const char *source;
  /// The registry key; "" = loads unquantized (unknown method).
  const char *key;
  /// Set when transformers raises for this block used as a
  /// quantization_config.
  const char *errorKind = nullptr;
  const char *errorMessage = nullptr;
};

TEST(DispatchReal, EveryRealConfigDispatches) {
  const RealExpectation expectations[] = {
      {"unsloth/llama-3-8b-Instruct-bnb-4bit", "bitsandbytes_4bit"},
      {"BitsAndBytesConfig(load_in_4bit=True", "bitsandbytes_4bit"},
      {"Qwen/Qwen2.5-Coder-1.5B-Instruct-GPTQ-Int4", "gptq"},
      {"Qwen/Qwen2.5-32B-Instruct-GPTQ-Int4", "gptq"},
      {"Qwen/Qwen2.5-Coder-3B-Instruct-GPTQ-Int4", "gptq"},
      {"Qwen/Qwen2.5-Coder-7B-Instruct-GPTQ-Int4", "gptq"},
      {"Qwen/Qwen2.5-1.5B-Instruct-GPTQ-Int4", "gptq"},
      {"Qwen/Qwen1.5-MoE-A2.7B-Chat-GPTQ-Int4", "gptq"},
      {"TheBloke/Llama-2-7B-Chat-GPTQ", "gptq"},
      // AutoGPTQ's side file has no quant_method: used as a
      // quantization_config it is the "no `quant_method`" ValueError.
      {"TinyLlama-1.1B-Chat-v1.0-GPTQ quantize_config.json", "", "ValueError",
       kNoQuantMethod.c_str()},
      {"zephyr-7B-alpha-AWQ", "awq"},
      {"Qwen3.6-35B-A3B-AWQ", "awq"},
      {"Qwen3 AWQ loader test", "awq"},
      {"Llama-2-7b-AQLM-2Bit-1x16-hf", "aqlm"},
      {"Meta-Llama-3.1-8B-Instruct-FP8-hf", "compressed-tensors"},
      {"Qwen3-VL-MoE", "compressed-tensors"},
      // PARTIAL: group_0 lacks "targets", which 5.17's pydantic
      // QuantizationConfig rejects (recorded by test/fidelity).
      {"W8A8 INT8", "compressed-tensors", "ValidationError",
       "2 validation errors for QuantizationConfig\n"
       "config_groups.group_0.function-after[validate_model_after(), "
       "QuantizationScheme].targets\n"
       "  Field required [type=missing, input_value={'format': "
       "'int-quantized...int', 'zp_dtype': None}}, input_type=dict]\n"
       "    For further information visit "
       "https://errors.pydantic.dev/2.14/v/missing\n"
       "config_groups.group_0.list[str]\n"
       "  Input should be a valid list [type=list_type, input_value="
       "{'format': 'int-quantized...int', 'zp_dtype': None}}, "
       "input_type=dict]\n"
       "    For further information visit "
       "https://errors.pydantic.dev/2.14/v/list_type"},
      {"deepseek-ai/DeepSeek-V3 config.json", "fp8"},
      {"DeepSeek-V4", "fp8"},
      {"Devstral-Small-2-24B-Instruct-2512", "fp8"},
      {"Mistral3-family per-tensor FP8", "fp8"},
      {"openai/gpt-oss-120b", "mxfp4"},
      {"openai/gpt-oss-20b", "mxfp4"},
      {"bitnet-b1.58-2B-4T-bf16", "bitnet"},
      {"bitnet-b1.58-2B-4T (packed", "bitnet"},
      {"(Int8WeightOnlyConfig, _version 2)", "torchao"},
      // Truncated in its source right after "_data": the "_type" and
      // "_version" keys (sorted after it) are missing, which torchao's
      // config_from_dict rejects.
      {"Float8DynamicActivationFloat8WeightConfig", "torchao", "ValueError",
       "Input dictionary missing required '_type' or '_data' fields"},
      // The <= 4.5x string form: 5.17's from_dict asserts a {"default": ...}
      // dict before post_init's string check (recorded by test/fidelity).
      {"string quant_type", "torchao", "AssertionError",
       "Expected only one key 'default' in quant_type dictionary"},
  };
  std::optional<Json> configs = loadRealConfigs();
  ASSERT_TRUE(configs);
  ASSERT_EQ(configs->size(), std::size(expectations));
  std::vector<int> used(std::size(expectations), 0);
  for (const Json &entry : *configs) {
    std::string source = entry.value("source", "");
    SCOPED_TRACE(source);
    const RealExpectation *expected = nullptr;
    for (size_t i = 0; i < std::size(expectations); ++i)
      if (source.find(expectations[i].source) != std::string::npos) {
        ASSERT_EQ(expected, nullptr) << "two expectations match";
        expected = &expectations[i];
        ++used[i];
      }
    ASSERT_NE(expected, nullptr) << "no expectation for this entry";

    DispatchInputs in = preQuantized(entry["quantization_config"]);
    in.target = "sm_90";
    DispatchDecision d = dispatchQuantizer(builtins(), in);
    if (expected->errorKind) {
      ASSERT_TRUE(d.error);
      EXPECT_EQ(d.error->kind, expected->errorKind);
      EXPECT_EQ(d.error->message, expected->errorMessage);
      continue;
    }
    ASSERT_FALSE(d.error) << errorOf(d);
    if (std::string(expected->key).empty()) {
      EXPECT_EQ(d.quantizer, nullptr);
      EXPECT_FALSE(d.preQuantized);
      ASSERT_FALSE(d.messages.empty());
      EXPECT_EQ(d.messages[0].text,
                unknownSkipWarning(
                    entry["quantization_config"].value("quant_method", "")));
      continue;
    }
    EXPECT_EQ(keyOf(d), expected->key);
    EXPECT_TRUE(d.preQuantized);
    ASSERT_TRUE(d.configDict.is_object());
    EXPECT_EQ(d.configDict.value("quant_method", ""),
              d.quantizer->method->config.quantMethod);
  }
  for (size_t i = 0; i < std::size(expectations); ++i)
    EXPECT_EQ(used[i], 1) << expectations[i].source;
}

//===----------------------------------------------------------------------===//
// dispatchQuantizer: get_hf_quantizer
//===----------------------------------------------------------------------===//

TEST(Dispatch, NoQuantizationConfigLoadsUnquantized) {
  DispatchInputs in;
  in.modelConfig =
      Json::parse(R"({"model_type": "llama", "torch_dtype": "bfloat16"})");
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  EXPECT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(d.quantizer, nullptr);
  EXPECT_FALSE(d.preQuantized);
  EXPECT_TRUE(d.messages.empty());
  EXPECT_EQ(d.dtype, "bfloat16");
  EXPECT_TRUE(d.deviceMap.is_null());
}

TEST(Dispatch, UnknownMethodWarnsAndSkips) {
  DispatchDecision d = dispatchQuantizer(
      builtins(), preQuantized(Json::parse(R"({"quant_method": "foo"})")));
  EXPECT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(d.quantizer, nullptr);
  EXPECT_FALSE(d.preQuantized);
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].level, Level::Warning);
  EXPECT_EQ(d.messages[0].text, unknownSkipWarning("foo"));
}

TEST(Dispatch, PlainBitsandbytesMethodIsUnknown) {
  // §1.2: "bitsandbytes" with neither flag is not a mapping key.
  DispatchDecision d = dispatchQuantizer(
      builtins(),
      preQuantized(Json::parse(R"({"quant_method": "bitsandbytes"})")));
  EXPECT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(d.quantizer, nullptr);
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].text, unknownSkipWarning("bitsandbytes"));
}

TEST(Dispatch, UnknownFileMethodThenUserConfigQuantizesOnTheFly) {
  DispatchInputs in = preQuantized(Json::parse(R"({"quant_method": "foo"})"));
  in.userConfig = Json::parse(R"({"load_in_4bit": true})");
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  EXPECT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(keyOf(d), "bitsandbytes_4bit");
  EXPECT_FALSE(d.preQuantized);
  ASSERT_FALSE(d.messages.empty());
  EXPECT_EQ(d.messages[0].text, unknownSkipWarning("foo"));
  for (const DispatchMessage &m : d.messages)
    EXPECT_EQ(m.text.find("You passed `quantization_config`"),
              std::string::npos);
}

TEST(Dispatch, MissingQuantMethodRaises) {
  DispatchDecision d = dispatchQuantizer(
      builtins(),
      preQuantized(Json::parse(R"({"bits": 4, "group_size": 128})")));
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, "ValueError");
  EXPECT_EQ(d.error->message, kNoQuantMethod);
  EXPECT_EQ(d.quantizer, nullptr);
}

TEST(Dispatch, UserConfigWithUnknownMethodRaises) {
  DispatchDecision d = dispatchQuantizer(
      builtins(), onTheFly(Json::parse(R"({"quant_method": "foo"})")));
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, "ValueError");
  // from_dict's form: no "Hence, we will skip" sentence.
  EXPECT_EQ(d.error->message,
            "Unknown quantization type, got foo - supported types are: " +
                kSupported);
}

TEST(Dispatch, BnbFlagsOverrideQuantMethod) {
  DispatchDecision eight = dispatchQuantizer(
      builtins(),
      preQuantized(Json::parse(
          R"({"quant_method": "gptq", "bits": 4, "load_in_8bit": true})")));
  EXPECT_FALSE(eight.error) << errorOf(eight);
  EXPECT_EQ(keyOf(eight), "bitsandbytes_8bit");
  EXPECT_EQ(eight.config["quant_method"], "bitsandbytes");
  EXPECT_FALSE(eight.config.contains("bits"));

  DispatchDecision four = dispatchQuantizer(
      builtins(), preQuantized(Json::parse(
                      R"({"quant_method": "awq", "load_in_4bit": true})")));
  EXPECT_FALSE(four.error) << errorOf(four);
  EXPECT_EQ(keyOf(four), "bitsandbytes_4bit");

  // Both flags: the bnb class is chosen (not awq) and its constructor
  // rejects the pair.
  DispatchDecision both = dispatchQuantizer(
      builtins(),
      preQuantized(Json::parse(
          R"({"quant_method": "awq", "load_in_4bit": true, "load_in_8bit": true})")));
  ASSERT_TRUE(both.error);
  EXPECT_EQ(both.error->message, "load_in_4bit and load_in_8bit are both True, "
                                 "but only one can be used at the same time");
}

TEST(Dispatch, BnbKeyWithoutFlagsMapsToFourBit) {
  // §1.3: a BitsAndBytesConfig with both flags False gets "_4bit".
  DispatchDecision d = dispatchQuantizer(
      builtins(),
      preQuantized(Json::parse(R"({"quant_method": "bitsandbytes_8bit"})")));
  EXPECT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(keyOf(d), "bitsandbytes_4bit");
}

TEST(Dispatch, GptqMergeTakesLoadingAttributes) {
  DispatchInputs in = preQuantized(Json::parse(R"({"quant_method": "gptq",
      "bits": 4, "group_size": 128, "desc_act": false, "sym": true})"));
  in.userConfig = Json::parse(R"({"quant_method": "gptq", "bits": 8,
      "backend": "marlin"})");
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(keyOf(d), "gptq");
  EXPECT_TRUE(d.preQuantized);
  EXPECT_EQ(d.config["bits"], 4);
  EXPECT_EQ(d.config["backend"], "marlin");
  EXPECT_EQ(d.configDict["backend"], "marlin");
  EXPECT_EQ(d.configDict["bits"], 4);
  // The sentences join with no space; the attributes come in __dict__
  // order, backend first.
  std::vector<std::string> warnings = textsAt(d, Level::Warning);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            kMergeWarning +
                "However, loading attributes (e.g. ['backend', "
                "'max_input_length']) will be overwritten with the one you "
                "passed to `from_pretrained`. The rest will be ignored.");
  EXPECT_NE(warnings[0].find("used.However"), std::string::npos);
  // update_dtype's suggestion follows (dtype auto, no checkpoint dtype:
  // float32).
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[1].level, Level::Info);
  EXPECT_EQ(d.messages[1].text, "We suggest you to set `dtype=torch.float16` "
                                "for better efficiency with GPTQ.");
  EXPECT_EQ(d.dtype, "float32");
}

TEST(Dispatch, UserConfigIsValidatedFirst) {
  DispatchInputs in =
      preQuantized(Json::parse(R"({"quant_method": "gptq", "bits": 4})"));
  in.userConfig = Json::parse(R"({"quant_method": "gptq", "bits": 5})");
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->message,
            "Only support quantization to [2,3,4,8] bits but found 5");
}

TEST(Dispatch, ClassMismatchRaises) {
  DispatchInputs in =
      preQuantized(Json::parse(R"({"quant_method": "gptq", "bits": 4})"));
  in.userConfig = Json::parse(R"({"quant_method": "awq"})");
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, "ValueError");
  EXPECT_EQ(d.error->message,
            "The model is quantized with GPTQConfig but you are passing a "
            "AwqConfig config. Please make sure to pass the same quantization "
            "config class to `from_pretrained` with different loading "
            "attributes.");
}

TEST(Dispatch, BnbMergeOnlyWarns) {
  // BitsAndBytesConfig is not a loading-attributes class: the user's
  // config is ignored, the file's 4-bit config stays.
  DispatchInputs in =
      preQuantized(realConfig("unsloth/llama-3-8b-Instruct-bnb-4bit"));
  in.userConfig = Json::parse(R"({"load_in_8bit": true})");
  in.deviceMap = "auto";
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(keyOf(d), "bitsandbytes_4bit");
  EXPECT_EQ(textsAt(d, Level::Warning),
            std::vector<std::string>{kMergeWarning});
}

TEST(Dispatch, NoUserConfigLogsAnEmptyMergeInfo) {
  // merge_quantization_configs' `logger.info("")` (5.17 quantizers/auto.py
  // :282): an empty message, not none.
  DispatchInputs in =
      preQuantized(Json::parse(R"({"quant_method": "gptq", "bits": 4})"));
  in.dtype = "float16";
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(d.error) << errorOf(d);
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].level, Level::Info);
  EXPECT_EQ(d.messages[0].text, "");
  EXPECT_EQ(d.dtype, "float16");
}

TEST(Dispatch, Fp8BelowSm89Dequantizes) {
  DispatchInputs in =
      preQuantized(realConfig("deepseek-ai/DeepSeek-V3 config.json"));
  in.target = "sm_80";
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(keyOf(d), "fp8");
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[0].text, "");
  EXPECT_EQ(d.messages[1].level, Level::Warning);
  EXPECT_EQ(d.messages[1].text,
            "FP8 quantized models is only supported on GPUs with compute "
            "capability >= 8.9 (e.g 4090/H100), actual = `8.0`. We will "
            "default to dequantizing the model to bf16. Feel free to use a "
            "different quantization method like bitsandbytes or torchao");
  EXPECT_EQ(d.config["dequantize"], true);
  EXPECT_EQ(d.configDict["dequantize"], true);
}

TEST(Dispatch, Fp8OnSm90KeepsFp8) {
  DispatchInputs in =
      preQuantized(realConfig("deepseek-ai/DeepSeek-V3 config.json"));
  in.target = "sm_90";
  in.deviceMap = "auto";
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(d.error) << errorOf(d);
  EXPECT_TRUE(textsAt(d, Level::Warning).empty());
  EXPECT_EQ(d.config["dequantize"], false);

  // No device map: the model would stay on the CPU.
  in.deviceMap = Json();
  DispatchDecision none = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(none.error) << errorOf(none);
  ASSERT_EQ(none.messages.size(), 2u);
  EXPECT_EQ(none.messages[1].text,
            "You have loaded an FP8 model on CPU and have a CUDA or XPU "
            "device available, make sure to set your model on a GPU or XPU "
            "device in order to run your model. To remove this warning, pass "
            "device_map = 'cuda' or 'xpu'. ");
}

TEST(Dispatch, Fp8WithoutGpu) {
  DispatchInputs pre = preQuantized(realConfig("DeepSeek-V4"));
  pre.target = "cpu";
  DispatchDecision d = dispatchQuantizer(builtins(), pre);
  ASSERT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(textsAt(d, Level::Warning),
            std::vector<std::string>{
                "Using FP8 quantized models requires a GPU or XPU, we will "
                "default to dequantizing the model to bf16 since no GPU or "
                "XPU is available"});
  EXPECT_EQ(d.config["dequantize"], true);

  DispatchInputs fly = onTheFly(Json::parse(R"({"quant_method": "fp8"})"));
  fly.target = "cpu";
  DispatchDecision e = dispatchQuantizer(builtins(), fly);
  ASSERT_TRUE(e.error);
  EXPECT_EQ(e.error->kind, "RuntimeError");
  EXPECT_EQ(
      e.error->message,
      "No GPU or XPU found. A GPU or XPU is needed for FP8 quantization.");
}

TEST(Dispatch, Fp8MergeIsAnInfo) {
  DispatchInputs in =
      preQuantized(realConfig("deepseek-ai/DeepSeek-V3 config.json"));
  in.userConfig = Json::parse(R"({"quant_method": "fp8", "dequantize": true})");
  in.deviceMap = "auto";
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(d.error) << errorOf(d);
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].level, Level::Info);
  EXPECT_EQ(d.messages[0].text,
            kMergeWarning +
                "However, loading attributes (e.g. ['dequantize', "
                "'modules_to_not_convert']) will be "
                "overwritten with the one you passed to `from_pretrained`. "
                "The rest will be ignored.");
  EXPECT_EQ(d.config["dequantize"], true);
  EXPECT_EQ(d.config["activation_scheme"], "dynamic");
}

TEST(Dispatch, AwqOnTheFlyRequiresCalibration) {
  DispatchDecision d = dispatchQuantizer(
      builtins(),
      onTheFly(Json::parse(R"({"quant_method": "awq", "bits": 4})")));
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, "ValueError");
  EXPECT_EQ(d.error->message,
            "The quantization method QuantizationMethod.AWQ does require the "
            "model to be "
            "pre-quantized. You explicitly passed `pre_quantized=False` "
            "meaning your model weights are not quantized. Make sure to pass "
            "`pre_quantized=True` while knowing what you are doing.");
}

TEST(Dispatch, AwqDtypeFromCheckpoint) {
  DispatchInputs in = preQuantized(realConfig("zephyr-7B-alpha-AWQ"));
  in.modelConfig["torch_dtype"] = "bfloat16";
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(d.dtype, "float16");
  // bf16 is cast; the "We suggest" warning does not follow (elif).
  EXPECT_EQ(textsAt(d, Level::Warning),
            std::vector<std::string>{"`torch.bfloat16` is not supported for "
                                     "AWQ CUDA/XPU kernels yet. Casting to "
                                     "`torch.float16`."});

  // No dtype anywhere: torch's default float32, which AWQ only warns about.
  DispatchDecision plain = dispatchQuantizer(
      builtins(), preQuantized(realConfig("zephyr-7B-alpha-AWQ")));
  ASSERT_FALSE(plain.error) << errorOf(plain);
  EXPECT_EQ(plain.dtype, "float32");
  EXPECT_EQ(textsAt(plain, Level::Warning),
            std::vector<std::string>{"We suggest you to set "
                                     "`dtype=torch.float16` for better "
                                     "efficiency on CUDA/XPU with AWQ."});

  // Without CUDA neither rule applies.
  in.target = "cpu";
  DispatchDecision cpu = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(cpu.error) << errorOf(cpu);
  EXPECT_EQ(cpu.dtype, "bfloat16");
  EXPECT_TRUE(textsAt(cpu, Level::Warning).empty());
}

TEST(Dispatch, BnbRejectsCpuOrDiskOffload) {
  DispatchInputs in = onTheFly(Json::parse(R"({"load_in_4bit": true})"));
  in.deviceMap = Json::parse(R"({"model": 0, "lm_head": "cpu"})");
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, "ValueError");
  EXPECT_EQ(d.error->message, kBnbOffloadError);

  in.deviceMap = Json::parse(R"({"model": "cuda:0", "lm_head": "disk"})");
  DispatchDecision disk = dispatchQuantizer(builtins(), in);
  ASSERT_TRUE(disk.error);
  EXPECT_EQ(disk.error->message, kBnbOffloadError);

  // An all-cpu map is allowed, and so is offload with the fp32 flag.
  in.deviceMap = Json::parse(R"({"": "cpu"})");
  DispatchDecision cpu = dispatchQuantizer(builtins(), in);
  EXPECT_FALSE(cpu.error) << errorOf(cpu);
  DispatchInputs offload = onTheFly(Json::parse(
      R"({"load_in_8bit": true, "llm_int8_enable_fp32_cpu_offload": true})"));
  offload.deviceMap = Json::parse(R"({"model": 0, "lm_head": "cpu"})");
  DispatchDecision ok = dispatchQuantizer(builtins(), offload);
  EXPECT_FALSE(ok.error) << errorOf(ok);
  EXPECT_EQ(keyOf(ok), "bitsandbytes_8bit");
}

TEST(Dispatch, EetqEnvironment) {
  DispatchInputs in = onTheFly(Json::parse(R"({"quant_method": "eetq"})"));
  in.deviceMap = Json::parse(R"({"model": 0, "lm_head": "disk"})");
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, "ValueError");
  EXPECT_EQ(d.error->message,
            "You are attempting to load an EETQ model with a device_map that "
            "contains a CPU or disk device. This is not supported. Please "
            "remove the CPU or disk device from the device_map.");

  in.deviceMap = Json();
  in.target = "cpu";
  DispatchDecision cpu = dispatchQuantizer(builtins(), in);
  ASSERT_TRUE(cpu.error);
  EXPECT_EQ(cpu.error->kind, "RuntimeError");
  EXPECT_EQ(cpu.error->message,
            "No GPU found. A GPU is needed for quantization.");

  in.target = "sm_90";
  DispatchDecision none = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(none.error) << errorOf(none);
  EXPECT_EQ(textsAt(none, Level::Warning),
            std::vector<std::string>{
                "You have loaded an EETQ model on CPU and have a CUDA device "
                "available, make sure to set your model on a GPU device in "
                "order to run your model."});
}

TEST(Dispatch, HqqRejectsCpuDevice) {
  Json user = Json::object();
  user["quant_method"] = "hqq";
  user["quant_config"] = kHqqQuantConfig;
  user["skip_modules"] = Json::array({"lm_head"});
  DispatchInputs in = onTheFly(user);
  in.deviceMap = Json::parse(R"({"": "cpu"})");
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, "ValueError");
  EXPECT_EQ(d.error->message,
            "You are attempting to use an HQQ model with a device_map that "
            "contains a CPU or disk device. This is not supported. Please "
            "remove the CPU or disk device from the device_map.");
}

TEST(Dispatch, BnbFillsAnUnsetDeviceMap) {
  DispatchInputs in = onTheFly(Json::parse(R"({"load_in_4bit": true})"));
  DispatchDecision d = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(d.error) << errorOf(d);
  // `{"": torch.cuda.current_device()}`: the int 0.
  EXPECT_EQ(d.deviceMap, Json::parse(R"({"": 0})"));
  EXPECT_EQ(textsAt(d, Level::Info),
            std::vector<std::string>{
                "The device_map was not initialized. Setting device_map to "
                "{'': 0}. If you want to use the model for inference, please "
                "set device_map ='auto' "});

  in.target = "cpu";
  DispatchDecision cpu = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(cpu.error) << errorOf(cpu);
  EXPECT_EQ(cpu.deviceMap, Json::parse(R"({"": "cpu"})"));

  in.deviceMap = "auto";
  DispatchDecision kept = dispatchQuantizer(builtins(), in);
  ASSERT_FALSE(kept.error) << errorOf(kept);
  EXPECT_EQ(kept.deviceMap, "auto");
  EXPECT_TRUE(kept.messages.empty());
}

TEST(Dispatch, GptqDeviceMapDefaultsToCpu) {
  DispatchDecision d = dispatchQuantizer(
      builtins(),
      preQuantized(Json::parse(R"({"quant_method": "gptq", "bits": 4})")));
  ASSERT_FALSE(d.error) << errorOf(d);
  EXPECT_EQ(d.deviceMap, Json::parse(R"({"": "cpu"})"));
}

TEST(Dispatch, BadInputsAreErrorsNotCrashes) {
  // `quantization_config: null` is not pre-quantized in 5.17 (`getattr(...)
  // or text_config's`; recorded case null-quantization-config); a string
  // still reaches supports_quant_method's `.get`.
  DispatchInputs nullConfig = preQuantized(Json());
  DispatchDecision a = dispatchQuantizer(builtins(), nullConfig);
  EXPECT_FALSE(a.error) << errorOf(a);
  EXPECT_FALSE(a.preQuantized);
  DispatchDecision text = dispatchQuantizer(builtins(), preQuantized("gptq"));
  ASSERT_TRUE(text.error);
  EXPECT_EQ(text.error->kind, "AttributeError");
  EXPECT_EQ(text.error->message, "'str' object has no attribute 'get'");

  DispatchDecision number = dispatchQuantizer(
      builtins(), preQuantized(Json::parse(R"({"quant_method": 5})")));
  EXPECT_FALSE(number.error) << errorOf(number);
  ASSERT_EQ(number.messages.size(), 1u);
  EXPECT_EQ(number.messages[0].text, unknownSkipWarning("5"));

  DispatchInputs badModel;
  badModel.modelConfig = Json::array();
  EXPECT_TRUE(dispatchQuantizer(builtins(), badModel).error);

  DispatchInputs badTarget;
  badTarget.target = "sm_x";
  EXPECT_TRUE(dispatchQuantizer(builtins(), badTarget).error);

  DispatchInputs badDtype;
  badDtype.dtype = "int7";
  EXPECT_TRUE(dispatchQuantizer(builtins(), badDtype).error);

  DispatchInputs badMap = onTheFly(Json::parse(R"({"load_in_4bit": true})"));
  badMap.deviceMap = 3.5;
  EXPECT_TRUE(dispatchQuantizer(builtins(), badMap).error);
  // check_and_set_device_map's errors.
  badMap.deviceMap = -1;
  EXPECT_TRUE(dispatchQuantizer(builtins(), badMap).error);
  badMap.deviceMap = "gpu";
  EXPECT_TRUE(dispatchQuantizer(builtins(), badMap).error);

  // Wrong types deep inside a config reach rules as values, not crashes.
  for (const char *text :
       {R"({"quant_method": "fp8", "weight_block_size": [128, "x"]})",
        R"({"quant_method": "torchao", "quant_type": {"default": 3}})",
        R"({"quant_method": "torchao", "quant_type": null})",
        R"({"quant_method": "awq", "backend": null})",
        R"({"quant_method": "gptq", "bits": null})",
        R"({"quant_method": "compressed-tensors", "config_groups": []})",
        R"({"quant_method": "hqq", "quant_config": 1, "skip_modules": 2})"}) {
    SCOPED_TRACE(text);
    DispatchDecision d =
        dispatchQuantizer(builtins(), preQuantized(Json::parse(text)));
    if (d.error)
      EXPECT_NE(d.error->kind, "InternalError") << d.error->str();
  }
}

//===----------------------------------------------------------------------===//
// shouldSkipModule: v5 should_convert_module
//===----------------------------------------------------------------------===//

TEST(SkipModules, PrefixWithAndWithoutDot) {
  std::vector<std::string> patterns = {"model.layers.0"};
  EXPECT_TRUE(shouldSkipModule("model.layers.0.mlp.up_proj", patterns));
  EXPECT_TRUE(shouldSkipModule("model.layers.0", patterns));
  EXPECT_FALSE(shouldSkipModule("model.layers.1.mlp.up_proj", patterns));
  // re.match(key, name) is a plain prefix match, so "model.layers.1" also
  // skips layer 10 (transformers behaves the same).
  EXPECT_TRUE(shouldSkipModule("model.layers.10.mlp", {"model.layers.1"}));
}

TEST(SkipModules, RegexPatterns) {
  std::vector<std::string> patterns = {"model.layers.*.self_attn",
                                       "model.layers.*.mlp.router"};
  EXPECT_TRUE(shouldSkipModule("model.layers.3.self_attn.q_proj", patterns));
  EXPECT_TRUE(shouldSkipModule("model.layers.17.mlp.router", patterns));
  EXPECT_FALSE(shouldSkipModule("model.layers.3.mlp.experts.0", patterns));
  // Anchored at the start only.
  EXPECT_FALSE(shouldSkipModule("vision.model.layers.3.self_attn.q_proj",
                                {"model.layers.*.self_attn"}));
}

TEST(SkipModules, Suffix) {
  EXPECT_TRUE(shouldSkipModule("lm_head", {"lm_head"}));
  EXPECT_TRUE(shouldSkipModule("model.decoder.lm_head", {"lm_head"}));
  EXPECT_TRUE(shouldSkipModule("model.layers.0.self_attn.q_proj", {"q_proj"}));
  EXPECT_FALSE(shouldSkipModule("model.layers.0.self_attn.k_proj", {"q_proj"}));
}

TEST(SkipModules, NoMatchAndNoPatterns) {
  EXPECT_FALSE(shouldSkipModule("model.layers.0.mlp.up_proj",
                                {"lm_head", "model.embed_tokens"}));
  EXPECT_FALSE(shouldSkipModule("model.layers.0.mlp.up_proj", {}));
}

TEST(SkipModules, InvalidRegexIsAPlainPrefix) {
  std::vector<std::string> patterns = {"model.layers.[0"};
  EXPECT_TRUE(shouldSkipModule("model.layers.[0.mlp", patterns));
  EXPECT_FALSE(shouldSkipModule("model.layers.0.mlp", patterns));
  SkipPatterns compiled({"(unclosed", "lm_head"});
  EXPECT_TRUE(compiled.skips("(unclosed.x"));
  EXPECT_TRUE(compiled.skips("lm_head"));
  EXPECT_FALSE(compiled.skips("model.norm"));
  // Huge inputs do not reach the recursive matcher.
  EXPECT_FALSE(compiled.skips(std::string(100000, 'a')));
  EXPECT_FALSE(shouldSkipModule(std::string(100000, 'a'), {"(a*)*b"}));
}

} // namespace
