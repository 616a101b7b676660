//===- Generation.cpp - Prefill and greedy decode of a compiled model -----===//
//
// The logits buffer is allocated by the compiled code and freed here: with
// malloc for the CPU target, through the device runtime for a GPU target
// (runtime/hfq_device.h), where only ids and positions go in and the prompt's
// logits (prefill) or one argmax id (decode) come out.
//
//===----------------------------------------------------------------------===//

#include "runtime/Generation.h"

#include "kernels/abi/Tensor.h"
#include "kernels/include/hfq_kernels.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace hfq::runtime {

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

template <typename T>
using EntryFn = void (*)(StridedMemRefType<T, 2> *,
                         StridedMemRefType<int64_t, 1> *,
                         StridedMemRefType<int64_t, 1> *,
                         StridedMemRefType<T, 5> *);

/// A 1-D memref over `count` int64 at `data`.
StridedMemRefType<int64_t, 1> vectorRef(int64_t *data, int64_t count) {
  return {data, data, 0, {count}, {1}};
}

/// Where the compiled code's buffers live: host memory (the CPU target), or
/// a device runtime's (a GPU target), and the few moves between the two.
class Memory {
public:
  explicit Memory(const hfq_device_runtime *device) : device(device) {}
  ~Memory() {
    for (void *p : owned)
      release(p);
  }
  bool onDevice() const { return device; }

  /// A zero-filled buffer this object frees.
  void *alloc(size_t bytes, std::string &error) {
    void *p = device ? device->alloc(bytes) : std::calloc(bytes ? bytes : 1, 1);
    if (!p)
      error = device ? hfq_kernel_last_error()
                     : "out of host memory for the KV cache";
    else
      owned.push_back(p);
    return p;
  }
  void release(void *p) {
    if (device)
      device->release(p);
    else
      std::free(p);
  }
  /// `values` where the compiled code reads them: in place on the host,
  /// else copied into `deviceBuffer` (`values.size()` elements).
  bool place(std::vector<int64_t> &values, int64_t *deviceBuffer,
             int64_t *&out, std::string &error) {
    out = values.data();
    if (!device)
      return true;
    out = deviceBuffer;
    return ok(device->to_device(deviceBuffer, values.data(),
                                values.size() * sizeof(int64_t)),
              error);
  }
  bool toHost(void *dst, const void *src, size_t bytes, std::string &error) {
    if (!device) {
      std::memcpy(dst, src, bytes);
      return true;
    }
    return ok(device->to_host(dst, src, bytes), error);
  }
  static bool ok(int32_t status, std::string &error) {
    if (status != 0)
      error = hfq_kernel_last_error();
    return status == 0;
  }

  const hfq_device_runtime *device;

private:
  std::vector<void *> owned;
};

/// The generation loop for activation storage `T`; `convert` reads one
/// element as float.
template <typename T> class Generator {
public:
  Generator(const ModelShape &shape, const EntryPoints &entries,
            float (*convert)(T), int32_t deviceType)
      : shape(shape), entries(entries), convert(convert),
        deviceType(deviceType), memory(entries.device) {}

  ~Generator() {
    if (graphLogits)
      memory.release(graphLogits);
    if (memory.device)
      memory.device->graph_release();
  }

  bool run(const std::vector<int64_t> &prompt, int64_t maxNew,
           const std::vector<int64_t> &eos, GenerateResult &out,
           std::string &error) {
    auto prefill = reinterpret_cast<EntryFn<T>>(entries.prefill);
    decode = reinterpret_cast<EntryFn<T>>(entries.decode);
    if (!prefill || !decode) {
      error = "the compiled model lacks its prefill or decode entry";
      return false;
    }
    int64_t capacity = static_cast<int64_t>(prompt.size()) + maxNew;
    if (!setCache(capacity, error) ||
        !allocInputs(static_cast<int64_t>(prompt.size()), error))
      return false;
    Clock::time_point start = Clock::now();
    std::vector<std::vector<float>> rows;
    if (!prefillRows(prefill, prompt, rows, error))
      return false;
    out.prefillMs = msSince(start);
    int64_t next = argmax(rows.back());
    out.promptLogits = std::move(rows);
    start = Clock::now();
    int64_t position = static_cast<int64_t>(prompt.size());
    for (int64_t step = 0; step < maxNew; ++step) {
      out.generated.push_back(next);
      if (std::find(eos.begin(), eos.end(), next) != eos.end() ||
          step + 1 == maxNew)
        break;
      if (!decodeStep(next, position++, step, next, out, error))
        return false;
    }
    out.decodeMs = msSince(start);
    return true;
  }

private:
  bool setCache(int64_t capacity, std::string &error) {
    int64_t sizes[5] = {shape.layers, 2, capacity, shape.kvHeads,
                        shape.headDim};
    int64_t stride = 1;
    for (int d = 4; d >= 0; --d) {
      cacheRef.sizes[d] = sizes[d];
      cacheRef.strides[d] = stride;
      stride *= sizes[d];
    }
    void *data = memory.alloc(static_cast<size_t>(stride) * sizeof(T), error);
    cacheRef.basePtr = cacheRef.data = static_cast<T *>(data);
    cacheRef.offset = 0;
    return data;
  }

  /// Device buffers for the prompt's ids and positions (the decode step
  /// reuses their first element, so a captured step reads fixed addresses).
  bool allocInputs(int64_t count, std::string &error) {
    if (!memory.onDevice())
      return true;
    size_t bytes = static_cast<size_t>(count) * sizeof(int64_t);
    deviceIds = static_cast<int64_t *>(memory.alloc(bytes, error));
    devicePositions = static_cast<int64_t *>(memory.alloc(bytes, error));
    return deviceIds && devicePositions;
  }

  /// Puts `ids` and their positions start, start + 1, ... where the
  /// compiled code reads them (idsRef, positionsRef).
  bool placeInputs(std::vector<int64_t> &ids, int64_t start,
                   std::string &error) {
    positions.resize(ids.size());
    for (size_t t = 0; t < ids.size(); ++t)
      positions[t] = start + static_cast<int64_t>(t);
    int64_t *idsData = nullptr, *positionsData = nullptr;
    if (!memory.place(ids, deviceIds, idsData, error) ||
        !memory.place(positions, devicePositions, positionsData, error))
      return false;
    int64_t count = static_cast<int64_t>(ids.size());
    idsRef = vectorRef(idsData, count);
    positionsRef = vectorRef(positionsData, count);
    return true;
  }

  /// Calls `fn` on `ids` at positions start, start + 1, ...
  bool call(EntryFn<T> fn, std::vector<int64_t> &ids, int64_t start,
            StridedMemRefType<T, 2> &logits, std::string &error) {
    if (!placeInputs(ids, start, error))
      return false;
    logits = {};
    fn(&logits, &idsRef, &positionsRef, &cacheRef);
    return true;
  }

  /// The prefill: the logits of every prompt position, on the host.
  bool prefillRows(EntryFn<T> fn, const std::vector<int64_t> &prompt,
                   std::vector<std::vector<float>> &rows, std::string &error) {
    std::vector<int64_t> ids = prompt;
    StridedMemRefType<T, 2> logits{};
    if (!call(fn, ids, 0, logits, error))
      return false;
    // The compiled code returns its logits row-major and contiguous.
    const int64_t vocab = logits.sizes[1];
    const int64_t first = entries.allPromptLogits ? 0 : logits.sizes[0] - 1;
    const int64_t count = (logits.sizes[0] - first) * vocab;
    std::vector<T> host(static_cast<size_t>(count));
    bool ok = memory.toHost(host.data(),
                            logits.data + logits.offset + first * vocab,
                            host.size() * sizeof(T), error);
    memory.release(logits.basePtr);
    if (!ok)
      return false;
    rows.assign(static_cast<size_t>(logits.sizes[0] - first),
                std::vector<float>(static_cast<size_t>(vocab)));
    for (size_t t = 0; t < rows.size(); ++t)
      for (int64_t v = 0; v < vocab; ++v)
        rows[t][v] = convert(host[t * vocab + v]);
    return true;
  }

  /// One greedy step: `id` at `position`; `next` the argmax of its logits.
  /// On a device the first step runs as is (it warms every cache up), the
  /// second is captured into a graph, and each later one replays it.
  bool decodeStep(int64_t id, int64_t position, int64_t step, int64_t &next,
                  GenerateResult &out, std::string &error) {
    std::vector<int64_t> ids{id};
    if (!memory.onDevice() || !entries.graphs || step == 0 ||
        (!graphLogits && !memory.device->capturable()))
      return eagerStep(ids, position, next, error);
    const hfq_device_runtime *device = memory.device;
    // The inputs are copied outside the capture: the graph reads them from
    // the same device buffers at every replay.
    if (!placeInputs(ids, position, error))
      return false;
    if (!graphLogits) {
      StridedMemRefType<T, 2> logits{};
      if (!Memory::ok(device->capture_begin(), error))
        return false;
      decode(&logits, &idsRef, &positionsRef, &cacheRef);
      if (!Memory::ok(device->capture_end(), error))
        return false;
      graphLogits = logits.basePtr;
      graphRow = logits.data + logits.offset;
    }
    ++out.graphSteps;
    return Memory::ok(device->replay(), error) &&
           Memory::ok(device->argmax(graphRow, shape.vocab, deviceType, &next),
                      error);
  }

  bool eagerStep(std::vector<int64_t> &ids, int64_t position, int64_t &next,
                 std::string &error) {
    StridedMemRefType<T, 2> logits{};
    if (!call(decode, ids, position, logits, error))
      return false;
    const T *row = logits.data + logits.offset;
    bool ok = true;
    if (memory.onDevice()) {
      ok = Memory::ok(memory.device->argmax(row, logits.sizes[1], deviceType,
                                            &next),
                      error);
    } else {
      std::vector<float> values(static_cast<size_t>(logits.sizes[1]));
      for (int64_t v = 0; v < logits.sizes[1]; ++v)
        values[v] = convert(row[v * logits.strides[1]]);
      next = argmax(values);
    }
    memory.release(logits.basePtr);
    return ok;
  }

  /// torch.argmax: the first index of the maximum.
  static int64_t argmax(const std::vector<float> &row) {
    return std::max_element(row.begin(), row.end()) - row.begin();
  }

  const ModelShape &shape;
  const EntryPoints &entries;
  float (*convert)(T);
  int32_t deviceType;
  Memory memory;
  EntryFn<T> decode = nullptr;
  StridedMemRefType<T, 5> cacheRef{};
  StridedMemRefType<int64_t, 1> idsRef{}, positionsRef{};
  std::vector<int64_t> positions;
  int64_t *deviceIds = nullptr, *devicePositions = nullptr;
  void *graphLogits = nullptr;
  const T *graphRow = nullptr;
};

float fromF32(float v) { return v; }

} // namespace

bool generate(const ModelShape &shape, const EntryPoints &entries,
              const std::vector<int64_t> &prompt, int64_t maxNewTokens,
              const std::vector<int64_t> &eos, GenerateResult &out,
              std::string &error) {
  for (int64_t id : prompt)
    if (id < 0 || id >= shape.vocab) {
      error = "prompt id " + std::to_string(id) +
              " is outside the vocabulary [0, " + std::to_string(shape.vocab) +
              ")";
      return false;
    }
  if (prompt.empty()) {
    error = "the prompt is empty";
    return false;
  }
  if (shape.dtype == "float32")
    return Generator<float>(shape, entries, fromF32, HFQ_DEVICE_F32)
        .run(prompt, maxNewTokens, eos, out, error);
  if (shape.dtype != "float16" && shape.dtype != "bfloat16") {
    error = "activation dtype '" + shape.dtype + "' is not float32, float16 "
            "or bfloat16";
    return false;
  }
  float (*convert)(uint16_t) =
      shape.dtype == "float16" ? kernels::halfToFloat : kernels::bf16ToFloat;
  int32_t type = shape.dtype == "float16" ? HFQ_DEVICE_F16 : HFQ_DEVICE_BF16;
  return Generator<uint16_t>(shape, entries, convert, type)
      .run(prompt, maxNewTokens, eos, out, error);
}

} // namespace hfq::runtime
