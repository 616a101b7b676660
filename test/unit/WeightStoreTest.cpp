//===- WeightStoreTest.cpp - Unit tests of the run-time weight loader -----===//
//
// runtime/WeightStore.h and its C entry points over real safetensors files
// written byte for byte into a temporary directory: single files and
// indexed shards, zero-copy and copied tensors, validation messages,
// malformed and inconsistent checkpoints, the progress callback and the
// _mlir_ciface_hfq_weight_* entry points lowered code calls.
//
//===----------------------------------------------------------------------===//

#include "runtime/WeightStore.h"
#include "runtime/hfq_runtime.h"

#include "kernels/include/hfq_kernels.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

using hfq::runtime::WeightStore;
namespace fs = std::filesystem;

namespace {

/// One tensor to write: its header entry and its raw bytes.
struct TensorBytes {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

/// Bytes 0, 1, 2, ... (mod 251) from `seed`: distinct content per tensor.
std::vector<uint8_t> pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<uint8_t>((seed + i) % 251);
  return bytes;
}

/// A safetensors file: the 8-byte little-endian header length, the JSON
/// header (padded with spaces so the data starts 8-byte aligned, as
/// safetensors writes it), then the tensors' data in the order given.
std::string safetensorsFile(const std::vector<TensorBytes> &tensors) {
  std::string header = "{";
  uint64_t at = 0;
  std::string data;
  for (const TensorBytes &t : tensors) {
    if (header.size() > 1)
      header += ",";
    header += "\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i)
      header += (i ? "," : "") + std::to_string(t.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(at) + "," +
              std::to_string(at + t.data.size()) + "]}";
    at += t.data.size();
    data.append(t.data.begin(), t.data.end());
  }
  header += "}";
  while ((8 + header.size()) % 8 != 0)
    header += ' ';
  std::string file;
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i)
    file += static_cast<char>((length >> (8 * i)) & 0xff);
  return file + header + data;
}

/// The file offset `p` maps to if it lies in a mapping of `path` (from
/// /proc/self/maps), or -1.
int64_t mappedFileOffset(const void *p, const std::string &path) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  auto address = reinterpret_cast<uintptr_t>(p);
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, device, inode, file;
    in >> range >> perms >> offset >> device >> inode;
    std::getline(in >> std::ws, file);
    uintptr_t start =
        std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    uintptr_t end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    if (file == path && start <= address && address < end)
      return static_cast<int64_t>(std::stoull(offset, nullptr, 16) +
                                  (address - start));
  }
  return -1;
}

/// A fresh temporary checkpoint directory per test.
class WeightStoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string name =
        (fs::temp_directory_path() / "hfq-weightstore-XXXXXX").string();
    ASSERT_NE(::mkdtemp(name.data()), nullptr);
    dir = fs::canonical(name).string();
  }
  void TearDown() override {
    hfq::runtime::installWeightStore(nullptr);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  std::string path(const std::string &name) const { return dir + "/" + name; }

  std::string write(const std::string &name, const std::string &bytes) const {
    std::ofstream out(path(name), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path(name);
  }

  std::unique_ptr<WeightStore> open(std::string &error) const {
    return WeightStore::open(dir, error);
  }

  /// open() that is expected to succeed.
  std::unique_ptr<WeightStore> openChecked() const {
    std::string error;
    std::unique_ptr<WeightStore> store = open(error);
    EXPECT_TRUE(store) << error;
    return store;
  }

  /// model.safetensors with "w" BF16[2, 3] and "b" F32[3].
  std::string writeSingleFile() const {
    return write("model.safetensors",
                 safetensorsFile({{"w", "BF16", {2, 3}, pattern(12, 1)},
                                  {"b", "F32", {3}, pattern(12, 50)}}));
  }

  /// Two shards and their index; "c" lies in the second.
  void writeTwoShards(const std::string &weightMapOfC = "s2.safetensors") {
    write("s1.safetensors",
          safetensorsFile({{"a", "I32", {4}, pattern(16, 3)},
                           {"b", "F16", {2, 2}, pattern(8, 7)}}));
    write("s2.safetensors", safetensorsFile({{"c", "I8", {5}, pattern(5, 9)}}));
    write("model.safetensors.index.json",
          "{\"metadata\": {\"total_size\": 29}, \"weight_map\": {"
          "\"a\": \"s1.safetensors\", \"b\": \"s1.safetensors\", "
          "\"c\": \"" +
              weightMapOfC + "\"}}");
  }

  std::string dir;
};

TEST_F(WeightStoreTest, SingleFile) {
  std::string file = writeSingleFile();
  auto store = openChecked();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->tensorCount(), 2u);
  EXPECT_EQ(store->mappedBytes(), fs::file_size(file));
  EXPECT_EQ(store->directory(), dir);
  const WeightStore::Tensor *w = store->find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, "BF16");
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->bytes, 12u);
  EXPECT_EQ(w->file, file);
  EXPECT_EQ(std::memcmp(w->data, pattern(12, 1).data(), 12), 0);
  const WeightStore::Tensor *b = store->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(std::memcmp(b->data, pattern(12, 50).data(), 12), 0);
  EXPECT_EQ(store->find("nope"), nullptr);
  EXPECT_EQ(store->find("w "), nullptr);
}

TEST_F(WeightStoreTest, IndexWithTwoShards) {
  writeTwoShards();
  // A file the index does not name is not read.
  write("stray.safetensors", "not a safetensors file");
  auto store = openChecked();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->tensorCount(), 3u);
  EXPECT_EQ(store->mappedBytes(), fs::file_size(path("s1.safetensors")) +
                                      fs::file_size(path("s2.safetensors")));
  const WeightStore::Tensor *c = store->find("c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->file, path("s2.safetensors"));
  EXPECT_EQ(c->dtype, "I8");
  EXPECT_EQ(std::memcmp(c->data, pattern(5, 9).data(), 5), 0);
  const WeightStore::Tensor *b = store->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->file, path("s1.safetensors"));
  EXPECT_EQ(std::memcmp(b->data, pattern(8, 7).data(), 8), 0);
}

TEST_F(WeightStoreTest, AlignedTensorsPointIntoTheMapping) {
  std::string file = writeSingleFile();
  auto store = openChecked();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->copiedBytes(), 0u);
  // The header (padded to 8) is followed by w at data offset 0, b at 12.
  uint64_t headerLength = 0;
  std::ifstream in(file, std::ios::binary);
  unsigned char prefix[8];
  in.read(reinterpret_cast<char *>(prefix), 8);
  for (int i = 7; i >= 0; --i)
    headerLength = (headerLength << 8) | prefix[i];
  int64_t dataStart = static_cast<int64_t>(8 + headerLength);
  EXPECT_EQ(mappedFileOffset(store->find("w")->data, file), dataStart);
  EXPECT_EQ(mappedFileOffset(store->find("b")->data, file), dataStart + 12);
}

TEST_F(WeightStoreTest, MisalignedTensorIsCopiedOnce) {
  // "b" (F32) starts one byte into the data section: misaligned by 1.
  std::string file =
      write("model.safetensors",
            safetensorsFile({{"a", "U8", {1}, pattern(1, 4)},
                             {"b", "F32", {2, 1}, pattern(8, 20)}}));
  auto store = openChecked();
  ASSERT_TRUE(store);
  const WeightStore::Tensor *b = store->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b->data) % 64, 0u);
  EXPECT_EQ(mappedFileOffset(b->data, file), -1);
  EXPECT_EQ(std::memcmp(b->data, pattern(8, 20).data(), 8), 0);
  EXPECT_EQ(store->copiedBytes(), 8u);
  // "a" is bytes: any address is aligned for it, so it stays in place.
  EXPECT_NE(mappedFileOffset(store->find("a")->data, file), -1);
  // The copy is made once, at open: every lookup returns it.
  EXPECT_EQ(store->find("b")->data, b->data);
}

TEST_F(WeightStoreTest, ValidateNamesWhatIsWrong) {
  std::string file = writeSingleFile();
  auto store = openChecked();
  ASSERT_TRUE(store);
  std::string error;
  EXPECT_TRUE(store->validate("w", "BF16", {2, 3}, error)) << error;
  EXPECT_FALSE(store->validate("w", "F32", {2, 3}, error));
  EXPECT_EQ(error, file + ": tensor 'w' is BF16[2, 3], the model expects "
                          "F32[2, 3]");
  EXPECT_FALSE(store->validate("w", "BF16", {3, 2}, error));
  EXPECT_EQ(error, file + ": tensor 'w' is BF16[2, 3], the model expects "
                          "BF16[3, 2]");
  EXPECT_FALSE(store->validate("w", "BF16", {2, 3, 1}, error));
  EXPECT_EQ(error, file + ": tensor 'w' is BF16[2, 3], the model expects "
                          "BF16[2, 3, 1]");
  EXPECT_FALSE(store->validate("model.x", "F32", {3}, error));
  EXPECT_EQ(error, "tensor 'model.x' is not in the checkpoint (" + dir + ")");
}

TEST_F(WeightStoreTest, DuplicateAcrossShardsNamesBothFiles) {
  write("a.safetensors", safetensorsFile({{"x", "I8", {2}, pattern(2, 1)}}));
  write("b.safetensors", safetensorsFile({{"x", "I8", {2}, pattern(2, 1)}}));
  std::string error;
  EXPECT_FALSE(open(error));
  EXPECT_EQ(error, "tensor 'x' is in both " + path("a.safetensors") + " and " +
                       path("b.safetensors"));
}

TEST_F(WeightStoreTest, IndexNamingAMissingShard) {
  writeTwoShards("s3.safetensors");
  std::string error;
  EXPECT_FALSE(open(error));
  EXPECT_EQ(error, path("model.safetensors.index.json") +
                       ": tensor 'c' is in shard " + path("s3.safetensors") +
                       ", which cannot be opened: No such file or directory");
}

TEST_F(WeightStoreTest, IndexNamingTheWrongShard) {
  writeTwoShards();
  write("model.safetensors.index.json",
        "{\"weight_map\": {\"a\": \"s1.safetensors\", \"b\": "
        "\"s2.safetensors\", \"c\": \"s2.safetensors\"}}");
  std::string error;
  EXPECT_FALSE(open(error));
  EXPECT_EQ(error, path("model.safetensors.index.json") +
                       ": tensor 'b' is not in its shard " +
                       path("s2.safetensors") + " (it is in " +
                       path("s1.safetensors") + ")");
}

TEST_F(WeightStoreTest, IndexNamingATensorNoShardHas) {
  writeTwoShards();
  write("model.safetensors.index.json",
        "{\"weight_map\": {\"a\": \"s1.safetensors\", \"b\": "
        "\"s1.safetensors\", \"c\": \"s2.safetensors\", \"d\": "
        "\"s2.safetensors\"}}");
  std::string error;
  EXPECT_FALSE(open(error));
  EXPECT_EQ(error, path("model.safetensors.index.json") +
                       ": tensor 'd' is not in its shard " +
                       path("s2.safetensors"));
}

TEST_F(WeightStoreTest, TruncatedFiles) {
  std::string whole = safetensorsFile({{"w", "F32", {4}, pattern(16, 1)}});
  std::string error;
  // Cut inside the length prefix, inside the header, inside the data.
  std::string file = write("model.safetensors", whole.substr(0, 5));
  EXPECT_FALSE(open(error));
  EXPECT_EQ(error, file + ": not a safetensors file (shorter than its 8-byte "
                          "header length)");
  write("model.safetensors", whole.substr(0, 20));
  EXPECT_FALSE(open(error));
  EXPECT_EQ(error.rfind(file + ": truncated safetensors header", 0), 0u)
      << error;
  write("model.safetensors", whole.substr(0, whole.size() - 4));
  EXPECT_FALSE(open(error));
  EXPECT_EQ(error, file + ": tensor 'w' [0, 16] lies past the end of the file "
                          "(12 bytes of data after the header)");
}

TEST_F(WeightStoreTest, HeaderWithOffsetsBeyondTheFile) {
  // The header claims 400 bytes of F32[100]; the file holds 8.
  std::string file = safetensorsFile({{"w", "F32", {100}, pattern(400, 1)}});
  file.resize(file.size() - 392);
  std::string path = write("model.safetensors", file);
  std::string error;
  EXPECT_FALSE(open(error));
  EXPECT_EQ(error, path + ": tensor 'w' [0, 400] lies past the end of the file "
                          "(8 bytes of data after the header)");
}

TEST_F(WeightStoreTest, EmptyOrMissingDirectory) {
  std::string error;
  EXPECT_FALSE(open(error));
  EXPECT_EQ(error,
            dir +
                ": no model.safetensors.index.json and no *.safetensors file");
  EXPECT_FALSE(WeightStore::open(dir + "/absent", error));
  EXPECT_EQ(error, dir + "/absent: not a checkpoint directory");
}

TEST_F(WeightStoreTest, ProgressReportsTheTotal) {
  writeTwoShards();
  uint64_t total = fs::file_size(path("s1.safetensors")) +
                   fs::file_size(path("s2.safetensors"));
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> calls;
  std::string error;
  auto store = WeightStore::open(
      dir, error, [&](uint64_t done, uint64_t all, const std::string &file) {
        calls.emplace_back(done, all, file);
      });
  ASSERT_TRUE(store) << error;
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], std::make_tuple(fs::file_size(path("s1.safetensors")),
                                      total, path("s1.safetensors")));
  EXPECT_EQ(calls[1], std::make_tuple(total, total, path("s2.safetensors")));
}

/// What lowered code passes for a name: the bytes, not NUL-terminated.
StridedMemRefType<int8_t, 1> nameRef(std::string &name) {
  auto *bytes = reinterpret_cast<int8_t *>(name.data());
  return {bytes, bytes, 0, {static_cast<int64_t>(name.size())}, {1}};
}

StridedMemRefType<int64_t, 1> shapeRef(std::vector<int64_t> &shape) {
  return {
      shape.data(), shape.data(), 0, {static_cast<int64_t>(shape.size())}, {1}};
}

TEST_F(WeightStoreTest, EntryPointReturnsTheTensor) {
  writeSingleFile();
  auto store = openChecked();
  ASSERT_TRUE(store);
  hfq::runtime::installWeightStore(store.get());
  // The name sits inside a longer buffer: only its `size` bytes count.
  std::string buffer = "w.more";
  StridedMemRefType<int8_t, 1> name = nameRef(buffer);
  name.sizes[0] = 1;
  std::vector<int64_t> dims = {2, 3};
  StridedMemRefType<int64_t, 1> shape = shapeRef(dims);
  StridedMemRefType<uint16_t, 2> result;
  std::memset(&result, 0xab, sizeof(result));
  _mlir_ciface_hfq_weight_bf16_2(&result, &name, &shape);
  EXPECT_EQ(result.basePtr, store->find("w")->data);
  EXPECT_EQ(result.data, store->find("w")->data);
  EXPECT_EQ(result.offset, 0);
  EXPECT_EQ(result.sizes[0], 2);
  EXPECT_EQ(result.sizes[1], 3);
  EXPECT_EQ(result.strides[0], 3);
  EXPECT_EQ(result.strides[1], 1);
  // Element [1][2] is the last: bytes 10 and 11 of the pattern.
  std::vector<uint8_t> bytes = pattern(12, 1);
  EXPECT_EQ(result.data[1 * 3 + 2], uint16_t(bytes[10] | (bytes[11] << 8)));
}

TEST_F(WeightStoreTest, CApiOpensInstallsAndCloses) {
  writeSingleFile();
  char error[256];
  EXPECT_EQ(hfq_weights_open((dir + "/absent").c_str(), error, sizeof(error)),
            nullptr);
  EXPECT_EQ(std::string(error), dir + "/absent: not a checkpoint directory");
  // A short buffer gets the message cut and terminated.
  char shortError[4];
  EXPECT_EQ(hfq_weights_open("/nonexistent-hfq", shortError, 4), nullptr);
  EXPECT_EQ(std::string(shortError), "/no");
  void *store = hfq_weights_open(dir.c_str(), error, sizeof(error));
  ASSERT_NE(store, nullptr) << error;
  hfq_weights_install(store);
  EXPECT_EQ(hfq::runtime::installedWeightStore(), store);
  EXPECT_NE(hfq::runtime::installedWeightStore()->find("b"), nullptr);
  // Closing an installed store uninstalls it.
  hfq_weights_close(store);
  EXPECT_EQ(hfq::runtime::installedWeightStore(), nullptr);
  hfq_weights_close(nullptr);
}

// A checkpoint as large as the largest public ones, in tensors: every name is
// found, in hash-map time.
TEST_F(WeightStoreTest, ThreeHundredThousandTensors) {
  std::vector<TensorBytes> tensors;
  for (int i = 0; i < 300000; ++i)
    tensors.push_back({"model.layers." + std::to_string(i) + ".weight",
                       "I8",
                       {1},
                       {static_cast<uint8_t>(i)}});
  write("model.safetensors", safetensorsFile(tensors));
  auto store = openChecked();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->tensorCount(), 300000u);
  for (int i = 0; i < 300000; ++i) {
    const WeightStore::Tensor *tensor =
        store->find("model.layers." + std::to_string(i) + ".weight");
    ASSERT_NE(tensor, nullptr);
    ASSERT_EQ(*static_cast<const uint8_t *>(tensor->data),
              static_cast<uint8_t>(i));
  }
}

using WeightStoreDeathTest = WeightStoreTest;

// A failing entry point exits with status 1 and one line naming the weight
// (hfq_kernel_fail: no abort, no core dump).
TEST_F(WeightStoreDeathTest, EntryPointExitsWithTheWeightsName) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  writeSingleFile();
  auto store = openChecked();
  ASSERT_TRUE(store);
  std::string missing = "model.nope", w = "w";
  std::vector<int64_t> dims = {2, 3}, rank1 = {6};
  StridedMemRefType<int8_t, 1> missingName = nameRef(missing);
  StridedMemRefType<int8_t, 1> wName = nameRef(w);
  StridedMemRefType<int64_t, 1> shape = shapeRef(dims);
  StridedMemRefType<int64_t, 1> shape1 = shapeRef(rank1);
  StridedMemRefType<float, 2> f32;
  StridedMemRefType<uint16_t, 2> bf16;
  const auto exits1 = testing::ExitedWithCode(1);
  EXPECT_EXIT(_mlir_ciface_hfq_weight_bf16_2(&bf16, &wName, &shape), exits1,
              "hfq: weight 'w': no weight store is installed");
  hfq::runtime::installWeightStore(store.get());
  EXPECT_EXIT(_mlir_ciface_hfq_weight_bf16_2(&bf16, &missingName, &shape),
              exits1, "hfq: weight 'model.nope': is not in the checkpoint");
  EXPECT_EXIT(_mlir_ciface_hfq_weight_f32_2(&f32, &wName, &shape), exits1,
              "hfq: weight 'w': is BF16\\[2, 3\\], the model expects "
              "F32\\[2, 3\\]");
  EXPECT_EXIT(_mlir_ciface_hfq_weight_bf16_2(&bf16, &wName, &shape1), exits1,
              "hfq: weight 'w': the model passes a shape of rank 1 for a "
              "rank-2 result");
}

} // namespace

namespace {

std::vector<uint8_t> textBytes(const std::string &text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

} // namespace

// bitsandbytes keeps nested_offset in the quant_state blob: the store adds it
// as the F32 scalar the layout names, served by the rank-0 entry point.
TEST_F(WeightStoreTest, BitsandbytesNestedOffsetFromQuantState) {
  std::string state =
      "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"nested_offset\": 0.5}";
  write("model.safetensors",
        safetensorsFile(
            {{"m.weight", "U8", {4, 1}, pattern(4, 1)},
             {"m.weight.quant_state.bitsandbytes__nf4", "U8",
              {static_cast<int64_t>(state.size())}, textBytes(state)}}));
  auto store = openChecked();
  ASSERT_TRUE(store);
  std::string error;
  EXPECT_TRUE(store->validate("m.weight.nested_offset", "F32", {}, error))
      << error;
  const WeightStore::Tensor *offset = store->find("m.weight.nested_offset");
  ASSERT_NE(offset, nullptr);
  EXPECT_EQ(*static_cast<const float *>(offset->data), 0.5f);
  hfq::runtime::installWeightStore(store.get());
  std::string buffer = "m.weight.nested_offset";
  StridedMemRefType<int8_t, 1> name = nameRef(buffer);
  std::vector<int64_t> dims;
  StridedMemRefType<int64_t, 1> shape = shapeRef(dims);
  StridedMemRefType<float, 0> result;
  _mlir_ciface_hfq_weight_f32_0(&result, &name, &shape);
  EXPECT_EQ(*result.data, 0.5f);
  hfq::runtime::installWeightStore(nullptr);
}

TEST_F(WeightStoreTest, BitsandbytesQuantStateThatIsNotJson) {
  write("model.safetensors",
        safetensorsFile({{"m.weight.quant_state.bitsandbytes__fp4", "U8", {3},
                          textBytes("{x]")}}));
  std::string error;
  EXPECT_FALSE(open(error));
  EXPECT_NE(error.find("m.weight.quant_state.bitsandbytes__fp4' is not "
                       "bitsandbytes' quant_state JSON"),
            std::string::npos)
      << error;
}
