//===- Safetensors.cpp - Reading checkpoints: safetensors and config.json ---===//

#include "checkpoint/Safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace hfq::checkpoint {

using spec::Json;

/// safetensors caps its header at 100 MB; so do we.
static constexpr uint64_t kMaxHeaderBytes = 100u << 20;

bool readSafetensorsHeader(const std::string &path,
                           std::map<std::string, TensorInfo> &tensors,
                           std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open safetensors file";
    return false;
  }
  unsigned char lengthBytes[8];
  if (!in.read(reinterpret_cast<char *>(lengthBytes), 8)) {
    error = path + ": not a safetensors file (shorter than its 8-byte header length)";
    return false;
  }
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | lengthBytes[i];
  if (length == 0 || length > kMaxHeaderBytes) {
    error = path + ": not a safetensors file (header length " +
            std::to_string(length) + ")";
    return false;
  }
  std::string header(length, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(length))) {
    error = path + ": truncated safetensors header";
    return false;
  }
  Json parsed = Json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    error = path + ": safetensors header is not a JSON object";
    return false;
  }
  for (const auto &entry : parsed.items()) {
    if (entry.key() == "__metadata__")
      continue;
    const Json &value = entry.value();
    auto dtype = value.is_object() ? value.find("dtype") : value.end();
    auto shape = value.is_object() ? value.find("shape") : value.end();
    if (!value.is_object() || dtype == value.end() || !dtype->is_string() ||
        shape == value.end() || !shape->is_array()) {
      error = path + ": tensor '" + entry.key() +
              "' has no dtype or shape in the header";
      return false;
    }
    TensorInfo info;
    info.dtype = dtype->get<std::string>();
    info.shapeKnown = true;
    info.file = path;
    auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 ||
        !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned() ||
        (*offsets)[0].get<uint64_t>() > (*offsets)[1].get<uint64_t>()) {
      error = path + ": tensor '" + entry.key() + "' has bad data_offsets";
      return false;
    }
    // Offsets count from the end of the header.
    info.begin = 8 + length + (*offsets)[0].get<uint64_t>();
    info.end = 8 + length + (*offsets)[1].get<uint64_t>();
    for (const Json &dim : *shape) {
      if (!dim.is_number_integer() || dim.get<int64_t>() < 0) {
        error = path + ": tensor '" + entry.key() + "' has a bad shape";
        return false;
      }
      info.shape.push_back(dim.get<int64_t>());
    }
    tensors[entry.key()] = std::move(info);
  }
  return true;
}

bool readTensorData(const TensorInfo &info, std::vector<char> &bytes,
                    std::string &error) {
  std::ifstream in(info.file, std::ios::binary);
  if (!in) {
    error = info.file + ": cannot open safetensors file";
    return false;
  }
  bytes.resize(info.end - info.begin);
  if (!in.seekg(static_cast<std::streamoff>(info.begin)) ||
      !in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    error = info.file + ": truncated tensor data";
    return false;
  }
  return true;
}

bool readSafetensorsIndex(const std::string &path,
                          std::map<std::string, TensorInfo> &tensors,
                          std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open safetensors index";
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  Json index = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  auto map = index.is_object() ? index.find("weight_map") : index.end();
  if (!index.is_object() || map == index.end() || !map->is_object()) {
    error = path + ": not a safetensors index (no \"weight_map\" object)";
    return false;
  }
  std::set<std::string> shards;
  for (const auto &entry : map->items()) {
    tensors.emplace(entry.key(), TensorInfo());
    if (entry.value().is_string())
      shards.insert(entry.value().get<std::string>());
  }
  // Shapes from the shards that are here (a dry run usually has none).
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  for (const std::string &shard : shards) {
    std::filesystem::path file = dir / shard;
    std::error_code ec;
    if (std::filesystem::exists(file, ec) &&
        !readSafetensorsHeader(file.string(), tensors, error))
      return false;
  }
  return true;
}

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

bool linearsFromConfig(const Json &config, std::vector<LinearInfo> &linears) {
  if (!config.is_object())
    return false;
  auto typeIt = config.find("model_type");
  std::string type =
      typeIt != config.end() && typeIt->is_string() ? typeIt->get<std::string>() : "";
  int64_t hidden = intField(config, "hidden_size", -1);
  int64_t layers = intField(config, "num_hidden_layers", -1);
  int64_t vocab = intField(config, "vocab_size", -1);
  if (hidden <= 0 || layers <= 0)
    return false;
  auto add = [&](const std::string &name, int64_t n, int64_t k,
                 int64_t repeat = 1) {
    linears.push_back({name, n, k, repeat});
  };
  static const std::set<std::string> llamaLike = {
      "llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text",
      "phi3", "olmo2", "granite", "internlm2", "bitnet"};
  if (llamaLike.count(type)) {
    int64_t heads = intField(config, "num_attention_heads", -1);
    int64_t kvHeads = intField(config, "num_key_value_heads", heads);
    int64_t headDim = intField(config, "head_dim", heads > 0 ? hidden / heads : -1);
    int64_t inter = intField(config, "intermediate_size", -1);
    for (int64_t l = 0; l < layers; ++l) {
      std::string p = "model.layers." + std::to_string(l) + ".";
      add(p + "self_attn.q_proj", heads * headDim, hidden);
      add(p + "self_attn.k_proj", kvHeads * headDim, hidden);
      add(p + "self_attn.v_proj", kvHeads * headDim, hidden);
      add(p + "self_attn.o_proj", hidden, heads * headDim);
      add(p + "mlp.gate_proj", inter, hidden);
      add(p + "mlp.up_proj", inter, hidden);
      add(p + "mlp.down_proj", hidden, inter);
    }
    add("lm_head", vocab, hidden);
    return true;
  }
  if (type == "deepseek_v3" || type == "deepseek_v2") {
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
    int64_t denseLayers = intField(config, "first_k_dense_replace", layers);
    for (int64_t l = 0; l < layers; ++l) {
      std::string p = "model.layers." + std::to_string(l) + ".";
      if (qLora > 0) {
        add(p + "self_attn.q_a_proj", qLora, hidden);
        add(p + "self_attn.q_b_proj", heads * (nope + rope), qLora);
      } else {
        add(p + "self_attn.q_proj", heads * (nope + rope), hidden);
      }
      add(p + "self_attn.kv_a_proj_with_mqa", kvLora + rope, hidden);
      add(p + "self_attn.kv_b_proj", heads * (nope + vHead), kvLora);
      add(p + "self_attn.o_proj", hidden, heads * vHead);
      if (l < denseLayers || experts == 0) {
        add(p + "mlp.gate_proj", inter, hidden);
        add(p + "mlp.up_proj", inter, hidden);
        add(p + "mlp.down_proj", hidden, inter);
        continue;
      }
      // The routed experts of a layer share one row, counted `experts` times.
      add(p + "mlp.experts.0.gate_proj", moeInter, hidden, experts);
      add(p + "mlp.experts.0.up_proj", moeInter, hidden, experts);
      add(p + "mlp.experts.0.down_proj", hidden, moeInter, experts);
      if (shared > 0) {
        add(p + "mlp.shared_experts.gate_proj", moeInter * shared, hidden);
        add(p + "mlp.shared_experts.up_proj", moeInter * shared, hidden);
        add(p + "mlp.shared_experts.down_proj", hidden, moeInter * shared);
      }
    }
    add("lm_head", vocab, hidden);
    return true;
  }
  return false;
}

} // namespace hfq::checkpoint
