//===- Generate.cpp - Prefill and greedy decode over the KV cache ---------===//
//
// Calls the importer's entry functions through their C interfaces:
//
//   void _mlir_ciface_prefill(StridedMemRefType<Act, 2> *logits,
//                             StridedMemRefType<int64_t, 1> *ids,
//                             int64_t start, StridedMemRefType<Act, 5> *cache)
//
// (decode likewise, with one id). The logits buffer is allocated by the
// compiled code and freed here. The KV cache is this file's: [layers, 2,
// prompt + max_new_tokens, kv_heads, head_dim] of the activation type.
//
//===----------------------------------------------------------------------===//

#include "tools/hfq-run/Session.h"

#include "kernels/abi/Tensor.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace hfq::run {

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

template <typename T>
using EntryFn = void (*)(StridedMemRefType<T, 2> *,
                         StridedMemRefType<int64_t, 1> *, int64_t,
                         StridedMemRefType<T, 5> *);

/// The generation loop for activation storage `T`; `convert` reads one
/// element as float.
template <typename T> class Generator {
public:
  Generator(const CompiledModel &model, float (*convert)(T))
      : model(model), convert(convert) {}

  bool run(const std::vector<int64_t> &prompt, int64_t maxNew,
           const std::vector<int64_t> &eos, GenerateResult &out,
           std::string &error) {
    auto prefill = lookup("prefill", error), decode = lookup("decode", error);
    if (!prefill || !decode)
      return false;
    const importer::DecoderConfig &c = model.config;
    int64_t capacity = static_cast<int64_t>(prompt.size()) + maxNew;
    cache.assign(static_cast<size_t>(c.numLayers * 2 * capacity *
                                     c.numKvHeads * c.headDim),
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
  EntryFn<T> lookup(const char *name, std::string &error) {
    auto fn = model.engine->lookup(std::string("_mlir_ciface_") + name);
    if (!fn) {
      error = std::string("the compiled model has no entry '") + name +
              "': " + llvm::toString(fn.takeError());
      return nullptr;
    }
    return reinterpret_cast<EntryFn<T>>(*fn);
  }

  void setCache(int64_t capacity) {
    const importer::DecoderConfig &c = model.config;
    int64_t sizes[5] = {c.numLayers, 2, capacity, c.numKvHeads, c.headDim};
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
    StridedMemRefType<int64_t, 1> idsRef{ids.data(), ids.data(), 0,
                                         {static_cast<int64_t>(ids.size())},
                                         {1}};
    StridedMemRefType<T, 2> logits{};
    fn(&logits, &idsRef, start, &cacheRef);
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

  const CompiledModel &model;
  float (*convert)(T);
  std::vector<T> cache;
  StridedMemRefType<T, 5> cacheRef{};
};

float fromF32(float v) { return v; }

} // namespace

bool generate(const CompiledModel &model, const std::vector<int64_t> &prompt,
              int64_t maxNewTokens, const std::vector<int64_t> &eos,
              GenerateResult &out, std::string &error) {
  for (int64_t id : prompt)
    if (id < 0 || id >= model.config.vocabSize) {
      error = "prompt id " + std::to_string(id) + " is outside the vocabulary [0, " +
              std::to_string(model.config.vocabSize) + ")";
      return false;
    }
  if (prompt.empty()) {
    error = "the prompt is empty";
    return false;
  }
  if (model.dtype == "float32")
    return Generator<float>(model, fromF32).run(prompt, maxNewTokens, eos, out,
                                                error);
  float (*convert)(uint16_t) = model.dtype == "float16"
                                   ? kernels::halfToFloat
                                   : kernels::bf16ToFloat;
  return Generator<uint16_t>(model, convert).run(prompt, maxNewTokens, eos,
                                                 out, error);
}

} // namespace hfq::run
