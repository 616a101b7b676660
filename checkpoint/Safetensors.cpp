//===- Safetensors.cpp - Reading safetensors and index files --------------===//
//
// The formats exactly as published: an 8-byte little-endian header length,
// the JSON header (dtype, shape, data_offsets per tensor; offsets count
// from the end of the header), then the raw data; an index file's
// weight_map names every tensor's shard. Malformed input is an error that
// names the file.
//
//===----------------------------------------------------------------------===//

#include "checkpoint/Safetensors.h"
#include "spec/expr/Expr.h"

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
    error = path +
            ": not a safetensors file (shorter than its 8-byte header length)";
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
    if (offsets == value.end() || !offsets->is_array() ||
        offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned() ||
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

} // namespace hfq::checkpoint
