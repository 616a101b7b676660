//===- Ast.h - Syntax tree of the expression language -----------*- C++ -*-===//
//
// Private to spec/expr: the tree the parser builds and the evaluator walks,
// the built-in function table both consult, and the nesting bound that keeps
// every recursion over a tree far from the stack limit. Expr.h only
// forward-declares ExprNode, so none of this is visible outside the folder.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_EXPR_AST_H
#define HFQ_SPEC_EXPR_AST_H

#include "spec/Limits.h"
#include "spec/expr/Expr.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace hfq::spec {
namespace expr {

/// Deeper than any real spec needs, shallow enough that every recursion
/// over an expression tree is cheap on the stack (spec/Limits.h).
constexpr std::size_t MaxDepth = limits::kMaxExprDepth;

enum class NodeKind {
  Literal,
  Name,
  Attr,
  Index,
  Call,
  List,
  Neg,
  Not,
  Ternary,
  Binary,
  /// A template: the concatenation of its operands' str().
  Format
};

enum class BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  FloorDiv,
  Mod,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  In,
  NotIn,
  And,
  Or
};

enum class Builtin {
  Len,
  Min,
  Max,
  CeilDiv,
  Lower,
  IsNull,
  Type,
  Str,
  Repr,
  Get,
  Dict,
  /// A spec-defined function (ExprNode::function).
  User
};

struct BuiltinInfo {
  const char *name;
  Builtin id;
  std::size_t minArgs;
  std::size_t maxArgs;
};

/// The built-in function called `name`, or null when there is none.
const BuiltinInfo *findBuiltin(const std::string &name);

/// The operator as it is written in expressions ("//", "not in").
const char *binaryOpSpelling(BinaryOp op);

} // namespace expr

/// One node of a parsed expression; immutable once parsed.
class ExprNode {
public:
  expr::NodeKind kind = expr::NodeKind::Literal;
  /// 1-based column that errors about this node point at (the operator,
  /// name or bracket).
  std::size_t column = 0;
  /// Longest path to a leaf, counting this node; bounded by MaxDepth.
  std::size_t height = 1;
  /// Literal: the value.
  Json value;
  /// Name: the name; Attr: the key; Call: the function.
  std::string name;
  /// Attr, Index: source text of the operand, quoted in missing-key errors.
  std::string subjectText;
  expr::BinaryOp op = expr::BinaryOp::Add;
  expr::Builtin builtin = expr::Builtin::Len;
  /// Call of Builtin::User: the function called.
  std::shared_ptr<const ExprFunction> function;
  std::vector<std::unique_ptr<ExprNode>> operands;
};

namespace expr {
using NodePtr = std::unique_ptr<ExprNode>;
} // namespace expr

} // namespace hfq::spec

#endif // HFQ_SPEC_EXPR_AST_H
