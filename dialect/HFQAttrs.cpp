//===- HFQAttrs.cpp - hfq attributes --------------------------------------===//
//
// Config values as attributes and back, the resolved layout a quantized op
// records (#hfq.layout) and ordered JSON (#hfq.json), with their syntax.
//
//===----------------------------------------------------------------------===//

#include "dialect/HFQDialect.h"
#include "spec/Input.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace hfq;

#define GET_ATTRDEF_CLASSES
#include "dialect/HFQAttrs.cpp.inc"

void HFQDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/HFQAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Config values as attributes
//===----------------------------------------------------------------------===//

Attribute hfq::jsonToAttribute(const spec::Json &value, MLIRContext *context) {
  Builder builder(context);
  switch (value.type()) {
  case spec::Json::value_t::null:
  case spec::Json::value_t::discarded:
    return NoneAttr::get(context);
  case spec::Json::value_t::boolean:
    return builder.getBoolAttr(value.get<bool>());
  case spec::Json::value_t::number_integer:
    return builder.getI64IntegerAttr(value.get<int64_t>());
  case spec::Json::value_t::number_unsigned:
    // Config integers beyond int64 do not occur; keep the bits.
    return builder.getI64IntegerAttr(
        static_cast<int64_t>(value.get<uint64_t>()));
  case spec::Json::value_t::number_float:
    return builder.getF64FloatAttr(value.get<double>());
  case spec::Json::value_t::string:
  case spec::Json::value_t::binary:
    return builder.getStringAttr(value.is_string() ? value.get<std::string>()
                                                   : std::string());
  case spec::Json::value_t::array: {
    SmallVector<Attribute> items;
    for (const spec::Json &item : value)
      items.push_back(jsonToAttribute(item, context));
    return builder.getArrayAttr(items);
  }
  case spec::Json::value_t::object: {
    SmallVector<NamedAttribute> entries;
    for (const auto &item : value.items())
      entries.emplace_back(builder.getStringAttr(item.key()),
                           jsonToAttribute(item.value(), context));
    return builder.getDictionaryAttr(entries);
  }
  }
  return NoneAttr::get(context);
}

namespace {

/// attributeToJson at nesting `depth`; on failure `pointer` is built on the
/// way back out, innermost token first.
std::optional<spec::Json> toJson(Attribute attr, std::size_t depth,
                                 std::vector<std::string> &pointer,
                                 std::string &problem) {
  if (isa<NoneAttr, UnitAttr>(attr))
    return spec::Json(nullptr);
  if (auto b = dyn_cast<BoolAttr>(attr))
    return spec::Json(b.getValue());
  if (auto i = dyn_cast<IntegerAttr>(attr)) {
    if (i.getType().isSignlessInteger(1))
      return spec::Json(i.getValue().getBoolValue());
    // Config ints are int64: read unsigned types as unsigned, and refuse a
    // value that does not fit rather than keep its low bits.
    const APInt &value = i.getValue();
    bool fits = i.getType().isUnsignedInteger()
                    ? value.getActiveBits() <= 63
                    : value.getSignificantBits() <= 64;
    if (!fits) {
      problem = "integer does not fit int64";
      return std::nullopt;
    }
    return spec::Json(i.getType().isUnsignedInteger()
                          ? static_cast<int64_t>(value.getZExtValue())
                          : value.getSExtValue());
  }
  if (auto f = dyn_cast<FloatAttr>(attr))
    return spec::Json(f.getValueAsDouble());
  if (auto s = dyn_cast<StringAttr>(attr))
    return spec::Json(s.getValue().str());
  bool array = isa<ArrayAttr>(attr), dict = isa<DictionaryAttr>(attr);
  if ((array || dict) && depth >= limits::kMaxJsonDepth) {
    problem = "nested deeper than " + std::to_string(limits::kMaxJsonDepth) +
              " levels " +
              spec::limitNote("kMaxJsonDepth", limits::kMaxJsonDepth);
    return std::nullopt;
  }
  if (auto a = dyn_cast<ArrayAttr>(attr)) {
    spec::Json out = spec::Json::array();
    for (auto [index, item] : llvm::enumerate(a)) {
      std::optional<spec::Json> value =
          toJson(item, depth + 1, pointer, problem);
      if (!value) {
        pointer.push_back(std::to_string(index));
        return std::nullopt;
      }
      out.push_back(std::move(*value));
    }
    return out;
  }
  if (auto d = dyn_cast<DictionaryAttr>(attr)) {
    spec::Json out = spec::Json::object();
    for (NamedAttribute entry : d) {
      std::optional<spec::Json> value =
          toJson(entry.getValue(), depth + 1, pointer, problem);
      if (!value) {
        pointer.push_back(spec::escapePointerToken(entry.getName().str()));
        return std::nullopt;
      }
      out[entry.getName().str()] = std::move(*value);
    }
    return out;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  problem = spec::quoteLimited(text) +
            " is not a JSON value (expected none, a bool, an integer, a "
            "float, a string, an array or a dictionary)";
  return std::nullopt;
}

} // namespace

std::optional<spec::Json> hfq::attributeToJson(Attribute attr,
                                               std::string &pointer,
                                               std::string &problem) {
  std::vector<std::string> tokens;
  std::optional<spec::Json> out = toJson(attr, 0, tokens, problem);
  pointer.clear();
  for (auto it = tokens.rbegin(); it != tokens.rend(); ++it)
    pointer += "/" + *it;
  return out;
}

std::optional<spec::Json> hfq::attributeToJson(Attribute attr) {
  std::string pointer, problem;
  return attributeToJson(attr, pointer, problem);
}

spec::Json MethodAttr::getConfigJson() const {
  std::optional<spec::Json> json = attributeToJson(getConfig());
  return json ? *json : spec::Json::object();
}

//===----------------------------------------------------------------------===//
// #hfq.layout
//===----------------------------------------------------------------------===//

LogicalResult LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<StringAttr> names,
                                 ArrayRef<Type> types,
                                 ArrayRef<StringAttr> argNames,
                                 DenseF64ArrayAttr argValues) {
  if (names.size() != types.size())
    return emitError() << "layout has " << names.size() << " tensor names but "
                       << types.size() << " types";
  for (Type type : types)
    if (!isa<RankedTensorType>(type))
      return emitError() << "layout tensor type must be a ranked tensor, got "
                         << type;
  if (!argValues || static_cast<size_t>(argValues.size()) != argNames.size())
    return emitError() << "layout has " << argNames.size()
                       << " argument names but "
                       << (argValues ? argValues.size() : 0) << " values";
  return success();
}

/// An argument value: integral ones as `4.0` (most are bits, sizes and
/// flags), the rest as MLIR prints floats; both round-trip exactly.
static void printArgValue(AsmPrinter &printer, double value) {
  if (std::trunc(value) == value && std::fabs(value) < 9007199254740992.0)
    printer << static_cast<int64_t>(value) << ".0";
  else
    printer.printFloat(APFloat(value));
}

void LayoutAttr::print(AsmPrinter &printer) const {
  printer << "<(";
  llvm::interleaveComma(
      llvm::zip(getNames(), getTypes()), printer, [&](auto tensor) {
        printer.printKeywordOrString(std::get<0>(tensor).getValue());
        printer << ": " << std::get<1>(tensor);
      });
  printer << ")";
  if (!getArgNames().empty()) {
    printer << ", args(";
    llvm::interleaveComma(llvm::zip(getArgNames(), getArgValues().asArrayRef()),
                          printer, [&](auto arg) {
                            printer.printKeywordOrString(
                                std::get<0>(arg).getValue());
                            printer << " = ";
                            printArgValue(printer, std::get<1>(arg));
                          });
    printer << ")";
  }
  printer << ">";
}

Attribute LayoutAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  SmallVector<StringAttr> names, argNames;
  SmallVector<Type> types;
  SmallVector<double> argValues;
  auto parseTensor = [&]() -> ParseResult {
    std::string name;
    Type type;
    if (parser.parseKeywordOrString(&name) || parser.parseColon() ||
        parser.parseType(type))
      return failure();
    names.push_back(StringAttr::get(ctx, name));
    types.push_back(type);
    return success();
  };
  // An argument is a number: an integer or a float literal.
  auto parseArg = [&]() -> ParseResult {
    std::string name;
    Attribute value;
    if (parser.parseKeywordOrString(&name) || parser.parseEqual())
      return failure();
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseAttribute(value))
      return failure();
    if (auto integer = dyn_cast<IntegerAttr>(value))
      argValues.push_back(integer.getValue().roundToDouble(
          /*isSigned=*/!integer.getType().isUnsignedInteger()));
    else if (auto number = dyn_cast<FloatAttr>(value))
      argValues.push_back(number.getValueAsDouble());
    else
      return parser.emitError(loc, "expected a number, got ") << value;
    argNames.push_back(StringAttr::get(ctx, name));
    return success();
  };
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Paren, parseTensor))
    return {};
  if (succeeded(parser.parseOptionalComma()) &&
      (parser.parseKeyword("args") ||
       parser.parseCommaSeparatedList(AsmParser::Delimiter::Paren, parseArg)))
    return {};
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(parser.getNameLoc()); }, ctx,
                    names, types, argNames,
                    DenseF64ArrayAttr::get(ctx, argValues));
}

//===----------------------------------------------------------------------===//
// #hfq.json
//===----------------------------------------------------------------------===//

JsonAttr JsonAttr::get(MLIRContext *context, const spec::Json &value) {
  std::string text =
      value.dump(-1, ' ', false, spec::Json::error_handler_t::replace);
  return Base::get(context, StringRef(text));
}

spec::Json JsonAttr::getJson() const {
  return spec::parseJson(getText().str()).value_or(spec::Json());
}

LogicalResult JsonAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               StringRef text) {
  if (!spec::parseJson(text.str()))
    return emitError() << "#hfq.json holds text that is not JSON";
  return success();
}

/// JSON in MLIR tokens: objects and arrays by their brackets, strings as MLIR
/// string literals, numbers as MLIR integers and floats (a float always has
/// its '.'), true, false and null as keywords.
static void printJson(AsmPrinter &printer, const spec::Json &value) {
  using spec::Json;
  switch (value.type()) {
  case Json::value_t::object:
    printer << "{";
    llvm::interleaveComma(value.items(), printer, [&](const auto &item) {
      printer.printString(item.key());
      printer << ": ";
      printJson(printer, item.value());
    });
    printer << "}";
    return;
  case Json::value_t::array:
    printer << "[";
    llvm::interleaveComma(value, printer,
                          [&](const Json &item) { printJson(printer, item); });
    printer << "]";
    return;
  case Json::value_t::string:
    printer.printString(value.get_ref<const std::string &>());
    return;
  case Json::value_t::boolean:
    printer << (value.get<bool>() ? "true" : "false");
    return;
  case Json::value_t::number_integer:
    printer << value.get<int64_t>();
    return;
  case Json::value_t::number_unsigned: {
    uint64_t number = value.get<uint64_t>();
    if (number <= static_cast<uint64_t>(INT64_MAX))
      printer << static_cast<int64_t>(number);
    else
      printer << number << " : ui64";
    return;
  }
  case Json::value_t::number_float:
    printer.printFloat(APFloat(value.get<double>()));
    return;
  case Json::value_t::null:
  case Json::value_t::binary:
  case Json::value_t::discarded:
    printer << "null";
    return;
  }
}

static FailureOr<spec::Json> parseJson(AsmParser &parser) {
  using spec::Json;
  if (succeeded(parser.parseOptionalLBrace())) {
    Json object = Json::object();
    if (succeeded(parser.parseOptionalRBrace()))
      return object;
    do {
      std::string key;
      if (parser.parseString(&key) || parser.parseColon())
        return failure();
      FailureOr<Json> value = parseJson(parser);
      if (failed(value))
        return failure();
      object[key] = std::move(*value);
    } while (succeeded(parser.parseOptionalComma()));
    if (parser.parseRBrace())
      return failure();
    return object;
  }
  Json array = Json::array();
  if (succeeded(parser.parseOptionalLSquare())) {
    if (succeeded(parser.parseOptionalRSquare()))
      return array;
    do {
      FailureOr<Json> item = parseJson(parser);
      if (failed(item))
        return failure();
      array.push_back(std::move(*item));
    } while (succeeded(parser.parseOptionalComma()));
    if (parser.parseRSquare())
      return failure();
    return array;
  }
  if (succeeded(parser.parseOptionalKeyword("null")))
    return Json();
  // Scalars are builtin attribute literals: strings, true/false, integers
  // (i64, or `: ui64`) and floats (f64).
  SMLoc loc = parser.getCurrentLocation();
  Attribute scalar;
  if (parser.parseAttribute(scalar))
    return failure();
  if (auto integer = dyn_cast<IntegerAttr>(scalar);
      integer && integer.getType().isUnsignedInteger(64))
    return Json(integer.getValue().getZExtValue());
  if (isa<StringAttr, BoolAttr, IntegerAttr, FloatAttr>(scalar))
    if (std::optional<Json> value = attributeToJson(scalar))
      return *value;
  return parser.emitError(loc, "expected a JSON value, got ") << scalar;
}

void JsonAttr::print(AsmPrinter &printer) const {
  printer << "<";
  printJson(printer, getJson());
  printer << ">";
}

Attribute JsonAttr::parse(AsmParser &parser, Type) {
  FailureOr<spec::Json> value;
  if (parser.parseLess() || failed(value = parseJson(parser)) ||
      parser.parseGreater())
    return {};
  return get(parser.getContext(), *value);
}
