//===- Driver.h - Checkpoint directory to compiled model ---------*- C++ -*-===//
//
// The pipeline from a checkpoint directory to code: import (importer/),
// dispatch exactly as from_pretrained would with the user's options, select
// kernels for the target, lower to the LLVM dialect; then JIT it (MLIR's
// ExecutionEngine, for hfq-run) or write an artifact (object, shared
// library, manifest; hfq-compile). runtime::generate runs either.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_DRIVER_DRIVER_H
#define HFQ_DRIVER_DRIVER_H

#include "importer/ModelImporter.h"
#include "runtime/Host.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"

#include <memory>
#include <string>
#include <vector>

namespace hfq::run {

struct CompileOptions {
  std::string target = "cpu";
  /// Activations in device memory, through the device runtime (the GPU
  /// artifacts of hfq-compile); else host memory (hfq-run's JIT, which
  /// serves CUDA kernels by copying).
  bool deviceResident = false;
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
  std::vector<runtime::WeightUse> weights;
};

/// A context with every dialect and translation the pipeline needs.
std::unique_ptr<mlir::MLIRContext> makeContext();

/// Imports, dispatches (following the quantizer's dtype) and lowers `model`
/// to the LLVM dialect in `context`, filling `out` but its engine; null
/// with `error` when a stage fails.
mlir::OwningOpRef<mlir::ModuleOp> lowerModel(mlir::MLIRContext &context,
                                             const importer::ModelDirectory &model,
                                             const CompileOptions &options,
                                             CompiledModel &out,
                                             std::string &error);

/// Compiles `model` to an artifact in `dir` (hfq-compile): model.o,
/// model.so (linked with the system's C compiler driver) and manifest.json
/// (docs/model-import.md, "Compiled artifacts").
bool writeArtifact(const importer::ModelDirectory &model,
                   const CompileOptions &options, const std::string &dir,
                   std::string &error);

/// Imports, dispatches, lowers and JITs `model`. Diagnostics (transformers'
/// warnings among them) go to stderr; false with `error` when a stage
/// fails.
bool compileModel(const importer::ModelDirectory &model,
                  const CompileOptions &options, CompiledModel &out,
                  std::string &error);

/// The JIT-compiled entry functions, for runtime::generate.
runtime::EntryPoints entryPoints(const CompiledModel &model,
                                 std::string &error);

/// "<dir> (<architecture>, N layers, hidden H, vocab V)".
std::string describe(const importer::ModelDirectory &model);

/// The host's view of the model (runtime::generate).
runtime::ModelShape modelShape(const CompiledModel &model);

} // namespace hfq::run

#endif // HFQ_DRIVER_DRIVER_H
