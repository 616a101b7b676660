//===- ModelImporter.h - A checkpoint directory as model IR -----*- C++ -*-===//
//
// hfq-import's stage: a Hugging Face checkpoint directory (config.json, the
// safetensors index or files — headers only) becomes the model's complete
// forward as hfq model IR, two entry functions over an explicit KV cache:
//
//   func.func @prefill(%ids: tensor<?xi64>, %positions: tensor<?xi64>,
//                      %cache: memref<L x 2 x ? x KV x D x act>)
//       -> tensor<? x V x act>          // logits at every prompt position
//   func.func @decode(%ids: tensor<1xi64>, %positions: tensor<1xi64>,
//                     %cache: ...) -> tensor<1 x V x act>
//
// Every projection is an hfq.linear named by its module path, every weight
// an hfq.weight named by its checkpoint key (never a constant); the
// config rides in `hfq.model_config` for --hfq-dispatch. Shapes come from
// config.json, so a quantized checkpoint (whose linears have no `.weight`)
// imports like any other; docs/model-import.md has the IR and the design.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_IMPORTER_MODELIMPORTER_H
#define HFQ_IMPORTER_MODELIMPORTER_H

#include "checkpoint/Safetensors.h"
#include "importer/DecoderConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <string>

namespace hfq::importer {

/// A checkpoint directory, read: config.json and every tensor's header
/// entry (dtype, shape; no data).
struct ModelDirectory {
  std::string path;
  spec::Json config;
  DecoderConfig decoder;
  std::map<std::string, checkpoint::TensorInfo> tensors;
  /// No checkpoint was read (readModelDirectory's configOnly).
  bool configOnly = false;
};

/// Reads `dir`: config.json (an error names the key), then
/// model.safetensors.index.json with its shards, or else every *.safetensors
/// file in the directory. Errors name the file. With `configOnly`, no
/// safetensors file is read: every weight is typed from config.json (its
/// shape, the config's dtype), for compiling or planning a model whose
/// weights are not at hand.
bool readModelDirectory(const std::string &dir, ModelDirectory &out,
                        std::string &error, bool configOnly = false);

/// The activation dtype `--dtype` names: "auto" is config.json's dtype.
/// Returns "" with `error` for anything but auto, float32, float16,
/// bfloat16.
std::string resolveActivationDtype(const std::string &requested,
                                   const DecoderConfig &config,
                                   std::string &error);

/// The forward of `model` with activations of `dtype` (float32, float16 or
/// bfloat16). Null with `error` when a tensor the forward reads directly
/// (embedding, norms, an unquantized lm_head) is missing or not a float
/// tensor of the expected shape.
mlir::OwningOpRef<mlir::ModuleOp> importModel(mlir::MLIRContext *context,
                                              const ModelDirectory &model,
                                              const std::string &dtype,
                                              std::string &error);

} // namespace hfq::importer

#endif // HFQ_IMPORTER_MODELIMPORTER_H
