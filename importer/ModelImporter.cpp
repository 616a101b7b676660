//===- ModelImporter.cpp - A checkpoint directory as model IR -------------===//

#include "importer/ModelImporter.h"
#include "importer/Rope.h"

#include "dialect/HFQDialect.h"
#include "spec/Input.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <filesystem>

using namespace mlir;

namespace hfq::importer {

namespace {

bool readCheckpointHeaders(const std::string &dir, ModelDirectory &out,
                           std::string &error) {
  namespace fs = std::filesystem;
  fs::path index = fs::path(dir) / "model.safetensors.index.json";
  std::error_code ec;
  if (fs::exists(index, ec))
    return checkpoint::readSafetensorsIndex(index.string(), out.tensors, error,
                                            /*requireShards=*/true);
  std::vector<std::string> files;
  if (!checkpoint::listSafetensorsFiles(dir, files, error))
    return false;
  for (const std::string &file : files) {
    std::map<std::string, checkpoint::TensorInfo> tensors;
    if (!checkpoint::readSafetensorsHeader(file, tensors, error))
      return false;
    for (auto &[name, info] : tensors)
      if (!out.tensors.emplace(name, info).second) {
        error = file + ": tensor '" + name + "' is also in " +
                out.tensors[name].file;
        return false;
      }
  }
  return true;
}

/// The MLIR element type of a float activation or weight dtype, spelled as
/// transformers ("bfloat16") or safetensors ("BF16") does.
Type floatType(MLIRContext *context, const std::string &dtype) {
  Builder b(context);
  if (dtype == "float32" || dtype == "F32")
    return b.getF32Type();
  if (dtype == "float16" || dtype == "F16")
    return b.getF16Type();
  if (dtype == "bfloat16" || dtype == "BF16")
    return b.getBF16Type();
  return {};
}

/// Builds the forward: one instance per entry function.
class ForwardBuilder {
public:
  ForwardBuilder(OpBuilder &b, const ModelDirectory &model, Type act,
                 const RopeFrequencies &rope)
      : b(b), model(model), config(model.decoder), act(act), rope(rope),
        loc(b.getUnknownLoc()) {}

  /// The weight `name` of `shape`: the checkpoint's type where the tensor
  /// exists (it must have `shape` and a float dtype), else the model's
  /// dtype (a quantized linear's placeholder, replaced by dispatch).
  FailureOr<Value> weight(const std::string &name, ArrayRef<int64_t> shape) {
    Type element = floatType(b.getContext(), config.dtype);
    auto it = model.tensors.find(name);
    if (it != model.tensors.end()) {
      const checkpoint::TensorInfo &info = it->second;
      element = floatType(b.getContext(), info.dtype);
      if (!element || (info.shapeKnown &&
                       info.shape != std::vector<int64_t>(shape.begin(),
                                                          shape.end()))) {
        return fail(info.file + ": tensor '" + name + "' is " + info.dtype +
                    shapeText(info.shape) +
                    ", the model expects a float tensor " + shapeText(shape));
      }
    }
    return hfq::WeightOp::create(b, loc, RankedTensorType::get(shape, element),
                                 b.getStringAttr(name))
        .getResult();
  }

  FailureOr<Value> requiredWeight(const std::string &name,
                                  ArrayRef<int64_t> shape) {
    if (!model.configOnly && !model.tensors.count(name))
      return fail(model.path + ": tensor '" + name +
                  "' is not in the checkpoint");
    return weight(name, shape);
  }

  /// A linear's weight: the checkpoint's float [N, K] tensor, or — when the
  /// checkpoint has none, or a `weight` of another type or shape, as
  /// bitsandbytes, FP8, BitNet and EETQ store their packed weight — a
  /// placeholder of the model's dtype that --hfq-dispatch replaces by the
  /// method's packed tensors. Should the layer stay unquantized, the loader
  /// names the tensor that does not match.
  Value linearWeight(const std::string &name, int64_t n, int64_t k) {
    Type element = floatType(b.getContext(), config.dtype);
    auto it = model.tensors.find(name);
    if (it != model.tensors.end() && it->second.shapeKnown &&
        it->second.shape == std::vector<int64_t>{n, k})
      if (Type stored = floatType(b.getContext(), it->second.dtype))
        element = stored;
    return hfq::WeightOp::create(b, loc, RankedTensorType::get({n, k}, element),
                                 b.getStringAttr(name))
        .getResult();
  }

  FailureOr<Value> linear(const std::string &module, Value x, int64_t n,
                          int64_t k, bool bias) {
    FailureOr<Value> w = linearWeight(module + ".weight", n, k);
    if (failed(w))
      return failure();
    Value biasValue;
    if (bias) {
      FailureOr<Value> b = requiredWeight(module + ".bias", {n});
      if (failed(b))
        return failure();
      biasValue = *b;
    }
    auto xType = cast<RankedTensorType>(x.getType());
    auto type = RankedTensorType::get({xType.getDimSize(0), n}, act);
    return hfq::LinearOp::create(b, loc, type, b.getStringAttr(module), x, *w,
                                 biasValue)
        .getResult();
  }

  FailureOr<Value> norm(const std::string &module, Value x, int64_t width) {
    FailureOr<Value> w = requiredWeight(module + ".weight", {width});
    if (failed(w))
      return failure();
    return hfq::RmsNormOp::create(b, loc, x.getType(), b.getStringAttr(module),
                                  x, *w, b.getF64FloatAttr(config.rmsNormEps))
        .getResult();
  }

  /// Qwen3's q_norm / k_norm: RMSNorm over each head of [T, heads * D].
  FailureOr<Value> headNorm(const std::string &module, Value x, int64_t heads) {
    int64_t d = config.headDim;
    auto type = cast<RankedTensorType>(x.getType());
    OpFoldResult t =
        type.isDynamicDim(0)
            ? OpFoldResult(tensor::DimOp::create(b, loc, x, 0).getResult())
            : OpFoldResult(b.getIndexAttr(type.getDimSize(0)));
    auto perHead = RankedTensorType::get({type.getDimSize(0), heads, d}, act);
    SmallVector<OpFoldResult> sizes = {t, b.getIndexAttr(heads),
                                       b.getIndexAttr(d)};
    Value split = tensor::ExpandShapeOp::create(
        b, loc, perHead, x, ArrayRef<ReassociationIndices>{{0}, {1, 2}}, sizes);
    Value rows = tensor::CollapseShapeOp::create(
        b, loc, split, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    FailureOr<Value> normed = norm(module, rows, d);
    if (failed(normed))
      return failure();
    Value back = tensor::ExpandShapeOp::create(
        b, loc, perHead, *normed, ArrayRef<ReassociationIndices>{{0, 1}, {2}},
        sizes);
    return tensor::CollapseShapeOp::create(
               b, loc, back, ArrayRef<ReassociationIndices>{{0}, {1, 2}})
        .getResult();
  }

  Value rotary(Value x, Value positions) {
    return hfq::RotaryOp::create(
               b, loc, x.getType(), x, positions,
               b.getI64IntegerAttr(config.headDim),
               b.getF64FloatAttr(rope.attentionScaling),
               DenseElementsAttr::get(
                   RankedTensorType::get(
                       {static_cast<int64_t>(rope.invFreq.size())},
                       b.getF32Type()),
                   ArrayRef<float>(rope.invFreq)))
        .getResult();
  }

  FailureOr<Value> attention(int64_t layer, Value h, Value positions,
                             Value cache) {
    std::string p = "model.layers." + std::to_string(layer) + ".self_attn";
    int64_t hidden = config.hiddenSize, d = config.headDim;
    int64_t qWidth = config.numHeads * d, kvWidth = config.numKvHeads * d;
    FailureOr<Value> q = linear(p + ".q_proj", h, qWidth, hidden, config.attentionBias);
    FailureOr<Value> k = linear(p + ".k_proj", h, kvWidth, hidden, config.attentionBias);
    FailureOr<Value> v = linear(p + ".v_proj", h, kvWidth, hidden, config.attentionBias);
    if (failed(q) || failed(k) || failed(v))
      return failure();
    if (config.qkNorm) {
      q = headNorm(p + ".q_norm", *q, config.numHeads);
      k = failed(q) ? q : headNorm(p + ".k_norm", *k, config.numKvHeads);
      if (failed(k))
        return failure();
    }
    Value attended = hfq::AttentionOp::create(
        b, loc, q->getType(), b.getStringAttr(p), rotary(*q, positions),
        rotary(*k, positions), *v, positions, cache,
        b.getI64IntegerAttr(layer), b.getI64IntegerAttr(config.numHeads),
        b.getI64IntegerAttr(config.numKvHeads), b.getI64IntegerAttr(d),
        b.getF64FloatAttr(1.0 / std::sqrt(static_cast<double>(d))),
        b.getI64IntegerAttr(config.slidingWindow[layer]));
    return linear(p + ".o_proj", attended, hidden, qWidth, config.outputBias);
  }

  FailureOr<Value> mlp(int64_t layer, Value h) {
    std::string p = "model.layers." + std::to_string(layer) + ".mlp";
    int64_t hidden = config.hiddenSize, inter = config.intermediateSize;
    FailureOr<Value> gate = linear(p + ".gate_proj", h, inter, hidden, config.mlpBias);
    FailureOr<Value> up = linear(p + ".up_proj", h, inter, hidden, config.mlpBias);
    if (failed(gate) || failed(up))
      return failure();
    Value product = hfq::SiluMulOp::create(b, loc, gate->getType(), *gate, *up).getResult();
    return linear(p + ".down_proj", product, hidden, inter, config.mlpBias);
  }

  FailureOr<Value> layer(int64_t i, Value h, Value positions, Value cache) {
    std::string p = "model.layers." + std::to_string(i);
    FailureOr<Value> x = norm(p + ".input_layernorm", h, config.hiddenSize);
    FailureOr<Value> a = failed(x) ? x : attention(i, *x, positions, cache);
    if (failed(a))
      return failure();
    h = hfq::AddOp::create(b, loc, h.getType(), h, *a).getResult();
    x = norm(p + ".post_attention_layernorm", h, config.hiddenSize);
    FailureOr<Value> m = failed(x) ? x : mlp(i, *x);
    if (failed(m))
      return failure();
    return hfq::AddOp::create(b, loc, h.getType(), h, *m).getResult();
  }

  /// The body of an entry function: ids, positions, cache -> logits.
  FailureOr<Value> forward(Value ids, Value pos, Value cache) {
    int64_t hidden = config.hiddenSize, vocab = config.vocabSize;
    FailureOr<Value> table =
        requiredWeight("model.embed_tokens.weight", {vocab, hidden});
    if (failed(table))
      return failure();
    auto idsType = cast<RankedTensorType>(ids.getType());
    Value h = hfq::EmbeddingOp::create(
        b, loc, RankedTensorType::get({idsType.getDimSize(0), hidden}, act),
        b.getStringAttr("model.embed_tokens"), ids, *table);
    for (int64_t i = 0; i < config.numLayers; ++i) {
      FailureOr<Value> next = layer(i, h, pos, cache);
      if (failed(next))
        return failure();
      h = *next;
    }
    FailureOr<Value> normed = norm("model.norm", h, hidden);
    if (failed(normed))
      return failure();
    bool tied = config.tieWordEmbeddings && !model.tensors.count("lm_head.weight");
    FailureOr<Value> lmWeight =
        tied ? table
             : FailureOr<Value>(linearWeight("lm_head.weight", vocab, hidden));
    if (failed(lmWeight))
      return failure();
    auto type = RankedTensorType::get({idsType.getDimSize(0), vocab}, act);
    return hfq::LinearOp::create(b, loc, type, b.getStringAttr("lm_head"),
                                 *normed, *lmWeight, Value())
        .getResult();
  }

  /// The first error (later ones follow from it).
  std::string error;

private:
  FailureOr<Value> fail(const std::string &message) {
    if (error.empty())
      error = message;
    return failure();
  }

  static std::string shapeText(ArrayRef<int64_t> shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i)
      out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
  }

  OpBuilder &b;
  const ModelDirectory &model;
  const DecoderConfig &config;
  Type act;
  const RopeFrequencies &rope;
  Location loc;
};

/// Adds `@name(%ids: tensor<Txi64>, %positions: tensor<Txi64>, %cache) ->
/// logits`. The positions are the caller's (start + t for one sequence): no
/// host loop computes them in the compiled code, whose buffers may live on
/// a device.
bool addEntry(OpBuilder &b, ModuleOp module, StringRef name, int64_t tokens,
              const ModelDirectory &model, Type act,
              const RopeFrequencies &rope, std::string &error) {
  const DecoderConfig &c = model.decoder;
  auto ids = RankedTensorType::get({tokens}, b.getI64Type());
  auto cache = MemRefType::get(
      {c.numLayers, 2, ShapedType::kDynamic, c.numKvHeads, c.headDim}, act);
  auto logits = RankedTensorType::get({tokens, c.vocabSize}, act);
  auto type = b.getFunctionType({ids, ids, cache}, {logits});
  b.setInsertionPointToEnd(module.getBody());
  auto fn = func::FuncOp::create(b, b.getUnknownLoc(), name, type);
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  ForwardBuilder forward(b, model, act, rope);
  FailureOr<Value> result = forward.forward(
      entry->getArgument(0), entry->getArgument(1), entry->getArgument(2));
  if (failed(result)) {
    error = forward.error;
    return false;
  }
  func::ReturnOp::create(b, b.getUnknownLoc(), *result);
  return true;
}

} // namespace

bool readModelDirectory(const std::string &dir, ModelDirectory &out,
                        std::string &error, bool configOnly) {
  out.path = dir;
  std::string configPath = dir + "/config.json";
  if (!spec::readJsonFile(configPath, "config.json", out.config, error))
    return false;
  if (!parseDecoderConfig(out.config, out.decoder, error)) {
    error = configPath + ": " + error;
    return false;
  }
  out.configOnly = configOnly;
  return configOnly || readCheckpointHeaders(dir, out, error);
}

std::string resolveActivationDtype(const std::string &requested,
                                   const DecoderConfig &config,
                                   std::string &error) {
  if (requested == "auto")
    return config.dtype;
  if (requested == "float32" || requested == "float16" ||
      requested == "bfloat16")
    return requested;
  error = "--dtype must be auto, float32, float16 or bfloat16, got '" +
          requested + "'";
  return "";
}

OwningOpRef<ModuleOp> importModel(MLIRContext *context,
                                  const ModelDirectory &model,
                                  const std::string &dtype,
                                  std::string &error) {
  context->loadDialect<hfq::HFQDialect, arith::ArithDialect,
                       func::FuncDialect, memref::MemRefDialect,
                       tensor::TensorDialect>();
  Type act = floatType(context, dtype);
  if (!act) {
    error = "activation dtype must be float32, float16 or bfloat16, got '" +
            dtype + "'";
    return nullptr;
  }
  RopeFrequencies rope;
  if (!ropeFrequencies(model.decoder.rope, model.decoder.headDim, rope,
                       error)) {
    error = model.path + "/config.json: " + error;
    return nullptr;
  }
  OpBuilder b(context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
  (*module)->setAttr("hfq.model_config",
                     hfq::jsonToAttribute(model.config, context));
  if (!addEntry(b, *module, "prefill", ShapedType::kDynamic, model, act, rope,
                error) ||
      !addEntry(b, *module, "decode", 1, model, act, rope, error))
    return nullptr;
  return module;
}

} // namespace hfq::importer
