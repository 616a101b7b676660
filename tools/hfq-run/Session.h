//===- Session.h - A compiled model, its weights and its KV cache -*- C++ -*-===//
//
// hfq-run's two halves. compileModel(): import a checkpoint directory,
// dispatch exactly as from_pretrained would with the user's options, select
// kernels for the target, lower to LLVM and JIT it (MLIR's
// ExecutionEngine), linking the kernel libraries. generate(): prefill the
// prompt, then greedy decode over the KV cache, calling the two entry
// functions the importer wrote (importer/ModelImporter.h).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_TOOLS_HFQRUN_SESSION_H
#define HFQ_TOOLS_HFQRUN_SESSION_H

#include "importer/ModelImporter.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"

#include <memory>
#include <string>
#include <vector>

namespace hfq::run {

struct CompileOptions {
  std::string target = "cpu";
  std::string quantizationConfig, deviceMap, dtype = "auto", report;
  /// Kernel libraries the JIT links, in lookup order.
  std::vector<std::string> kernelLibraries;
  /// Print the IR after each stage to this file (empty: no).
  std::string dumpIr;
};

struct CompiledModel {
  std::unique_ptr<mlir::ExecutionEngine> engine;
  /// The activation dtype the model runs in: float32, float16, bfloat16.
  std::string dtype;
  importer::DecoderConfig config;
  /// Every checkpoint tensor the code reads: name, safetensors dtype, shape.
  struct Weight {
    std::string name, dtype;
    std::vector<int64_t> shape;
  };
  std::vector<Weight> weights;
};

/// Imports, dispatches, lowers and JITs `model`. Diagnostics (transformers'
/// warnings among them) go to stderr; false with `error` when a stage
/// fails.
bool compileModel(const importer::ModelDirectory &model,
                  const CompileOptions &options, CompiledModel &out,
                  std::string &error);

struct GenerateResult {
  std::vector<int64_t> generated;
  /// The prefill's logits, one row of V floats per prompt position.
  std::vector<std::vector<float>> promptLogits;
  double prefillMs = 0, decodeMs = 0;
};

/// Prefill `prompt`, then up to `maxNewTokens` greedy steps (stopping after
/// an `eos` id, as transformers' generate does). False with `error` when a
/// kernel fails (its message) or the prompt is invalid.
bool generate(const CompiledModel &model, const std::vector<int64_t> &prompt,
              int64_t maxNewTokens, const std::vector<int64_t> &eos,
              GenerateResult &out, std::string &error);

} // namespace hfq::run

#endif // HFQ_TOOLS_HFQRUN_SESSION_H
