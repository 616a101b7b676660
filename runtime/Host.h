//===- Host.h - What every host of a compiled model shares ------*- C++ -*-===//
//
// hfq-run (JIT) and hfq-exec (a compiled artifact) run a model the same way:
// open the checkpoint, check every weight the code reads, generate, print
// the same summary and write the same logits file. No LLVM here.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_RUNTIME_HOST_H
#define HFQ_RUNTIME_HOST_H

#include "runtime/Generation.h"
#include "runtime/WeightStore.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace hfq::runtime {

/// A checkpoint tensor the compiled code reads.
struct WeightUse {
  std::string name, dtype;  // dtype as safetensors spells it
  std::vector<int64_t> shape;
};

/// Opens `dir` (progress on stderr for checkpoints of a GB or more, prefixed
/// with `tool`) and checks every weight of `uses`; nullptr with `error`
/// naming the file and tensor otherwise.
std::unique_ptr<WeightStore> openCheckedStore(const std::string &dir,
                                              const std::vector<WeightUse> &uses,
                                              const char *tool,
                                              std::string &error);

/// generation_config.json's eos_token_id (else config.json's): an int or a
/// list of ints; none when neither says.
std::vector<int64_t> eosTokens(const std::string &modelDir);

/// Writes {"input_ids", "generated_ids", "logits": [[V floats] per prompt
/// position]}.
bool writeLogits(const std::string &path, const std::vector<int64_t> &prompt,
                 const GenerateResult &result, std::string &error);

/// What a host prints after a run.
struct RunSummary {
  std::string model;   // "<dir> (<architecture>, N layers, hidden H, vocab V)"
  std::string dtype, target;
  std::vector<int64_t> prompt;
  const GenerateResult *result = nullptr;
  /// The generated ids as text, where the checkpoint has a tokenizer.
  std::string text;
  const WeightStore *store = nullptr;
  double loadMs = 0, compileMs = 0;
  const char *compileLabel = "compile";
  /// A GPU target's device ("" for the CPU) and the device memory in use
  /// at its peak (sampled at each synchronization, CUDA's context included).
  std::string device;
  int64_t peakDeviceBytes = 0;
};
void printRunSummary(std::FILE *out, const RunSummary &summary);

} // namespace hfq::runtime

#endif // HFQ_RUNTIME_HOST_H
