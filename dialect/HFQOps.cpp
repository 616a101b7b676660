//===- HFQOps.cpp - hfq operations and their verifiers --------------------===//
//
// The quantized ops are verified against the method registry: the method
// must be registered, its config must only hold the method's fields with
// values of the declared types, and the packed tensors must match the layout
// — the one the op records (`layout`, written by --hfq-dispatch), else the
// one the spec declares for this config and this layer's N and K. That
// choice is getPackedLayout(), which every later pass calls too.
//
//===----------------------------------------------------------------------===//

#include "dialect/HFQDialect.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace hfq;

#define GET_OP_CLASSES
#include "dialect/HFQOps.cpp.inc"

static std::string typeString(Type type) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << type;
  return out;
}

static std::string dimString(int64_t dim) {
  return ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
}

/// Checks an activation/result pair of a linear layer: `input` is [..., K],
/// `result` is [..., N] with the same leading dims and element type.
static LogicalResult verifyActivations(Operation *op, RankedTensorType input,
                                       RankedTensorType result, int64_t n) {
  if (input.getRank() < 1)
    return op->emitOpError("input must have rank >= 1 ([..., K]), got ")
           << input;
  if (!isa<FloatType>(input.getElementType()))
    return op->emitOpError(
               "input must have a floating-point element type, got ")
           << input.getElementType();
  if (result.getRank() != input.getRank())
    return op->emitOpError("result must have the input's rank (")
           << input.getRank() << "), got " << result;
  if (result.getElementType() != input.getElementType())
    return op->emitOpError("result element type ")
           << result.getElementType() << " must match the input's ("
           << input.getElementType() << ")";
  for (int64_t d = 0; d + 1 < input.getRank(); ++d) {
    int64_t a = input.getDimSize(d), b = result.getDimSize(d);
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return op->emitOpError("result dimension ")
             << d << " (" << b << ") must match the input's (" << a << ")";
  }
  int64_t resultN = result.getDimSize(result.getRank() - 1);
  if (!ShapedType::isDynamic(n) && !ShapedType::isDynamic(resultN) &&
      n != resultN)
    return op->emitOpError("result's last dimension (")
           << resultN << ") must be the layer's N (" << n << ")";
  return success();
}

static LogicalResult verifyBias(Operation *op, Value bias, int64_t n,
                                Type elementType) {
  if (!bias)
    return success();
  auto type = cast<RankedTensorType>(bias.getType());
  if (type.getRank() != 1)
    return op->emitOpError("bias must be a 1-D tensor [N], got ") << type;
  if (!ShapedType::isDynamic(n) && !type.isDynamicDim(0) &&
      type.getDimSize(0) != n)
    return op->emitOpError("bias has ")
           << type.getDimSize(0) << " elements but the layer's N is " << n;
  if (!isa<FloatType>(type.getElementType()))
    return op->emitOpError("bias must have a floating-point element type, got ")
           << type.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs the tensor's checkpoint name");
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty module name");
  auto input = cast<RankedTensorType>(getInput().getType());
  auto weight = cast<RankedTensorType>(getWeight().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (weight.getRank() != 2)
    return emitOpError("weight must be 2-D [N, K], got ") << weight;
  if (!isa<FloatType>(weight.getElementType()))
    return emitOpError("weight must have a floating-point element type, got ")
           << weight.getElementType();
  int64_t n = weight.getDimSize(0), k = weight.getDimSize(1);
  if (input.getRank() >= 1) {
    int64_t inputK = input.getDimSize(input.getRank() - 1);
    if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(inputK) &&
        k != inputK)
      return emitOpError("input's last dimension (")
             << inputK << ") must equal K of the [N, K] weight (" << k << ")";
  }
  if (failed(verifyActivations(*this, input, result, n)))
    return failure();
  return verifyBias(*this, getBias(), n, input.getElementType());
}

//===----------------------------------------------------------------------===//
// Method checks shared by QLinearOp and QuantizeOp
//===----------------------------------------------------------------------===//

/// The method is registered, its config holds only the method's fields
/// with values of their declared types and every required one (a config
/// class whose __init__ keeps every other keyword, AutoRoundConfig's
/// setattr loop, holds those too: the spec's serialize.extra_kwargs), and a
/// `scheme` is present exactly when the method has per-module schemes.
static LogicalResult verifyMethod(Operation *op, MethodAttr method,
                                  DictionaryAttr schemeAttr) {
  auto *dialect = op->getContext()->getLoadedDialect<HFQDialect>();
  const spec::MethodRegistry &registry = dialect->getMethodRegistry();
  std::string key = method.getKey().str();
  const spec::QuantizerSpec *quantizer = registry.lookup(key);
  if (!quantizer)
    return op->emitOpError("unknown quantization method '")
           << key << "' (registered: " << llvm::join(registry.keys(), ", ")
           << ")";
  const spec::ConfigSpec &config = quantizer->method->config;
  for (NamedAttribute entry : method.getConfig()) {
    std::string name = entry.getName().str();
    const spec::FieldSpec *field = config.findField(name);
    if (!field && name != "quant_method" && !config.serializeExtraKwargs)
      return op->emitOpError("config of method '")
             << key << "' has no field '" << name << "' (" << config.className
             << " is declared in " << quantizer->method->file << ")";
    std::optional<spec::Json> value = attributeToJson(entry.getValue());
    if (!value)
      return op->emitOpError("config field '")
             << name << "' holds " << entry.getValue()
             << ", which is not a config value";
    if (!field)
      continue;
    if (value->is_null() ? !field->nullable : !field->type.accepts(*value))
      return op->emitOpError("config field '")
             << name << "' of method '" << key << "' must be "
             << (field->nullable ? "None or " : "") << field->type.str()
             << ", got " << spec::pythonRepr(*value);
  }
  spec::Json given = method.getConfigJson();
  for (const spec::FieldSpec &field : config.fields)
    if (!given.contains(field.name) && !field.defaultValue)
      return op->emitOpError("config of method '")
             << key << "' lacks the required field '" << field.name << "'";
  if (quantizer->moduleScheme) {
    if (!schemeAttr)
      return op->emitOpError("method '")
             << key << "' needs a 'scheme' attribute: the entry of '"
             << *quantizer->moduleScheme << "' that targets this layer";
  } else if (schemeAttr) {
    return op->emitOpError("method '")
           << key << "' has no per-module schemes; remove 'scheme'";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Layouts: recorded on the op, or resolved from the registry
//===----------------------------------------------------------------------===//

std::string hfq::elementTypeName(Type type) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << type;
  return out;
}

LayoutAttr hfq::resolveLayoutAttr(MLIRContext *context,
                                  const spec::QuantizerSpec &quantizer,
                                  const spec::Json &config,
                                  const spec::Json &scheme, int64_t n,
                                  int64_t k, Type activation,
                                  std::string &error) {
  std::optional<spec::ResolvedLayout> layout = spec::resolveLayoutWithArgs(
      quantizer, config, scheme, n, k, elementTypeName(activation), error);
  if (!layout)
    return {};
  SmallVector<StringAttr> names, argNames;
  SmallVector<Type> types;
  SmallVector<double> argValues;
  for (const spec::TensorLayout &tensor : layout->tensors) {
    Type element = parseType(tensor.dtype, context);
    if (!element) {
      error = "tensor '" + tensor.name + "' has unknown element type '" +
              tensor.dtype + "'";
      return {};
    }
    names.push_back(StringAttr::get(context, tensor.name));
    types.push_back(RankedTensorType::get(tensor.shape, element));
  }
  for (const auto &[name, value] : layout->args) {
    argNames.push_back(StringAttr::get(context, name));
    argValues.push_back(value);
  }
  return LayoutAttr::get(context, names, types, argNames,
                         DenseF64ArrayAttr::get(context, argValues));
}

LayoutAttr hfq::getPackedLayout(Operation *op, MethodAttr method,
                                DictionaryAttr scheme, LayoutAttr recorded,
                                int64_t n, int64_t k, Type activation,
                                std::string &error) {
  if (ShapedType::isDynamic(n) || ShapedType::isDynamic(k)) {
    error =
        "needs static N and K to lay out its tensors, got N = " + dimString(n) +
        ", K = " + dimString(k);
    return {};
  }
  if (recorded)
    return recorded;
  const spec::QuantizerSpec *quantizer = op->getContext()
                                             ->getLoadedDialect<HFQDialect>()
                                             ->getMethodRegistry()
                                             .lookup(method.getKey().str());
  if (!quantizer) {
    error = "is not a registered method";
    return {};
  }
  spec::Json schemeJson =
      scheme ? attributeToJson(scheme).value_or(spec::Json()) : spec::Json();
  std::string why;
  LayoutAttr layout =
      resolveLayoutAttr(op->getContext(), *quantizer, method.getConfigJson(),
                        schemeJson, n, k, activation, why);
  if (!layout)
    error = "cannot lay out this layer (N = " + std::to_string(n) +
            ", K = " + std::to_string(k) + "): " + why;
  return layout;
}

/// Checks `types` (named `what` #i in messages) against the layout of the
/// op's method for a layer of `n` outputs and `k` inputs with `activation`
/// activations: the recorded one, else the registry's.
static LogicalResult verifyLayout(Operation *op, MethodAttr method,
                                  DictionaryAttr scheme, LayoutAttr recorded,
                                  int64_t n, int64_t k, Type activation,
                                  TypeRange types, StringRef what) {
  std::string key = method.getKey().str();
  std::string error;
  LayoutAttr layout =
      getPackedLayout(op, method, scheme, recorded, n, k, activation, error);
  if (!layout)
    return op->emitOpError("method '") << key << "' " << error;
  ArrayRef<Type> expected = layout.getTypes();
  if (expected.size() != types.size()) {
    SmallVector<StringRef> names;
    for (StringAttr name : layout.getNames())
      names.push_back(name.getValue());
    return op->emitOpError("method '")
           << key << "' expects " << expected.size() << " " << what
           << " tensors (" << llvm::join(names, ", ")
           << ") for this config, got " << types.size();
  }
  for (auto [index, name, want, actual] :
       llvm::enumerate(layout.getNames(), expected, types))
    if (actual != want)
      return op->emitOpError()
             << what << " tensor #" << index << " ('" << name.getValue()
             << "') of method '" << key << "' must be " << typeString(want)
             << ", got " << typeString(actual);
  return success();
}

//===----------------------------------------------------------------------===//
// QLinearOp
//===----------------------------------------------------------------------===//

LogicalResult QLinearOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty module name");
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  int64_t n = getN();
  if (failed(verifyActivations(*this, input, result, n)) ||
      failed(verifyBias(*this, getBias(), n, input.getElementType())))
    return failure();
  if (getKernel() && getKernel()->empty())
    return emitOpError("'kernel' must name a kernel when present");
  if (failed(verifyMethod(*this, getMethod(), getSchemeAttr())))
    return failure();
  return verifyLayout(*this, getMethod(), getSchemeAttr(), getLayoutAttr(),
                      getN(), getK(), input.getElementType(),
                      getPacked().getTypes(), "packed");
}

int64_t QLinearOp::getN() {
  auto result = cast<RankedTensorType>(getResult().getType());
  return result.getRank() ? result.getDimSize(result.getRank() - 1)
                          : ShapedType::kDynamic;
}

int64_t QLinearOp::getK() {
  auto input = cast<RankedTensorType>(getInput().getType());
  return input.getRank() ? input.getDimSize(input.getRank() - 1)
                         : ShapedType::kDynamic;
}

LayoutAttr QLinearOp::getPackedLayout(std::string &error) {
  return hfq::getPackedLayout(
      *this, getMethod(), getSchemeAttr(), getLayoutAttr(), getN(), getK(),
      cast<RankedTensorType>(getInput().getType()).getElementType(), error);
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty module name");
  auto weight = cast<RankedTensorType>(getWeight().getType());
  if (weight.getRank() != 2 || !isa<FloatType>(weight.getElementType()))
    return emitOpError("weight must be a 2-D [N, K] float tensor, got ")
           << weight;
  if (getKernel() && getKernel()->empty())
    return emitOpError("'kernel' must name a kernel when present");
  if (failed(verifyMethod(*this, getMethod(), getSchemeAttr())))
    return failure();
  // The float weight is in the model's dtype, its activations' type.
  return verifyLayout(*this, getMethod(), getSchemeAttr(), getLayoutAttr(),
                      getN(), getK(), weight.getElementType(),
                      getPacked().getTypes(), "result");
}

int64_t QuantizeOp::getN() {
  return cast<RankedTensorType>(getWeight().getType()).getDimSize(0);
}

int64_t QuantizeOp::getK() {
  return cast<RankedTensorType>(getWeight().getType()).getDimSize(1);
}

LayoutAttr QuantizeOp::getPackedLayout(std::string &error) {
  return hfq::getPackedLayout(
      *this, getMethod(), getSchemeAttr(), getLayoutAttr(), getN(), getK(),
      cast<RankedTensorType>(getWeight().getType()).getElementType(), error);
}
