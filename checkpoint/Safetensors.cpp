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
#include "spec/Input.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hfq::checkpoint {

using spec::Json;
using spec::limitNote;
using spec::quoteLimited;

namespace {

/// Closes a descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Opens `path` for reading without blocking (a FIFO must not wait for a
/// writer) and checks it is a regular file; `size` is its size.
bool openRegular(const std::string &path, Fd &file, std::uint64_t &size,
                 std::string &error) {
  file.fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (file.fd < 0 || ::fstat(file.fd, &st) != 0) {
    error = path + ": cannot open safetensors file" +
            (errno == ENOENT ? std::string()
                             : std::string(": ") + std::strerror(errno));
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = path + ": safetensors file must be a regular file";
    return false;
  }
  size = static_cast<std::uint64_t>(st.st_size);
  return true;
}

/// Reads exactly `size` bytes at `offset`.
bool readAt(int fd, char *out, std::uint64_t size, std::uint64_t offset) {
  while (size > 0) {
    ssize_t got = ::pread(
        fd, out,
        static_cast<std::size_t>(std::min<std::uint64_t>(size, 1u << 30)),
        static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return false;
    out += got;
    size -= static_cast<std::uint64_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

/// Bits per element of each safetensors dtype (safetensors' Dtype enum);
/// 0 for a name safetensors does not define.
unsigned dtypeBits(const std::string &dtype) {
  static const std::pair<const char *, unsigned> kBits[] = {
      {"BOOL", 8}, {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8},
      {"I8", 8},   {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
      {"U16", 16}, {"F16", 16},    {"BF16", 16},   {"I32", 32},    {"U32", 32},
      {"F32", 32}, {"C64", 64},    {"F64", 64},    {"I64", 64},    {"U64", 64}};
  for (const auto &[name, bits] : kBits)
    if (dtype == name)
      return bits;
  return 0;
}

std::string rangeText(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

/// One tensor of a header, checked on its own.
bool parseTensor(const std::string &where, const Json &value, TensorInfo &info,
                 std::string &error) {
  auto fail = [&](const std::string &message) {
    error = where + message;
    return false;
  };
  auto dtype = value.is_object() ? value.find("dtype") : value.end();
  auto shape = value.is_object() ? value.find("shape") : value.end();
  if (!value.is_object() || dtype == value.end() || !dtype->is_string() ||
      shape == value.end() || !shape->is_array())
    return fail("has no dtype or shape in the header");
  info.dtype = dtype->get<std::string>();
  unsigned bits = dtypeBits(info.dtype);
  if (bits == 0)
    return fail("has unknown dtype '" + quoteLimited(info.dtype) + "'");
  if (shape->size() > limits::kMaxTensorRank)
    return fail("has rank " + std::to_string(shape->size()) + " " +
                limitNote("kMaxTensorRank", limits::kMaxTensorRank));
  // The element count, overflow-checked: it must fit int64 (MLIR's and
  // the kernels' shapes).
  std::uint64_t elements = 1;
  bool overflow = false;
  for (const Json &dim : *shape) {
    if (!dim.is_number_integer() ||
        (dim.is_number_unsigned() &&
         dim.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) ||
        (!dim.is_number_unsigned() && dim.get<std::int64_t>() < 0))
      return fail("has a bad shape");
    std::uint64_t d = dim.get<std::uint64_t>();
    info.shape.push_back(static_cast<std::int64_t>(d));
    overflow = overflow || __builtin_mul_overflow(elements, d, &elements);
  }
  if (overflow || elements > static_cast<std::uint64_t>(INT64_MAX))
    return fail("has a shape whose element count overflows int64");
  info.shapeKnown = true;
  auto offsets = value.find("data_offsets");
  if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned() ||
      (*offsets)[0].get<std::uint64_t>() > (*offsets)[1].get<std::uint64_t>())
    return fail("has bad data_offsets");
  std::uint64_t begin = (*offsets)[0].get<std::uint64_t>();
  std::uint64_t end = (*offsets)[1].get<std::uint64_t>();
  // The size in 128 bits: 2^63 elements of 64 bits do not fit 64.
  unsigned __int128 totalBits = static_cast<unsigned __int128>(elements) * bits;
  if (totalBits % 8 != 0)
    return fail("is " + info.dtype + " with " + std::to_string(elements) +
                " elements, which is not a whole number of bytes");
  unsigned __int128 bytes = totalBits / 8;
  if (bytes != end - begin)
    return fail("has data_offsets " + rangeText(begin, end) + " (" +
                std::to_string(end - begin) + " bytes), but its " + info.dtype +
                " shape needs " +
                (bytes > UINT64_MAX
                     ? std::string("more than 2^64")
                     : std::to_string(static_cast<std::uint64_t>(bytes))) +
                " bytes");
  // Relative to the data section for now; the caller checks them against
  // the file and each other before making them absolute.
  info.begin = begin;
  info.end = end;
  return true;
}

} // namespace

bool parseSafetensorsHeader(const std::string &path, const char *data,
                            std::uint64_t size, std::uint64_t fileSize,
                            std::map<std::string, TensorInfo> &tensors,
                            std::string &error) {
  if (size < 8 || fileSize < 8) {
    error = path +
            ": not a safetensors file (shorter than its 8-byte header length)";
    return false;
  }
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | static_cast<unsigned char>(data[i]);
  if (length == 0 || length > limits::kMaxSafetensorsHeaderBytes) {
    error =
        path + ": not a safetensors file (header length " +
        std::to_string(length) +
        (length == 0 ? std::string()
                     : " " + limitNote("kMaxSafetensorsHeaderBytes",
                                       limits::kMaxSafetensorsHeaderBytes)) +
        ")";
    return false;
  }
  if (length > fileSize - 8 || length > size - 8) {
    error = path + ": truncated safetensors header (header length " +
            std::to_string(length) + ", file of " + std::to_string(fileSize) +
            " bytes)";
    return false;
  }
  std::uint64_t dataStart = 8 + length;
  std::uint64_t dataSize = fileSize - dataStart;
  Json parsed;
  spec::JsonParseError parseError;
  spec::JsonParseOptions options;
  options.rejectDuplicateKeys = true;
  if (!spec::parseJsonText(std::string(data + 8, length), parsed, parseError,
                           options)) {
    error = path + ": safetensors header: " +
            (parseError.pointer.empty() ? "" : parseError.pointer + ": ") +
            parseError.message;
    return false;
  }
  if (!parsed.is_object()) {
    error = path + ": safetensors header is not a JSON object";
    return false;
  }
  if (parsed.size() > limits::kMaxTensors + 1) {
    error = path + ": safetensors header lists " +
            std::to_string(parsed.size()) + " tensors " +
            limitNote("kMaxTensors", limits::kMaxTensors);
    return false;
  }
  // Everything is checked before `tensors` changes: a bad file adds nothing.
  std::vector<std::pair<std::string, TensorInfo>> found;
  found.reserve(parsed.size());
  for (const auto &entry : parsed.items()) {
    if (entry.key() == "__metadata__") {
      const Json &meta = entry.value();
      bool strings = meta.is_object();
      if (strings)
        for (const auto &item : meta.items())
          strings = strings && item.value().is_string();
      if (!strings) {
        error = path +
                ": safetensors __metadata__ must be an object of "
                "strings, got " +
                spec::pythonTypeName(meta) +
                (meta.is_object() ? " with a value that is not a string" : "");
        return false;
      }
      continue;
    }
    TensorInfo info;
    info.file = path;
    if (!parseTensor(path + ": tensor '" + quoteLimited(entry.key()) + "' ",
                     entry.value(), info, error))
      return false;
    found.emplace_back(entry.key(), std::move(info));
  }
  if (found.size() > limits::kMaxTensors) {
    error = path + ": safetensors header lists " +
            std::to_string(found.size()) + " tensors " +
            limitNote("kMaxTensors", limits::kMaxTensors);
    return false;
  }
  // As safetensors validates: in offset order, the tensors cover the data
  // section exactly, without gaps or overlaps.
  std::vector<const std::pair<std::string, TensorInfo> *> order;
  for (const auto &item : found)
    order.push_back(&item);
  std::sort(order.begin(), order.end(), [](const auto *a, const auto *b) {
    return std::make_pair(a->second.begin, a->second.end) <
           std::make_pair(b->second.begin, b->second.end);
  });
  std::uint64_t at = 0;
  const std::pair<std::string, TensorInfo> *previous = nullptr;
  for (const auto *item : order) {
    const TensorInfo &info = item->second;
    std::string name = "tensor '" + quoteLimited(item->first) + "' " +
                       rangeText(info.begin, info.end);
    if (info.end > dataSize) {
      error = path + ": " + name + " lies past the end of the file (" +
              std::to_string(dataSize) + " bytes of data after the header)";
      return false;
    }
    if (info.begin != at) {
      std::string other =
          previous ? "tensor '" + quoteLimited(previous->first) + "' " +
                         rangeText(previous->second.begin, previous->second.end)
                   : std::string("the start of the data section");
      error = path + ": " + name +
              (info.begin < at ? " overlaps " : " leaves a gap after ") +
              other + " (data_offsets must cover the data section in order)";
      return false;
    }
    at = info.end;
    previous = item;
  }
  if (at != dataSize) {
    error = path + ": " + std::to_string(dataSize - at) +
            " bytes after the last tensor's data (the data section is " +
            std::to_string(dataSize) + " bytes; data_offsets must cover it)";
    return false;
  }
  for (auto &[name, info] : found) {
    info.begin += dataStart;
    info.end += dataStart;
    tensors[name] = std::move(info);
  }
  return true;
}

bool readSafetensorsHeader(const std::string &path,
                           std::map<std::string, TensorInfo> &tensors,
                           std::string &error) {
  Fd file{-1};
  std::uint64_t fileSize = 0;
  if (!openRegular(path, file, fileSize, error))
    return false;
  char prefix[8];
  if (fileSize < 8 || !readAt(file.fd, prefix, 8, 0))
    return parseSafetensorsHeader(path, prefix, 0, fileSize, tensors, error);
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | static_cast<unsigned char>(prefix[i]);
  // The length is checked against the limit and the file before the
  // header is allocated.
  if (length == 0 || length > limits::kMaxSafetensorsHeaderBytes ||
      length > fileSize - 8)
    return parseSafetensorsHeader(path, prefix, 8, fileSize, tensors, error);
  std::string buffer(8 + length, '\0');
  if (!readAt(file.fd, buffer.data(), 8 + length, 0)) {
    error = path + ": truncated safetensors header";
    return false;
  }
  return parseSafetensorsHeader(path, buffer.data(), buffer.size(), fileSize,
                                tensors, error);
}

bool readTensorData(const TensorInfo &info, std::vector<char> &bytes,
                    std::string &error) {
  Fd file{-1};
  std::uint64_t fileSize = 0;
  if (!openRegular(info.file, file, fileSize, error))
    return false;
  // The header was checked against the file; check again against the file
  // as it is now, before allocating.
  if (info.begin > info.end || info.end > fileSize) {
    error = info.file + ": truncated tensor data";
    return false;
  }
  bytes.resize(info.end - info.begin);
  if (!readAt(file.fd, bytes.data(), bytes.size(), info.begin)) {
    error = info.file + ": truncated tensor data";
    return false;
  }
  return true;
}

bool parseSafetensorsIndex(const std::string &path, const std::string &text,
                           std::map<std::string, TensorInfo> &tensors,
                           std::vector<std::string> &shards,
                           std::string &error) {
  Json index;
  spec::JsonParseError parseError;
  if (!spec::parseJsonText(text, index, parseError)) {
    error = path + ": " +
            (parseError.pointer.empty() ? "" : parseError.pointer + ": ") +
            parseError.message;
    return false;
  }
  auto map = index.is_object() ? index.find("weight_map") : index.end();
  if (!index.is_object() || map == index.end() || !map->is_object()) {
    error = path + ": not a safetensors index (no \"weight_map\" object)";
    return false;
  }
  if (map->size() > limits::kMaxTensors) {
    error = path + ": /weight_map: " + std::to_string(map->size()) +
            " tensors " + limitNote("kMaxTensors", limits::kMaxTensors);
    return false;
  }
  std::set<std::string> names;
  std::map<std::string, TensorInfo> found;
  for (const auto &entry : map->items()) {
    std::string where = path + ": /weight_map/" +
                        quoteLimited(spec::escapePointerToken(entry.key())) +
                        ": ";
    if (!entry.value().is_string()) {
      error = where + "expected a shard file name, got " +
              spec::pythonTypeName(entry.value());
      return false;
    }
    const std::string &shard = entry.value().get_ref<const std::string &>();
    // A shard lies beside the index: a relative path that does not climb.
    std::filesystem::path shardPath(shard);
    bool climbs = false;
    for (const auto &part : shardPath)
      climbs = climbs || part == "..";
    if (shard.empty() || shardPath.is_absolute() || climbs) {
      error = where + "shard '" + quoteLimited(shard) +
              "' is not a file name beside the index";
      return false;
    }
    found.emplace(entry.key(), TensorInfo());
    names.insert(shard);
  }
  for (auto &item : found)
    tensors.insert(std::move(item));
  shards.assign(names.begin(), names.end());
  return true;
}

bool readSafetensorsIndex(const std::string &path,
                          std::map<std::string, TensorInfo> &tensors,
                          std::string &error, bool requireShards) {
  std::string text;
  if (!spec::readInputFile(path, "safetensors index", text, error)) {
    error = path + ": " + error;
    return false;
  }
  std::vector<std::string> shards;
  if (!parseSafetensorsIndex(path, text, tensors, shards, error))
    return false;
  // Shapes from the shards that are here (a dry run usually has none).
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  for (const std::string &shard : shards) {
    std::filesystem::path file = dir / shard;
    std::error_code ec;
    bool present = std::filesystem::exists(file, ec);
    if (!present && requireShards) {
      error = path + ": names shard " + file.string() + ", which is missing";
      return false;
    }
    if (present && !readSafetensorsHeader(file.string(), tensors, error))
      return false;
  }
  return true;
}

bool listSafetensorsFiles(const std::string &dir,
                          std::vector<std::string> &files, std::string &error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const fs::directory_entry &entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".safetensors")
      files.push_back(entry.path().string());
  if (ec) {
    error = dir + ": cannot list the directory: " + ec.message();
    return false;
  }
  if (files.empty()) {
    error = dir + ": no model.safetensors.index.json and no *.safetensors file";
    return false;
  }
  std::sort(files.begin(), files.end());
  return true;
}

} // namespace hfq::checkpoint
