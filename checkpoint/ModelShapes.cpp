//===- ModelShapes.cpp - A model's linear layers and shapes ---------------===//
//
// Two sources of a model's linear layers for the dry-run planner: the names
// (and, where a header was read, shapes) of its checkpoint tensors, or the
// module tree of a known architecture computed from config.json, one
// function per architecture family.
//
//===----------------------------------------------------------------------===//

#include "checkpoint/ModelShapes.h"
#include "checkpoint/Safetensors.h"

#include <set>

namespace hfq::checkpoint {

using spec::Json;

static bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<LinearInfo>
linearsFromTensors(const std::map<std::string, TensorInfo> &tensors,
                   const std::vector<std::string> &anchors) {
  std::vector<LinearInfo> linears;
  std::set<std::string> seen;
  auto isEmbedding = [](const std::string &module) {
    for (const char *part : {"embed_tokens", "wte", "wpe", "embed_positions"})
      if (module.find(part) != std::string::npos)
        return true;
    return false;
  };
  for (const auto &[name, info] : tensors) {
    std::string module;
    for (const std::string &anchor : anchors)
      if (endsWith(name, "." + anchor)) {
        module = name.substr(0, name.size() - anchor.size() - 1);
        break;
      }
    bool floatWeight = endsWith(name, ".weight") &&
                       (!info.shapeKnown || info.shape.size() == 2);
    if (module.empty() && floatWeight)
      module = name.substr(0, name.size() - 7);
    // A rank-1 `.weight` is a norm; names without shapes stay candidates
    // only when they look like projections.
    if (module.empty() || isEmbedding(module) || seen.count(module))
      continue;
    if (!info.shapeKnown && module.find("norm") != std::string::npos)
      continue;
    seen.insert(module);
    LinearInfo linear;
    linear.name = module;
    auto weight = tensors.find(module + ".weight");
    if (weight != tensors.end() && weight->second.shapeKnown &&
        weight->second.shape.size() == 2) {
      linear.n = weight->second.shape[0];
      linear.k = weight->second.shape[1];
    }
    linears.push_back(std::move(linear));
  }
  return linears;
}

/// config[key] as an integer, or `fallback`.
static int64_t intField(const Json &config, const char *key, int64_t fallback) {
  auto it = config.find(key);
  return it != config.end() && it->is_number_integer() ? it->get<int64_t>()
                                                       : fallback;
}

namespace {

/// What every architecture has: the model's width and depth, and where the
/// layers it lists go.
struct Decoder {
  int64_t hidden;
  int64_t layers;
  std::vector<LinearInfo> &linears;

  void add(const std::string &name, int64_t n, int64_t k,
           int64_t repeat = 1) const {
    linears.push_back({name, n, k, repeat});
  }
};

} // namespace

/// Llama-style decoders: grouped-query attention and a gated MLP.
static void addLlamaLayers(const Json &config, const Decoder &d) {
  int64_t hidden = d.hidden;
  int64_t heads = intField(config, "num_attention_heads", -1);
  int64_t kvHeads = intField(config, "num_key_value_heads", heads);
  int64_t headDim =
      intField(config, "head_dim", heads > 0 ? hidden / heads : -1);
  int64_t inter = intField(config, "intermediate_size", -1);
  for (int64_t l = 0; l < d.layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    d.add(p + "self_attn.q_proj", heads * headDim, hidden);
    d.add(p + "self_attn.k_proj", kvHeads * headDim, hidden);
    d.add(p + "self_attn.v_proj", kvHeads * headDim, hidden);
    d.add(p + "self_attn.o_proj", hidden, heads * headDim);
    d.add(p + "mlp.gate_proj", inter, hidden);
    d.add(p + "mlp.up_proj", inter, hidden);
    d.add(p + "mlp.down_proj", hidden, inter);
  }
}

/// DeepSeek-V2/V3: multi-head latent attention, dense MLPs in the first
/// layers, then routed and shared experts.
static void addDeepseekLayers(const Json &config, const Decoder &d) {
  int64_t hidden = d.hidden;
  int64_t heads = intField(config, "num_attention_heads", -1);
  int64_t qLora = intField(config, "q_lora_rank", -1);
  int64_t kvLora = intField(config, "kv_lora_rank", -1);
  int64_t nope = intField(config, "qk_nope_head_dim", -1);
  int64_t rope = intField(config, "qk_rope_head_dim", -1);
  int64_t vHead = intField(config, "v_head_dim", -1);
  int64_t inter = intField(config, "intermediate_size", -1);
  int64_t moeInter = intField(config, "moe_intermediate_size", -1);
  int64_t experts = intField(config, "n_routed_experts", 0);
  int64_t shared = intField(config, "n_shared_experts", 0);
  int64_t denseLayers = intField(config, "first_k_dense_replace", d.layers);
  for (int64_t l = 0; l < d.layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    if (qLora > 0) {
      d.add(p + "self_attn.q_a_proj", qLora, hidden);
      d.add(p + "self_attn.q_b_proj", heads * (nope + rope), qLora);
    } else {
      d.add(p + "self_attn.q_proj", heads * (nope + rope), hidden);
    }
    d.add(p + "self_attn.kv_a_proj_with_mqa", kvLora + rope, hidden);
    d.add(p + "self_attn.kv_b_proj", heads * (nope + vHead), kvLora);
    d.add(p + "self_attn.o_proj", hidden, heads * vHead);
    if (l < denseLayers || experts == 0) {
      d.add(p + "mlp.gate_proj", inter, hidden);
      d.add(p + "mlp.up_proj", inter, hidden);
      d.add(p + "mlp.down_proj", hidden, inter);
      continue;
    }
    // The routed experts of a layer share one row, counted `experts` times.
    d.add(p + "mlp.experts.0.gate_proj", moeInter, hidden, experts);
    d.add(p + "mlp.experts.0.up_proj", moeInter, hidden, experts);
    d.add(p + "mlp.experts.0.down_proj", hidden, moeInter, experts);
    if (shared > 0) {
      d.add(p + "mlp.shared_experts.gate_proj", moeInter * shared, hidden);
      d.add(p + "mlp.shared_experts.up_proj", moeInter * shared, hidden);
      d.add(p + "mlp.shared_experts.down_proj", hidden, moeInter * shared);
    }
  }
}

bool linearsFromConfig(const Json &config, std::vector<LinearInfo> &linears) {
  if (!config.is_object())
    return false;
  auto typeIt = config.find("model_type");
  std::string type = typeIt != config.end() && typeIt->is_string()
                         ? typeIt->get<std::string>()
                         : "";
  int64_t hidden = intField(config, "hidden_size", -1);
  int64_t layers = intField(config, "num_hidden_layers", -1);
  int64_t vocab = intField(config, "vocab_size", -1);
  if (hidden <= 0 || layers <= 0)
    return false;
  static const std::set<std::string> llamaLike = {
      "llama",       "mistral", "qwen2", "qwen3",   "gemma",     "gemma2",
      "gemma3_text", "phi3",    "olmo2", "granite", "internlm2", "bitnet"};
  Decoder decoder{hidden, layers, linears};
  if (llamaLike.count(type))
    addLlamaLayers(config, decoder);
  else if (type == "deepseek_v3" || type == "deepseek_v2")
    addDeepseekLayers(config, decoder);
  else
    return false;
  decoder.add("lm_head", vocab, hidden);
  return true;
}

} // namespace hfq::checkpoint
