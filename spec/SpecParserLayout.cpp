//===- SpecParserLayout.cpp - Reading a quantizer's checkpoint layouts ----===//
//
// A `layouts` entry: when it applies, the parameters it derives (each in
// scope for the ones after it), the requirements whose messages explain an
// unsupported config, the kernel arguments, and the checkpoint tensors with
// their element types and shape expressions. Layout.cpp evaluates what this
// reads for one layer.
//
//===----------------------------------------------------------------------===//

#include "spec/SpecParser.h"

namespace hfq::spec {

bool SpecParser::parseLayout(const Node &node, Names scope,
                             LayoutSpec &layout) {
  if (!expectObject(node, {"when", "params", "require", "tensors", "args"},
                    {"tensors"}))
    return false;
  layout.pointer = node.pointer;
  if (node.has("when")) {
    layout.when.emplace();
    if (!getExpr(node.child("when"), scope, *layout.when))
      return false;
  }
  if (node.has("params") && !parseNamedExprs(node.child("params"), scope,
                                             /*bindNames=*/true, layout.params))
    return false;
  if (node.has("require") &&
      !parseRequirements(node.child("require"), scope, layout))
    return false;
  if (node.has("args") && !parseNamedExprs(node.child("args"), scope,
                                           /*bindNames=*/false, layout.args))
    return false;
  return parseTensors(node.child("tensors"), scope, layout);
}

bool SpecParser::parseNamedExprs(
    const Node &node, Names &scope, bool bindNames,
    std::vector<std::pair<std::string, Expr>> &out) {
  if (!expectType(node, node.value.is_object(), "an object"))
    return false;
  for (const auto &entry : node.value.items()) {
    Expr value;
    if (!getExpr(node.child(entry.key()), scope, value))
      return false;
    out.emplace_back(entry.key(), value);
    if (bindNames)
      scope.insert(entry.key());
  }
  return true;
}

bool SpecParser::parseRequirements(const Node &require, const Names &scope,
                                   LayoutSpec &layout) {
  if (!expectType(require, require.value.is_array(), "a list"))
    return false;
  for (size_t i = 0; i < require.value.size(); ++i) {
    Node item = require.item(i);
    Requirement req;
    if (!expectObject(item, {"when", "message"}, {"when", "message"}) ||
        !getExpr(item.child("when"), scope, req.when) ||
        !getTemplate(item.child("message"), scope, req.message))
      return false;
    layout.requirements.push_back(std::move(req));
  }
  return true;
}

bool SpecParser::parseTensors(const Node &tensors, const Names &scope,
                              LayoutSpec &layout) {
  // A layout without tensors is a guard: its `require` entries explain why a
  // config has no layout (an unsupported format, say).
  if (!tensors.value.is_array())
    return fail(tensors.pointer, "expected a list of tensors");
  if (tensors.value.empty() && layout.requirements.empty())
    return fail(tensors.pointer, "a layout without tensors must have "
                                 "'require' entries saying why");
  for (size_t i = 0; i < tensors.value.size(); ++i) {
    TensorSpec tensor;
    if (!parseTensor(tensors.item(i), scope, layout, tensor))
      return false;
    layout.tensors.push_back(std::move(tensor));
  }
  return true;
}

/// One tensor: a literal element type name or an expression yielding one,
/// and dimensions that are integers or expressions.
bool SpecParser::parseTensor(const Node &item, const Names &scope,
                             const LayoutSpec &layout, TensorSpec &tensor) {
  if (!expectObject(item, {"name", "dtype", "shape", "when"},
                    {"name", "dtype", "shape"}) ||
      !getString(item.child("name"), tensor.name))
    return false;
  // One name may be declared twice under different `when`s (a scale whose
  // shape depends on the strategy); both unconditional is a mistake.
  for (const TensorSpec &other : layout.tensors)
    if (other.name == tensor.name && !other.when && !item.has("when"))
      return fail(item.pointer + "/name",
                  "tensor '" + tensor.name +
                      "' is declared twice (give each a 'when')");
  std::string dtype;
  if (!getString(item.child("dtype"), dtype))
    return false;
  if (isElementTypeName(dtype)) {
    ExprError ignored;
    tensor.dtype = *Expr::parse("'" + dtype + "'", ignored);
  } else if (!getExpr(item.child("dtype"), scope, tensor.dtype)) {
    return false;
  }
  Node shape = item.child("shape");
  if (!shape.value.is_array())
    return fail(shape.pointer, "expected a list of dimension expressions");
  for (size_t d = 0; d < shape.value.size(); ++d) {
    Node dim = shape.item(d);
    Expr dimExpr;
    if (dim.value.is_number_integer()) {
      ExprError ignored;
      dimExpr = *Expr::parse(std::to_string(dim.value.get<int64_t>()), ignored);
    } else if (!getExpr(dim, scope, dimExpr)) {
      return false;
    }
    tensor.shape.push_back(dimExpr);
  }
  if (item.has("when")) {
    tensor.when.emplace();
    if (!getExpr(item.child("when"), scope, *tensor.when))
      return false;
  }
  return true;
}

} // namespace hfq::spec
