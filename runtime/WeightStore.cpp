//===- WeightStore.cpp - Checkpoint tensors, memory-mapped, at run time ---===//
//
// Opening a checkpoint directory (index or single files), mapping each shard
// read-only and checking its header on the mapped bytes; the tensor table;
// the C entry points lowered code calls for each `hfq.weight`, and the C API
// of hfq_runtime.h. docs/runtime.md has the policy.
//
//===----------------------------------------------------------------------===//

#include "runtime/WeightStore.h"
#include "runtime/hfq_runtime.h"

#include "checkpoint/Safetensors.h"
#include "kernels/abi/Abi.h"
#include "spec/Input.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hfq::runtime {

using spec::quoteLimited;

/// One shard, mapped read-only for the store's lifetime.
struct WeightStore::Mapping {
  void *base = MAP_FAILED;
  size_t length = 0;
  ~Mapping() {
    if (base != MAP_FAILED)
      ::munmap(base, length);
  }
};

/// A misaligned tensor's owned copy (64-byte aligned).
struct WeightStore::AlignedCopy {
  void *data = nullptr;
  ~AlignedCopy() { std::free(data); }
};

namespace {

/// Alignment of every owned copy: a cache line, enough for any vector load.
constexpr uint64_t kCopyAlignment = 64;

std::atomic<const WeightStore *> installedStore{nullptr};

/// A shard opened for mapping; the descriptor closes with it.
struct OpenShard {
  std::string path;
  int fd = -1;
  uint64_t size = 0;
  OpenShard() = default;
  OpenShard(const OpenShard &) = delete;
  OpenShard &operator=(const OpenShard &) = delete;
  ~OpenShard() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Opens `path` read-only without blocking (a FIFO must not wait for a
/// writer) and checks that it is a regular file. `error` is the problem,
/// without the path.
bool openShard(const std::string &path, OpenShard &shard, std::string &error) {
  shard.path = path;
  shard.fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (shard.fd < 0 || ::fstat(shard.fd, &st) != 0) {
    error = std::string("cannot be opened: ") + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "is not a regular file";
    return false;
  }
  shard.size = static_cast<uint64_t>(st.st_size);
  return true;
}

/// The alignment a tensor's address needs for zero-copy use: its element
/// size (a byte for the sub-byte and byte formats).
uint64_t elementAlignment(const std::string &dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64" || dtype == "C64")
    return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32")
    return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16")
    return 2;
  return 1;
}

/// "BF16[4096, 4096]".
std::string typeText(const std::string &dtype, const int64_t *shape,
                     size_t rank) {
  std::string text = dtype + "[";
  for (size_t i = 0; i < rank; ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// What is wrong with `tensor` for a model that expects `dtype` and
/// `shape`: "is BF16[2, 3], the model expects F32[2, 3]", or "".
std::string mismatch(const WeightStore::Tensor &tensor,
                     const std::string &dtype, const int64_t *shape,
                     size_t rank) {
  if (tensor.dtype == dtype && tensor.shape.size() == rank &&
      std::equal(tensor.shape.begin(), tensor.shape.end(), shape))
    return "";
  return "is " +
         typeText(tensor.dtype, tensor.shape.data(), tensor.shape.size()) +
         ", the model expects " + typeText(dtype, shape, rank);
}

} // namespace

WeightStore::~WeightStore() {
  // A destroyed store is never left installed.
  const WeightStore *self = this;
  installedStore.compare_exchange_strong(self, nullptr);
}

bool WeightStore::mapShard(const std::string &path, int fd, uint64_t size,
                           std::string &error) {
  std::map<std::string, checkpoint::TensorInfo> found;
  if (size < 8) {
    // Too short to map usefully; the header parser says what is wrong.
    char none[8] = {};
    return checkpoint::parseSafetensorsHeader(path, none, 0, size, found,
                                              error);
  }
  if (size > SIZE_MAX) {
    error = path + ": " + std::to_string(size) +
            " bytes do not fit this machine's address space";
    return false;
  }
  auto mapping = std::make_unique<Mapping>();
  mapping->base =
      ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (mapping->base == MAP_FAILED) {
    error = path + ": cannot map: " + std::strerror(errno);
    return false;
  }
  mapping->length = static_cast<size_t>(size);
  const char *bytes = static_cast<const char *>(mapping->base);
  // The whole file is mapped, so the header is checked in place: offsets
  // against the file's size, every tensor's byte count against its shape.
  if (!checkpoint::parseSafetensorsHeader(path, bytes, size, size, found,
                                          error))
    return false;
  mappings.push_back(std::move(mapping));
  mapped += size;

  tensors.reserve(tensors.size() + found.size());
  for (auto &[name, info] : found) {
    auto existing = tensors.find(name);
    if (existing != tensors.end()) {
      error = "tensor '" + quoteLimited(name) + "' is in both " +
              existing->second.file + " and " + path;
      return false;
    }
    Tensor tensor;
    tensor.dtype = std::move(info.dtype);
    tensor.shape = std::move(info.shape);
    tensor.bytes = info.end - info.begin;
    tensor.file = path;
    const char *at = bytes + info.begin;
    tensor.data = at;
    // Zero-copy unless the address is misaligned for the element type; an
    // empty tensor is never read, so it always stays in place.
    if (tensor.bytes > 0 &&
        reinterpret_cast<uintptr_t>(at) % elementAlignment(tensor.dtype) != 0) {
      // tensor.bytes <= size <= SIZE_MAX: the rounding cannot overflow
      // unless size is within 64 bytes of SIZE_MAX.
      if (tensor.bytes > SIZE_MAX - kCopyAlignment) {
        error =
            path + ": tensor '" + quoteLimited(name) + "' is too large to copy";
        return false;
      }
      size_t rounded = static_cast<size_t>((tensor.bytes + kCopyAlignment - 1) /
                                           kCopyAlignment * kCopyAlignment);
      auto copy = std::make_unique<AlignedCopy>();
      copy->data = std::aligned_alloc(kCopyAlignment, rounded);
      if (!copy->data) {
        error = path + ": tensor '" + quoteLimited(name) +
                "' is misaligned, and its aligned copy of " +
                std::to_string(tensor.bytes) + " bytes cannot be allocated";
        return false;
      }
      std::memcpy(copy->data, at, static_cast<size_t>(tensor.bytes));
      tensor.data = copy->data;
      copied += tensor.bytes;
      copies.push_back(std::move(copy));
    }
    names.push_back(name);
    tensors.emplace(names.back(), std::move(tensor));
  }
  return true;
}

std::unique_ptr<WeightStore> WeightStore::open(const std::string &dir,
                                               std::string &error,
                                               Progress progress) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    error = dir + ": not a checkpoint directory";
    return nullptr;
  }
  std::unique_ptr<WeightStore> store(new WeightStore());
  store->dir = dir;

  // The shards, in name order, and for an index which shard it says each
  // tensor is in.
  std::vector<std::string> shardPaths;
  std::vector<std::pair<std::string, std::string>> assigned;
  std::string indexPath =
      (fs::path(dir) / "model.safetensors.index.json").string();
  if (fs::exists(indexPath, ec)) {
    std::string text, readError;
    if (!spec::readInputFile(indexPath, "safetensors index", text, readError)) {
      error = indexPath + ": " + readError;
      return nullptr;
    }
    std::map<std::string, checkpoint::TensorInfo> listed;
    std::vector<std::string> shardNames;
    if (!checkpoint::parseSafetensorsIndex(indexPath, text, listed, shardNames,
                                           error))
      return nullptr;
    // parseSafetensorsIndex checked the weight_map (names, shard file names
    // beside the index, limits); read which shard each tensor is in.
    spec::Json index;
    spec::JsonParseError parseError;
    if (!spec::parseJsonText(text, index, parseError)) {
      error = indexPath + ": " + parseError.message;
      return nullptr;
    }
    for (const auto &entry : index.find("weight_map")->items())
      assigned.emplace_back(
          entry.key(),
          (fs::path(dir) / entry.value().get<std::string>()).string());
    for (const std::string &shard : shardNames)
      shardPaths.push_back((fs::path(dir) / shard).string());
  } else {
    if (!checkpoint::listSafetensorsFiles(dir, shardPaths, error))
      return nullptr;
  }

  // Every shard is opened before any is mapped, so progress knows the total.
  std::vector<std::unique_ptr<OpenShard>> shards;
  uint64_t total = 0;
  for (const std::string &path : shardPaths) {
    auto shard = std::make_unique<OpenShard>();
    std::string why;
    if (!openShard(path, *shard, why)) {
      auto of = std::find_if(assigned.begin(), assigned.end(),
                             [&](const auto &a) { return a.second == path; });
      error = of == assigned.end()
                  ? path + ": " + why
                  : indexPath + ": tensor '" + quoteLimited(of->first) +
                        "' is in shard " + path + ", which " + why;
      return nullptr;
    }
    if (__builtin_add_overflow(total, shard->size, &total)) {
      error = dir + ": the shards' sizes overflow 64 bits";
      return nullptr;
    }
    shards.push_back(std::move(shard));
  }
  uint64_t done = 0;
  for (const auto &shard : shards) {
    if (!store->mapShard(shard->path, shard->fd, shard->size, error))
      return nullptr;
    done += shard->size;
    if (progress)
      progress(done, total, shard->path);
  }

  for (const auto &[name, path] : assigned) {
    const Tensor *tensor = store->find(name);
    if (!tensor || tensor->file != path) {
      error = indexPath + ": tensor '" + quoteLimited(name) +
              "' is not in its shard " + path +
              (tensor ? " (it is in " + tensor->file + ")" : std::string());
      return nullptr;
    }
  }
  if (!store->addBitsandbytesOffsets(error))
    return nullptr;
  return store;
}

bool WeightStore::addBitsandbytesOffsets(std::string &error) {
  static const std::string kBlob = ".quant_state.bitsandbytes__";
  std::vector<std::pair<std::string, float>> offsets;
  for (const auto &[name, tensor] : tensors) {
    size_t at = name.rfind(kBlob);
    if (at == std::string_view::npos || tensor.dtype != "U8")
      continue;
    std::string text(static_cast<const char *>(tensor.data),
                     static_cast<size_t>(tensor.bytes));
    spec::Json state;
    spec::JsonParseError parseError;
    if (!spec::parseJsonText(text, state, parseError)) {
      error = tensor.file + ": tensor '" + quoteLimited(std::string(name)) +
              "' is not bitsandbytes' quant_state JSON: " + parseError.message;
      return false;
    }
    auto offset = state.is_object() ? state.find("nested_offset") : state.end();
    if (state.is_object() && offset != state.end() && offset->is_number())
      offsets.emplace_back(std::string(name.substr(0, at)) + ".nested_offset",
                           offset->get<float>());
  }
  for (const auto &[name, value] : offsets) {
    if (tensors.count(name))
      continue;  // the checkpoint has it as a tensor already
    auto copy = std::make_unique<AlignedCopy>();
    copy->data = std::aligned_alloc(kCopyAlignment, kCopyAlignment);
    if (!copy->data) {
      error = "cannot allocate the derived tensor '" + name + "'";
      return false;
    }
    std::memcpy(copy->data, &value, sizeof value);
    Tensor tensor{"F32", {}, copy->data, sizeof value, "(derived from the quant_state)"};
    copies.push_back(std::move(copy));
    names.push_back(name);
    tensors.emplace(names.back(), std::move(tensor));
  }
  return true;
}

const WeightStore::Tensor *WeightStore::find(std::string_view name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

bool WeightStore::validate(std::string_view name, const std::string &dtype,
                           const std::vector<int64_t> &shape,
                           std::string &error) const {
  const Tensor *tensor = find(name);
  if (!tensor) {
    error = "tensor '" + quoteLimited(std::string(name)) +
            "' is not in the checkpoint (" + dir + ")";
    return false;
  }
  std::string what = mismatch(*tensor, dtype, shape.data(), shape.size());
  if (what.empty())
    return true;
  error = tensor->file + ": tensor '" + quoteLimited(std::string(name)) + "' " +
          what;
  return false;
}

void installWeightStore(const WeightStore *store) {
  installedStore.store(store, std::memory_order_release);
}

const WeightStore *installedWeightStore() {
  return installedStore.load(std::memory_order_acquire);
}

namespace {

/// The entries of a rank-1 memref, honouring its offset and stride.
template <typename T>
std::vector<T> memrefElements(const StridedMemRefType<T, 1> *ref) {
  std::vector<T> out;
  if (!ref || !ref->data || ref->sizes[0] <= 0)
    return out;
  out.reserve(static_cast<size_t>(ref->sizes[0]));
  for (int64_t i = 0; i < ref->sizes[0]; ++i)
    out.push_back(ref->data[ref->offset + i * ref->strides[0]]);
  return out;
}

/// The one way an entry point fails: it cannot return a status, so the
/// message becomes the kernel ABI's last error and the process exits
/// through hfq_kernel_fail, as a failing kernel does.
[[noreturn]] void failWeight(const std::string &name, const std::string &what) {
  kernels::failKernel("hfq", "weight '" + quoteLimited(name) + "': " + what);
  hfq_kernel_fail(1);
  std::_Exit(1); // hfq_kernel_fail exits; it is not declared noreturn.
}

/// Every entry point: fills `result` with the installed store's tensor
/// `nameRef` after checking it is `dtype` (safetensors' spelling) with the
/// shape the model passes.
template <typename E, int Rank>
void returnWeight(const char *dtype, StridedMemRefType<E, Rank> *result,
                  const StridedMemRefType<int8_t, 1> *nameRef,
                  const StridedMemRefType<int64_t, 1> *shapeRef) {
  std::vector<int8_t> nameBytes = memrefElements(nameRef);
  std::string name(nameBytes.begin(), nameBytes.end());
  const WeightStore *store = installedWeightStore();
  if (!store)
    failWeight(name, "no weight store is installed (hfq_weights_install)");
  std::vector<int64_t> shape = memrefElements(shapeRef);
  if (shape.size() != static_cast<size_t>(Rank))
    failWeight(name, "the model passes a shape of rank " +
                         std::to_string(shape.size()) + " for a rank-" +
                         std::to_string(Rank) + " result");
  const WeightStore::Tensor *tensor = store->find(name);
  if (!tensor)
    failWeight(name, "is not in the checkpoint (" + store->directory() + ")");
  std::string what = mismatch(*tensor, dtype, shape.data(), Rank);
  if (!what.empty())
    failWeight(name, what + " (" + tensor->file + ")");
  E *data = static_cast<E *>(const_cast<void *>(tensor->data));
  result->basePtr = data;
  result->data = data;
  result->offset = 0;
  if constexpr (Rank > 0) {
    // Row-major strides; the element count fits int64 (the header parser
    // checks it), but a zero dimension lets the others' product overflow.
    int64_t stride = 1;
    for (int d = Rank - 1; d >= 0; --d) {
      result->sizes[d] = shape[d];
      result->strides[d] = stride;
      if (d > 0 && __builtin_mul_overflow(stride, shape[d], &stride))
        failWeight(name, "has a shape whose strides overflow int64");
    }
  }
}

} // namespace

} // namespace hfq::runtime

// The 50 entry points: one per element type and rank 0..4, each a call of
// returnWeight.
#define HFQ_WEIGHT_DEFINE_RANK(dt, st, E, rank)                                \
  HFQ_WEIGHT_ENTRY(dt, rank, E) {                                              \
    hfq::runtime::returnWeight<E, rank>(st, result, name, shape);              \
  }
#define HFQ_WEIGHT_DEFINE(dt, st, E)                                           \
  HFQ_WEIGHT_DEFINE_RANK(dt, st, E, 0)                                         \
  HFQ_WEIGHT_DEFINE_RANK(dt, st, E, 1)                                         \
  HFQ_WEIGHT_DEFINE_RANK(dt, st, E, 2)                                         \
  HFQ_WEIGHT_DEFINE_RANK(dt, st, E, 3)                                         \
  HFQ_WEIGHT_DEFINE_RANK(dt, st, E, 4)
extern "C" {
HFQ_WEIGHT_DTYPES(HFQ_WEIGHT_DEFINE)
}

extern "C" void *hfq_weights_open(const char *dir, char *error,
                                  size_t errorSize) {
  std::string message;
  std::unique_ptr<hfq::runtime::WeightStore> store;
  // No exception may cross into a C caller.
  try {
    if (dir)
      store = hfq::runtime::WeightStore::open(dir, message);
    else
      message = "hfq_weights_open: no directory";
  } catch (const std::exception &e) {
    message = std::string("hfq_weights_open: ") + e.what();
  }
  if (store)
    return store.release();
  if (error && errorSize > 0) {
    size_t length = std::min(message.size(), errorSize - 1);
    std::memcpy(error, message.data(), length);
    error[length] = '\0';
  }
  return nullptr;
}

extern "C" void hfq_weights_install(void *store) {
  hfq::runtime::installWeightStore(
      static_cast<const hfq::runtime::WeightStore *>(store));
}

extern "C" void hfq_weights_close(void *store) {
  delete static_cast<hfq::runtime::WeightStore *>(store);
}
