//===- HFQOps.cpp - hfq operations and their verifiers ---------------------===//
//
// The quantized ops are verified against the method registry: the method
// must be registered, its config must only hold the method's fields with
// values of the declared types, and the packed tensors must match the layout
// the spec declares for this config and this layer's N and K.
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
    return op->emitOpError("input must have a floating-point element type, got ")
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

namespace {
/// What the verifier learned about an op's method.
struct ResolvedMethod {
  const spec::QuantizerSpec *quantizer = nullptr;
  spec::Json config;
  spec::Json scheme;
};
} // namespace

static FailureOr<ResolvedMethod>
resolveMethod(Operation *op, MethodAttr method, DictionaryAttr schemeAttr) {
  auto *dialect = op->getContext()->getLoadedDialect<HFQDialect>();
  const spec::MethodRegistry &registry = dialect->getMethodRegistry();
  ResolvedMethod out;
  std::string key = method.getKey().str();
  out.quantizer = registry.lookup(key);
  if (!out.quantizer)
    return op->emitOpError("unknown quantization method '")
           << key << "' (registered: " << llvm::join(registry.keys(), ", ")
           << ")";
  const spec::ConfigSpec &config = out.quantizer->method->config;
  for (NamedAttribute entry : method.getConfig()) {
    std::string name = entry.getName().str();
    const spec::FieldSpec *field = config.findField(name);
    if (!field && name != "quant_method")
      return op->emitOpError("config of method '")
             << key << "' has no field '" << name << "' (" << config.className
             << " is declared in " << out.quantizer->method->file << ")";
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
  out.config = method.getConfigJson();
  for (const spec::FieldSpec &field : config.fields)
    if (!out.config.contains(field.name) && !field.defaultValue)
      return op->emitOpError("config of method '")
             << key << "' lacks the required field '" << field.name << "'";
  if (out.quantizer->moduleScheme) {
    if (!schemeAttr)
      return op->emitOpError("method '")
             << key << "' needs a 'scheme' attribute: the entry of '"
             << *out.quantizer->moduleScheme << "' that targets this layer";
    out.scheme = *attributeToJson(schemeAttr);
  } else if (schemeAttr) {
    return op->emitOpError("method '")
           << key << "' has no per-module schemes; remove 'scheme'";
  }
  return out;
}

/// Checks `types` (named `what` #i in messages) against the layout of the
/// method for a layer of `n` outputs and `k` inputs.
static LogicalResult verifyLayout(Operation *op, const ResolvedMethod &method,
                                  int64_t n, int64_t k, TypeRange types,
                                  StringRef what) {
  const std::string &key = method.quantizer->key;
  if (ShapedType::isDynamic(n) || ShapedType::isDynamic(k))
    return op->emitOpError("method '")
           << key << "' needs static N and K to lay out its tensors, got N = "
           << dimString(n) << ", K = " << dimString(k);
  std::string error;
  std::optional<std::vector<spec::TensorLayout>> layout =
      spec::resolveLayout(*method.quantizer, method.config, method.scheme, n,
                          k, error);
  if (!layout)
    return op->emitOpError("method '")
           << key << "' cannot lay out this layer (N = " << n << ", K = " << k
           << "): " << error;
  if (layout->size() != types.size()) {
    SmallVector<std::string> names;
    for (const spec::TensorLayout &tensor : *layout)
      names.push_back(tensor.name);
    return op->emitOpError("method '")
           << key << "' expects " << layout->size() << " " << what
           << " tensors (" << llvm::join(names, ", ") << ") for this config, got "
           << types.size();
  }
  for (auto [index, expected, actual] : llvm::enumerate(*layout, types)) {
    Type element = parseType(expected.dtype, op->getContext());
    if (!element)
      return op->emitOpError("method '")
             << key << "' declares tensor '" << expected.name
             << "' with unknown element type '" << expected.dtype << "'";
    auto expectedType = RankedTensorType::get(expected.shape, element);
    if (actual != expectedType)
      return op->emitOpError()
             << what << " tensor #" << index << " ('" << expected.name
             << "') of method '" << key << "' must be "
             << typeString(expectedType) << ", got " << typeString(actual);
  }
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
  int64_t n = result.getRank() ? result.getDimSize(result.getRank() - 1)
                               : ShapedType::kDynamic;
  if (failed(verifyActivations(*this, input, result, n)) ||
      failed(verifyBias(*this, getBias(), n, input.getElementType())))
    return failure();
  if (getKernel() && getKernel()->empty())
    return emitOpError("'kernel' must name a kernel when present");
  FailureOr<ResolvedMethod> method =
      resolveMethod(*this, getMethod(), getSchemeAttr());
  if (failed(method))
    return failure();
  int64_t k = input.getDimSize(input.getRank() - 1);
  return verifyLayout(*this, *method, n, k, getPacked().getTypes(), "packed");
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
  FailureOr<ResolvedMethod> method =
      resolveMethod(*this, getMethod(), getSchemeAttr());
  if (failed(method))
    return failure();
  return verifyLayout(*this, *method, weight.getDimSize(0),
                      weight.getDimSize(1), getPacked().getTypes(), "result");
}
