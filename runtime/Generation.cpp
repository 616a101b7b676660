//===- Generation.cpp - Prefill and greedy decode of a compiled model -----===//
//
// The logits buffer is allocated by the compiled code (malloc) and freed
// here.
//
//===----------------------------------------------------------------------===//

#include "runtime/Generation.h"

#include "kernels/abi/Tensor.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

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

/// A 1-D memref over `values`.
StridedMemRefType<int64_t, 1> vectorRef(std::vector<int64_t> &values) {
  return {values.data(), values.data(), 0,
          {static_cast<int64_t>(values.size())}, {1}};
}

/// The generation loop for activation storage `T`; `convert` reads one
/// element as float.
template <typename T> class Generator {
public:
  Generator(const ModelShape &shape, const EntryPoints &entries,
            float (*convert)(T))
      : shape(shape), entries(entries), convert(convert) {}

  bool run(const std::vector<int64_t> &prompt, int64_t maxNew,
           const std::vector<int64_t> &eos, GenerateResult &out,
           std::string &error) {
    auto prefill = reinterpret_cast<EntryFn<T>>(entries.prefill);
    auto decode = reinterpret_cast<EntryFn<T>>(entries.decode);
    if (!prefill || !decode) {
      error = "the compiled model lacks its prefill or decode entry";
      return false;
    }
    int64_t capacity = static_cast<int64_t>(prompt.size()) + maxNew;
    cache.assign(static_cast<size_t>(shape.layers * 2 * capacity *
                                     shape.kvHeads * shape.headDim),
                 T());
    setCache(capacity);
    Clock::time_point start = Clock::now();
    std::vector<std::vector<float>> rows = call(prefill, prompt, 0);
    out.prefillMs = msSince(start);
    out.promptLogits = rows;
    start = Clock::now();
    int64_t position = static_cast<int64_t>(prompt.size());
    for (int64_t step = 0; step < maxNew; ++step) {
      int64_t next = argmax(rows.back());
      out.generated.push_back(next);
      if (std::find(eos.begin(), eos.end(), next) != eos.end() ||
          step + 1 == maxNew)
        break;
      rows = call(decode, {next}, position++);
    }
    out.decodeMs = msSince(start);
    return true;
  }

private:
  void setCache(int64_t capacity) {
    int64_t sizes[5] = {shape.layers, 2, capacity, shape.kvHeads,
                        shape.headDim};
    cacheRef.basePtr = cacheRef.data = cache.data();
    cacheRef.offset = 0;
    int64_t stride = 1;
    for (int d = 4; d >= 0; --d) {
      cacheRef.sizes[d] = sizes[d];
      cacheRef.strides[d] = stride;
      stride *= sizes[d];
    }
  }

  /// One entry call: the logits of every position of `ids`.
  std::vector<std::vector<float>> call(EntryFn<T> fn,
                                       std::vector<int64_t> ids,
                                       int64_t start) {
    std::vector<int64_t> positions(ids.size());
    for (size_t t = 0; t < ids.size(); ++t)
      positions[t] = start + static_cast<int64_t>(t);
    StridedMemRefType<int64_t, 1> idsRef = vectorRef(ids);
    StridedMemRefType<int64_t, 1> positionsRef = vectorRef(positions);
    StridedMemRefType<T, 2> logits{};
    fn(&logits, &idsRef, &positionsRef, &cacheRef);
    std::vector<std::vector<float>> rows(logits.sizes[0]);
    for (int64_t t = 0; t < logits.sizes[0]; ++t) {
      rows[t].resize(logits.sizes[1]);
      for (int64_t v = 0; v < logits.sizes[1]; ++v)
        rows[t][v] = convert(logits.data[logits.offset + t * logits.strides[0] +
                                         v * logits.strides[1]]);
    }
    std::free(logits.basePtr);
    return rows;
  }

  /// torch.argmax: the first index of the maximum.
  static int64_t argmax(const std::vector<float> &row) {
    return std::max_element(row.begin(), row.end()) - row.begin();
  }

  const ModelShape &shape;
  const EntryPoints &entries;
  float (*convert)(T);
  std::vector<T> cache;
  StridedMemRefType<T, 5> cacheRef{};
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
    return Generator<float>(shape, entries, fromF32)
        .run(prompt, maxNewTokens, eos, out, error);
  if (shape.dtype != "float16" && shape.dtype != "bfloat16") {
    error = "activation dtype '" + shape.dtype + "' is not float32, float16 "
            "or bfloat16";
    return false;
  }
  float (*convert)(uint16_t) =
      shape.dtype == "float16" ? kernels::halfToFloat : kernels::bf16ToFloat;
  return Generator<uint16_t>(shape, entries, convert)
      .run(prompt, maxNewTokens, eos, out, error);
}

} // namespace hfq::runtime
