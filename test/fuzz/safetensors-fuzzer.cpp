//===- safetensors-fuzzer.cpp - libFuzzer target for checkpoint files -----===//
//
// Arbitrary bytes as a whole safetensors file (parseSafetensorsHeader, with
// the input's size as the file's size) and as a safetensors index
// (parseSafetensorsIndex), then what the planner derives from the tensors
// found (linearsFromTensors). Every accepted tensor must lie inside the
// input: the fuzzer checks the ranges the header promised.
// Seeds: test/fuzz/corpus/safetensors/.
//
//===----------------------------------------------------------------------===//

#include "checkpoint/ModelShapes.h"
#include "checkpoint/Safetensors.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace hfq::checkpoint;
  const char *bytes = reinterpret_cast<const char *>(data);
  std::map<std::string, TensorInfo> tensors;
  std::string error;
  if (parseSafetensorsHeader("fuzz.safetensors", bytes, size, size, tensors,
                             error)) {
    for (const auto &[name, info] : tensors)
      if (info.begin > info.end || info.end > size)
        __builtin_trap(); // A range outside the file was accepted.
  }
  std::vector<std::string> shards;
  std::string text(bytes, size);
  parseSafetensorsIndex("fuzz.index.json", text, tensors, shards, error);
  linearsFromTensors(tensors, {"qweight", "weight_packed", "qdata"});
  return 0;
}
