//===- spec-fuzzer.cpp - libFuzzer target for the spec parser --------------===//
//
// Feeds arbitrary bytes to parseMethodSpec and registers what parses, so the
// JSON reader, the schema checks, expression parsing and the registry's
// conflict checks all run on hostile input. Seeds: specs/*.json.
//
//===----------------------------------------------------------------------===//

#include "spec/Layout.h"
#include "spec/MethodRegistry.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  hfq::spec::MethodRegistry registry;
  hfq::spec::SpecError error;
  if (registry.addText(text, "fuzz.json", error)) {
    // Registering the same spec again must be a clean conflict.
    hfq::spec::SpecError again;
    registry.addText(text, "fuzz2.json", again);
    // Exercise layout evaluation on a few shapes.
    for (const hfq::spec::QuantizerSpec *q : registry.quantizers()) {
      std::string layoutError;
      for (int64_t n : {0, 1, 128, 4097})
        hfq::spec::resolveLayout(*q, hfq::spec::Json::object(),
                                 hfq::spec::Json(), n, 4096 - n, "bf16",
                                 layoutError);
    }
  }
  return 0;
}
