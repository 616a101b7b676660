//===- HFQDialect.h - The hfq dialect ---------------------------*- C++ -*-===//
//
// Everything a user of the dialect includes: the dialect, its attributes and
// its ops, and the method registry they are verified against.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_DIALECT_HFQDIALECT_H
#define HFQ_DIALECT_HFQDIALECT_H

#include "spec/MethodRegistry.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <memory>

#include "dialect/HFQOpsDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/HFQAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialect/HFQOps.h.inc"

namespace hfq {

/// The registry HFQ dialects loaded from now on verify against. hfq-opt sets
/// it after loading the built-in specs and every --hfq-spec-path; without a
/// call, dialects use the built-in specs alone.
void setMethodRegistry(std::shared_ptr<const spec::MethodRegistry> registry);

/// The registry set above (or the built-in one).
std::shared_ptr<const spec::MethodRegistry> getMethodRegistry();

/// The MLIR spelling of an element type ("bf16"): what specs call an
/// activation type, `act_dtype` in layouts and kernel rules.
std::string elementTypeName(mlir::Type type);

/// The layout `quantizer` declares for a layer of `n` outputs and `k` inputs
/// under `config` and `scheme`, with activations of element type
/// `activation` (spec::resolveLayoutWithArgs), as the attribute quantized
/// ops record. Null, with `error` set, when the spec cannot lay the layer
/// out.
LayoutAttr resolveLayoutAttr(mlir::MLIRContext *context,
                             const spec::QuantizerSpec &quantizer,
                             const spec::Json &config, const spec::Json &scheme,
                             int64_t n, int64_t k, mlir::Type activation,
                             std::string &error);

/// The layout of a quantized op's packed tensors: `recorded` (what
/// --hfq-dispatch wrote on the op) when present, else — IR written by hand —
/// the registry's for `method`, `scheme`, N, K and the `activation` element
/// type. The one way the verifier and every pass learn a layout. Null, with
/// `error` set (a phrase to follow "method '<key>' "), when there is none.
LayoutAttr getPackedLayout(mlir::Operation *op, MethodAttr method,
                           mlir::DictionaryAttr scheme, LayoutAttr recorded,
                           int64_t n, int64_t k, mlir::Type activation,
                           std::string &error);

/// Converts a config value to the attribute that carries it in the IR.
mlir::Attribute jsonToAttribute(const spec::Json &value,
                                mlir::MLIRContext *context);

/// Converts a config attribute back to JSON. Returns nullopt for attributes
/// that carry no JSON value, for integers beyond int64 and for nesting
/// deeper than kMaxJsonDepth (spec/Limits.h).
std::optional<spec::Json> attributeToJson(mlir::Attribute attr);

/// attributeToJson that says where and why it failed: `pointer` is the JSON
/// pointer of the offending value ("/quantization_config/bits") and
/// `problem` what is wrong with it.
std::optional<spec::Json> attributeToJson(mlir::Attribute attr,
                                          std::string &pointer,
                                          std::string &problem);

} // namespace hfq

#endif // HFQ_DIALECT_HFQDIALECT_H
