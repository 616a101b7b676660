//===- DecoderConfig.cpp - A causal decoder's config.json, checked --------===//
//
// Defaults are transformers 5.17's config classes' (LlamaConfig,
// MistralConfig, Qwen2Config, Qwen3Config). Rope parameters are read from
// 5.x's `rope_parameters` (which holds rope_theta) or, for checkpoints
// written by 4.x, from `rope_scaling` beside `rope_theta`.
//
//===----------------------------------------------------------------------===//

#include "importer/DecoderConfig.h"
#include "spec/Limits.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace hfq::importer {

namespace {

using spec::Json;

/// Reads the integer `key` into `out` (a default when absent and
/// `required` is false), checked to lie in [lo, hi].
bool readInt(const Json &config, const char *key, int64_t &out, int64_t lo,
             int64_t hi, bool required, std::string &error) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) {
    if (required)
      error = std::string("/") + key + ": missing";
    return !required;
  }
  if (!it->is_number_integer() ||
      (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(hi)) ||
      it->get<int64_t>() < lo || it->get<int64_t>() > hi) {
    error = std::string("/") + key + ": must be an integer in [" +
            std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
            it->dump();
    return false;
  }
  out = it->get<int64_t>();
  return true;
}

/// A positive finite number (integers accepted), or the default when absent.
bool readNumber(const Json &object, const std::string &where, const char *key,
                double &out, std::string &error) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null())
    return true;
  if (!it->is_number() || !std::isfinite(it->get<double>()) ||
      it->get<double>() < 0) {
    error = where + "/" + key + ": must be a finite number >= 0, got " +
            it->dump();
    return false;
  }
  out = it->get<double>();
  return true;
}

bool readBool(const Json &config, const char *key, bool &out,
              std::string &error) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null())
    return true;
  if (!it->is_boolean()) {
    error = std::string("/") + key + ": must be true or false, got " + it->dump();
    return false;
  }
  out = it->get<bool>();
  return true;
}

bool readArchitecture(const Json &config, DecoderConfig &out,
                      std::string &error) {
  auto it = config.find("architectures");
  if (it == config.end() || it->is_null()) {
    // AutoModelForCausalLM picks the class from model_type.
    static const std::map<std::string, std::string> byModelType = {
        {"llama", "LlamaForCausalLM"}, {"mistral", "MistralForCausalLM"},
        {"qwen2", "Qwen2ForCausalLM"}, {"qwen3", "Qwen3ForCausalLM"}};
    auto type = config.find("model_type");
    auto known = type != config.end() && type->is_string()
                     ? byModelType.find(type->get<std::string>())
                     : byModelType.end();
    if (known == byModelType.end()) {
      error = "/architectures: missing, and /model_type is not one of llama, "
              "mistral, qwen2, qwen3";
      return false;
    }
    out.architecture = known->second;
  } else if (!it->is_array() || it->size() != 1 || !(*it)[0].is_string()) {
    error = "/architectures: must be a list of one architecture name";
    return false;
  } else {
    out.architecture = (*it)[0].get<std::string>();
  }
  const auto &known = supportedArchitectures();
  if (std::find(known.begin(), known.end(), out.architecture) == known.end()) {
    error = "/architectures: '" + out.architecture +
            "' is not supported by hfq-import (supported: ";
    for (size_t i = 0; i < known.size(); ++i)
      error += (i ? ", " : "") + known[i];
    error += ")";
    return false;
  }
  auto act = config.find("hidden_act");
  if (act != config.end() && *act != "silu") {
    error = "/hidden_act: only 'silu' is supported, got " + act->dump();
    return false;
  }
  return true;
}

bool readSizes(const Json &config, DecoderConfig &out, std::string &error) {
  using limits::kMaxConfigDim;
  if (!readInt(config, "hidden_size", out.hiddenSize, 1, kMaxConfigDim, true, error) ||
      !readInt(config, "intermediate_size", out.intermediateSize, 1, kMaxConfigDim, true, error) ||
      !readInt(config, "num_hidden_layers", out.numLayers, 1, limits::kMaxHiddenLayers, true, error) ||
      !readInt(config, "num_attention_heads", out.numHeads, 1, kMaxConfigDim, true, error) ||
      !readInt(config, "vocab_size", out.vocabSize, 1, kMaxConfigDim, true, error))
    return false;
  out.numKvHeads = out.numHeads;
  out.headDim = out.hiddenSize / out.numHeads;
  out.maxPositions = 4096;
  if (!readInt(config, "num_key_value_heads", out.numKvHeads, 1, kMaxConfigDim, false, error) ||
      !readInt(config, "head_dim", out.headDim, 1, kMaxConfigDim, false, error) ||
      !readInt(config, "max_position_embeddings", out.maxPositions, 1, kMaxConfigDim, false, error))
    return false;
  if (out.numHeads % out.numKvHeads) {
    error = "/num_key_value_heads: " + std::to_string(out.numKvHeads) +
            " does not divide num_attention_heads (" +
            std::to_string(out.numHeads) + ")";
    return false;
  }
  if (out.headDim % 2 || out.headDim * out.numHeads > kMaxConfigDim) {
    error = "/head_dim: " + std::to_string(out.headDim) +
            " must be even (rotary embedding) and head_dim * heads <= " +
            std::to_string(kMaxConfigDim);
    return false;
  }
  return true;
}

bool readRope(const Json &config, RopeConfig &rope, std::string &error) {
  std::string where = "/rope_parameters";
  auto params = config.find("rope_parameters");
  if (params == config.end() || params->is_null()) {
    where = "/rope_scaling";
    params = config.find("rope_scaling");
    if (!readNumber(config, "", "rope_theta", rope.theta, error))
      return false;
  }
  if (params == config.end() || params->is_null())
    return true;
  if (!params->is_object()) {
    error = where + ": must be an object, got " + params->dump();
    return false;
  }
  auto type = params->find("rope_type");
  if (type == params->end())
    type = params->find("type");
  if (type != params->end() && !type->is_string()) {
    error = where + "/rope_type: must be a string";
    return false;
  }
  if (type != params->end())
    rope.type = type->get<std::string>();
  double original = 0;
  if (!readNumber(*params, where, "rope_theta", rope.theta, error) ||
      !readNumber(*params, where, "factor", rope.factor, error) ||
      !readNumber(*params, where, "low_freq_factor", rope.lowFreqFactor, error) ||
      !readNumber(*params, where, "high_freq_factor", rope.highFreqFactor, error) ||
      !readNumber(*params, where, "original_max_position_embeddings", original, error))
    return false;
  rope.originalMaxPositions = static_cast<int64_t>(original);
  return true;
}

/// Which layers attend within a sliding window: 5.x's `layer_types` when
/// present; else Mistral's `sliding_window` for every layer, and Qwen2/3's
/// for the layers from `max_window_layers` on when `use_sliding_window`.
bool readSlidingWindows(const Json &config, DecoderConfig &out,
                        std::string &error) {
  int64_t window = 0, maxWindowLayers = out.numLayers;
  bool useSliding = out.architecture == "MistralForCausalLM";
  if (!readInt(config, "sliding_window", window, 0, limits::kMaxLinearDim, false, error) ||
      !readBool(config, "use_sliding_window", useSliding, error) ||
      !readInt(config, "max_window_layers", maxWindowLayers, 0, limits::kMaxHiddenLayers, false, error))
    return false;
  out.slidingWindow.assign(out.numLayers, 0);
  auto types = config.find("layer_types");
  if (types != config.end() && types->is_array()) {
    if (static_cast<int64_t>(types->size()) != out.numLayers) {
      error = "/layer_types: must have num_hidden_layers entries";
      return false;
    }
    for (int64_t i = 0; i < out.numLayers; ++i)
      if ((*types)[i] == "sliding_attention")
        out.slidingWindow[i] = window;
    return true;
  }
  bool qwen = out.architecture != "MistralForCausalLM";
  for (int64_t i = 0; i < out.numLayers; ++i)
    if (useSliding && (!qwen || i >= maxWindowLayers))
      out.slidingWindow[i] = window;
  return true;
}

bool readDtype(const Json &config, DecoderConfig &out, std::string &error) {
  for (const char *key : {"dtype", "torch_dtype"}) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null())
      continue;
    if (!it->is_string() || (*it != "float32" && *it != "float16" &&
                             *it != "bfloat16")) {
      error = std::string("/") + key +
              ": must be float32, float16 or bfloat16, got " + it->dump();
      return false;
    }
    out.dtype = it->get<std::string>();
    return true;
  }
  out.dtype = "float32";
  return true;
}

} // namespace

const std::vector<std::string> &supportedArchitectures() {
  static const std::vector<std::string> names = {
      "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
      "Qwen3ForCausalLM"};
  return names;
}

bool parseDecoderConfig(const spec::Json &config, DecoderConfig &out,
                        std::string &error) {
  if (!config.is_object()) {
    error = ": config.json must be a JSON object";
    return false;
  }
  if (!readArchitecture(config, out, error) || !readSizes(config, out, error))
    return false;
  const std::string &arch = out.architecture;
  out.qkNorm = arch == "Qwen3ForCausalLM";
  out.attentionBias = arch == "Qwen2ForCausalLM";
  if (arch == "LlamaForCausalLM" || arch == "Qwen3ForCausalLM") {
    if (!readBool(config, "attention_bias", out.attentionBias, error))
      return false;
    out.outputBias = out.attentionBias;
  }
  if (arch == "LlamaForCausalLM" && !readBool(config, "mlp_bias", out.mlpBias, error))
    return false;
  return readNumber(config, "", "rms_norm_eps", out.rmsNormEps, error) &&
         readBool(config, "tie_word_embeddings", out.tieWordEmbeddings, error) &&
         readRope(config, out.rope, error) &&
         readSlidingWindows(config, out, error) && readDtype(config, out, error);
}

} // namespace hfq::importer
