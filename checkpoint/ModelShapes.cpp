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
#include "spec/Input.h"

#include <iterator>
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

namespace {

/// Reads config.json's integers, each range-checked before it is used in
/// any arithmetic; the first problem is kept in `error`.
struct ConfigFields {
  const Json &config;
  std::string &error;

  /// config[key]: `fallback` when absent or null, else an integer in
  /// [lo, hi] (`hi` is the limit `limitName` of spec/Limits.h).
  int64_t get(const char *key, int64_t fallback, int64_t lo, int64_t hi,
              const char *limitName) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null())
      return fallback;
    if (!error.empty())
      return fallback;
    std::string where = std::string("/") + key + ": ";
    if (!it->is_number_integer()) {
      error = where + "expected an integer, got " + spec::pythonTypeName(*it);
      return fallback;
    }
    bool tooBig = it->is_number_unsigned()
                      ? it->get<uint64_t>() > static_cast<uint64_t>(hi)
                      : it->get<int64_t>() > hi;
    if (tooBig) {
      error = where + spec::quoteLimited(it->dump()) +
              " is more than hfq plans for " +
              spec::limitNote(limitName, static_cast<uint64_t>(hi));
      return fallback;
    }
    if (it->get<int64_t>() < lo) {
      error = where + std::to_string(it->get<int64_t>()) + " is less than " +
              std::to_string(lo);
      return fallback;
    }
    return it->get<int64_t>();
  }

  /// A size (hidden_size, head counts, ...): 1 .. kMaxConfigDim.
  int64_t size(const char *key, int64_t fallback) {
    return get(key, fallback, 1, limits::kMaxConfigDim, "kMaxConfigDim");
  }
  /// A size that may be 0 (a LoRA rank, a head dimension left out).
  int64_t sizeOrZero(const char *key, int64_t fallback) {
    return get(key, fallback, 0, limits::kMaxConfigDim, "kMaxConfigDim");
  }
  int64_t experts(const char *key) {
    return get(key, 0, 0, limits::kMaxExperts, "kMaxExperts");
  }
  int64_t layers(const char *key, int64_t fallback, int64_t lo) {
    return get(key, fallback, lo, limits::kMaxHiddenLayers, "kMaxHiddenLayers");
  }
};

/// What every architecture has: the model's width and depth, and where the
/// layers it lists go. N and K are products of range-checked fields (each
/// at most 2^24, so no product of two or three overflows int64) and are
/// checked against kMaxLinearDim as they are added.
struct Decoder {
  int64_t hidden;
  int64_t layers;
  std::vector<LinearInfo> &linears;
  std::string &error;

  void add(const std::string &name, int64_t n, int64_t k,
           int64_t repeat = 1) const {
    if (!error.empty())
      return;
    for (auto [dim, value] : {std::make_pair("N", n), std::make_pair("K", k)})
      if (value > limits::kMaxLinearDim) {
        error = "/: " + name + " would have " + dim + " = " +
                std::to_string(value) + " " +
                spec::limitNote("kMaxLinearDim", limits::kMaxLinearDim);
        return;
      }
    linears.push_back({name, n, k, repeat});
  }
};

} // namespace

/// Llama-style decoders: grouped-query attention and a gated MLP.
static void addLlamaLayers(ConfigFields &f, const Decoder &d) {
  int64_t hidden = d.hidden;
  int64_t heads = f.size("num_attention_heads", -1);
  int64_t kvHeads = f.size("num_key_value_heads", heads);
  int64_t headDim = f.size("head_dim", heads > 0 ? hidden / heads : -1);
  int64_t inter = f.size("intermediate_size", -1);
  if (!f.error.empty())
    return;
  // A size the config does not give stays unknown (-1): never the product
  // of two unknowns.
  auto times = [](int64_t a, int64_t b) { return a > 0 && b > 0 ? a * b : -1; };
  int64_t qWidth = times(heads, headDim), kvWidth = times(kvHeads, headDim);
  for (int64_t l = 0; l < d.layers && d.error.empty(); ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    d.add(p + "self_attn.q_proj", qWidth, hidden);
    d.add(p + "self_attn.k_proj", kvWidth, hidden);
    d.add(p + "self_attn.v_proj", kvWidth, hidden);
    d.add(p + "self_attn.o_proj", hidden, qWidth);
    d.add(p + "mlp.gate_proj", inter, hidden);
    d.add(p + "mlp.up_proj", inter, hidden);
    d.add(p + "mlp.down_proj", hidden, inter);
  }
}

/// DeepSeek-V2/V3: multi-head latent attention, dense MLPs in the first
/// layers, then routed and shared experts.
static void addDeepseekLayers(ConfigFields &f, const Decoder &d) {
  int64_t hidden = d.hidden;
  int64_t heads = f.size("num_attention_heads", -1);
  int64_t qLora = f.sizeOrZero("q_lora_rank", -1);
  int64_t kvLora = f.sizeOrZero("kv_lora_rank", -1);
  int64_t nope = f.sizeOrZero("qk_nope_head_dim", -1);
  int64_t rope = f.sizeOrZero("qk_rope_head_dim", -1);
  int64_t vHead = f.sizeOrZero("v_head_dim", -1);
  int64_t inter = f.size("intermediate_size", -1);
  int64_t moeInter = f.size("moe_intermediate_size", -1);
  int64_t experts = f.experts("n_routed_experts");
  int64_t shared = f.experts("n_shared_experts");
  int64_t denseLayers = f.layers("first_k_dense_replace", d.layers, 0);
  if (!f.error.empty())
    return;
  for (int64_t l = 0; l < d.layers && d.error.empty(); ++l) {
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

bool linearsFromConfig(const Json &config, std::vector<LinearInfo> &linears,
                       std::string &error) {
  error.clear();
  if (!config.is_object())
    return false;
  auto typeIt = config.find("model_type");
  std::string type = typeIt != config.end() && typeIt->is_string()
                         ? typeIt->get<std::string>()
                         : "";
  static const std::set<std::string> llamaLike = {
      "llama",       "mistral", "qwen2", "qwen3",   "gemma",     "gemma2",
      "gemma3_text", "phi3",    "olmo2", "granite", "internlm2", "bitnet"};
  bool deepseek = type == "deepseek_v3" || type == "deepseek_v2";
  if (!llamaLike.count(type) && !deepseek)
    return false;
  ConfigFields fields{config, error};
  int64_t hidden = fields.size("hidden_size", -1);
  int64_t layers = fields.layers("num_hidden_layers", -1, 1);
  int64_t vocab = fields.size("vocab_size", -1);
  if (!error.empty() || hidden <= 0 || layers <= 0)
    return false;
  std::vector<LinearInfo> out;
  Decoder decoder{hidden, layers, out, error};
  if (deepseek)
    addDeepseekLayers(fields, decoder);
  else
    addLlamaLayers(fields, decoder);
  decoder.add("lm_head", vocab, hidden);
  if (!error.empty())
    return false;
  linears.insert(linears.end(), std::make_move_iterator(out.begin()),
                 std::make_move_iterator(out.end()));
  return true;
}

bool linearsFromConfig(const Json &config, std::vector<LinearInfo> &linears) {
  std::string ignored;
  return linearsFromConfig(config, linears, ignored);
}

} // namespace hfq::checkpoint
