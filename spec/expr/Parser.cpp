//===- Parser.cpp - Parser of the expression language ---------------------===//
//
// Recursive descent over the grammar of specs/README.md ("Expressions"),
// one function per rule. The parser's own recursion and the height of the
// tree it builds are both bounded by MaxDepth, so that the evaluator and the
// tree's destructor, which recurse over it, stay far from the stack limit.
// Calls are checked against the built-in table here, so a bad call is a
// load-time error.
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Parser.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace hfq::spec {
namespace expr {

namespace {

/// Recursive descent over the README grammar, one function per rule.
class Parser {
public:
  Parser(const std::string &source, const std::vector<Token> &tokens,
         const ExprFunctions &functions, ExprError &error)
      : source(source), tokens(tokens), functions(functions), error(error) {}

  NodePtr parseAll() {
    NodePtr root = parseExpr();
    if (!root)
      return nullptr;
    if (peek().kind != Tok::End)
      return unexpected();
    return root;
  }

private:
  /// Counts the parser's own recursion for the duration of one rule.
  class DepthGuard {
  public:
    explicit DepthGuard(std::size_t &depth) : depth(depth) { ++depth; }
    ~DepthGuard() { --depth; }
    DepthGuard(const DepthGuard &) = delete;
    DepthGuard &operator=(const DepthGuard &) = delete;

  private:
    std::size_t &depth;
  };

  const std::string &source;
  const std::vector<Token> &tokens;
  const ExprFunctions &functions;
  ExprError &error;
  std::size_t pos = 0;
  std::size_t depth = 0;

  const Token &peek(std::size_t ahead = 0) const {
    // The last token is always End; never read past it.
    std::size_t index = pos + ahead;
    return tokens[index < tokens.size() ? index : tokens.size() - 1];
  }

  const Token &advance() {
    const Token &token = peek();
    if (pos + 1 < tokens.size())
      ++pos;
    return token;
  }

  static bool isKeyword(const Token &token, const char *word) {
    return token.kind == Tok::Ident && token.text == word;
  }

  static bool isReserved(const Token &token) {
    static const char *const Words[] = {"and",   "or",    "not",  "in",
                                        "true",  "false", "null", "True",
                                        "False", "None"};
    if (token.kind != Tok::Ident)
      return false;
    for (const char *word : Words)
      if (token.text == word)
        return true;
    return false;
  }

  NodePtr fail(std::string message, std::size_t column) {
    error.message = std::move(message);
    error.column = column;
    return nullptr;
  }

  NodePtr unexpected() {
    const Token &token = peek();
    if (token.kind == Tok::End)
      return fail("expected an expression", token.column());
    return fail("unexpected '" +
                    source.substr(token.begin, token.end - token.begin) + "'",
                token.column());
  }

  bool expect(Tok kind, const char *spelling) {
    if (peek().kind == kind) {
      advance();
      return true;
    }
    fail(std::string("expected ") + spelling, peek().column());
    return false;
  }

  NodePtr makeNode(NodeKind kind, std::size_t column) {
    auto node = std::make_unique<ExprNode>();
    node->kind = kind;
    node->column = column;
    return node;
  }

  /// Attaches operands and enforces the height bound: left-associative
  /// chains such as 1+1+...+1 grow the tree without recursing in the parser.
  NodePtr withOperands(NodePtr node, std::vector<NodePtr> operands) {
    for (NodePtr &operand : operands)
      node->height = std::max(node->height, operand->height + 1);
    node->operands = std::move(operands);
    if (node->height > MaxDepth)
      return fail("expression nested too deeply", node->column);
    return node;
  }

  NodePtr makeBinary(BinaryOp op, std::size_t column, NodePtr lhs,
                     NodePtr rhs) {
    NodePtr node = makeNode(NodeKind::Binary, column);
    node->op = op;
    std::vector<NodePtr> operands;
    operands.push_back(std::move(lhs));
    operands.push_back(std::move(rhs));
    return withOperands(std::move(node), std::move(operands));
  }

  // expr := ternary
  NodePtr parseExpr() {
    DepthGuard guard(depth);
    if (depth > MaxDepth)
      return fail("expression nested too deeply", peek().column());
    return parseTernary();
  }

  // ternary := or ( '?' expr ':' expr )?
  NodePtr parseTernary() {
    NodePtr condition = parseOr();
    if (!condition || peek().kind != Tok::Question)
      return condition;
    std::size_t column = advance().column();
    NodePtr whenTrue = parseExpr();
    if (!whenTrue || !expect(Tok::Colon, "':'"))
      return nullptr;
    NodePtr whenFalse = parseExpr();
    if (!whenFalse)
      return nullptr;
    std::vector<NodePtr> operands;
    operands.push_back(std::move(condition));
    operands.push_back(std::move(whenTrue));
    operands.push_back(std::move(whenFalse));
    return withOperands(makeNode(NodeKind::Ternary, column),
                        std::move(operands));
  }

  /// One left-associative level, `operand ( op operand )*`, where `peekOp`
  /// names the level's operator at the current token. Chains such as
  /// 1+1+...+1 grow the tree (bounded in withOperands) without recursing.
  NodePtr parseLeftAssoc(NodePtr (Parser::*operand)(),
                         std::optional<BinaryOp> (Parser::*peekOp)() const) {
    NodePtr lhs = (this->*operand)();
    while (lhs) {
      std::optional<BinaryOp> op = (this->*peekOp)();
      if (!op)
        return lhs;
      std::size_t column = advance().column();
      NodePtr rhs = (this->*operand)();
      if (!rhs)
        return nullptr;
      lhs = makeBinary(*op, column, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  std::optional<BinaryOp> peekOr() const {
    return isKeyword(peek(), "or") ? std::optional(BinaryOp::Or) : std::nullopt;
  }

  std::optional<BinaryOp> peekAnd() const {
    return isKeyword(peek(), "and") ? std::optional(BinaryOp::And)
                                    : std::nullopt;
  }

  std::optional<BinaryOp> peekAdditive() const {
    switch (peek().kind) {
    case Tok::Plus:
      return BinaryOp::Add;
    case Tok::Minus:
      return BinaryOp::Sub;
    default:
      return std::nullopt;
    }
  }

  std::optional<BinaryOp> peekMultiplicative() const {
    switch (peek().kind) {
    case Tok::Star:
      return BinaryOp::Mul;
    case Tok::Slash:
      return BinaryOp::Div;
    case Tok::SlashSlash:
      return BinaryOp::FloorDiv;
    case Tok::Percent:
      return BinaryOp::Mod;
    default:
      return std::nullopt;
    }
  }

  // or := and ( 'or' and )*
  NodePtr parseOr() {
    return parseLeftAssoc(&Parser::parseAnd, &Parser::peekOr);
  }

  // and := not ( 'and' not )*
  NodePtr parseAnd() {
    return parseLeftAssoc(&Parser::parseNot, &Parser::peekAnd);
  }

  /// A prefix operator at the current token and its operand, parsed by
  /// `rule` (the operator's own rule, so the guard counts the recursion).
  NodePtr parsePrefix(NodeKind kind, NodePtr (Parser::*rule)()) {
    DepthGuard guard(depth);
    if (depth > MaxDepth)
      return fail("expression nested too deeply", peek().column());
    std::size_t column = advance().column();
    NodePtr operand = (this->*rule)();
    if (!operand)
      return nullptr;
    std::vector<NodePtr> operands;
    operands.push_back(std::move(operand));
    return withOperands(makeNode(kind, column), std::move(operands));
  }

  // not := 'not' not | cmp
  NodePtr parseNot() {
    if (!isKeyword(peek(), "not"))
      return parseCmp();
    return parsePrefix(NodeKind::Not, &Parser::parseNot);
  }

  /// The comparison operator at the current token, if any, and how many
  /// tokens it spans ('not in' takes two).
  std::optional<BinaryOp> peekComparison(std::size_t &length) const {
    length = 1;
    switch (peek().kind) {
    case Tok::EqEq:
      return BinaryOp::Eq;
    case Tok::NotEq:
      return BinaryOp::Ne;
    case Tok::Less:
      return BinaryOp::Lt;
    case Tok::LessEq:
      return BinaryOp::Le;
    case Tok::Greater:
      return BinaryOp::Gt;
    case Tok::GreaterEq:
      return BinaryOp::Ge;
    default:
      break;
    }
    if (isKeyword(peek(), "in"))
      return BinaryOp::In;
    if (isKeyword(peek(), "not") && isKeyword(peek(1), "in")) {
      length = 2;
      return BinaryOp::NotIn;
    }
    return std::nullopt;
  }

  // cmp := add ( cmpop add )?
  NodePtr parseCmp() {
    NodePtr lhs = parseAdd();
    std::size_t length = 0;
    std::optional<BinaryOp> op = lhs ? peekComparison(length) : std::nullopt;
    if (!op)
      return lhs;
    std::size_t column = peek().column();
    for (std::size_t k = 0; k < length; ++k)
      advance();
    NodePtr rhs = parseAdd();
    if (!rhs)
      return nullptr;
    // Python would chain `a < b < c`; the grammar has no chains, so say so
    // rather than report a bare unexpected token.
    if (peekComparison(length))
      return fail("comparisons cannot be chained; use 'and'", peek().column());
    return makeBinary(*op, column, std::move(lhs), std::move(rhs));
  }

  // add := mul ( ( '+' | '-' ) mul )*
  NodePtr parseAdd() {
    return parseLeftAssoc(&Parser::parseMul, &Parser::peekAdditive);
  }

  // mul := unary ( ( '*' | '/' | '//' | '%' ) unary )*
  NodePtr parseMul() {
    return parseLeftAssoc(&Parser::parseUnary, &Parser::peekMultiplicative);
  }

  // unary := '-' unary | postfix
  NodePtr parseUnary() {
    if (peek().kind != Tok::Minus)
      return parsePostfix();
    return parsePrefix(NodeKind::Neg, &Parser::parseUnary);
  }

  // postfix := primary ( '.' IDENT | '[' expr ']' )*
  NodePtr parsePostfix() {
    std::size_t begin = peek().begin;
    NodePtr base = parsePrimary();
    while (base) {
      std::string subjectText =
          source.substr(begin, tokens[pos - 1].end - begin);
      NodePtr node;
      if (peek().kind == Tok::Dot) {
        advance();
        if (peek().kind != Tok::Ident || isReserved(peek()))
          return fail("expected a name after '.'", peek().column());
        node = makeNode(NodeKind::Attr, peek().column());
        node->name = advance().text;
      } else if (peek().kind == Tok::LBracket) {
        node = makeNode(NodeKind::Index, advance().column());
        NodePtr index = parseExpr();
        if (!index || !expect(Tok::RBracket, "']'"))
          return nullptr;
        node->operands.push_back(std::move(index));
      } else {
        return base;
      }
      node->subjectText = std::move(subjectText);
      std::vector<NodePtr> operands;
      operands.push_back(std::move(base));
      for (NodePtr &operand : node->operands)
        operands.push_back(std::move(operand));
      base = withOperands(std::move(node), std::move(operands));
    }
    return base;
  }

  /// Parses `( expr ( ',' expr )* )? close` after an opening bracket.
  bool parseList(std::vector<NodePtr> &items, Tok close, const char *expected) {
    if (peek().kind == close) {
      advance();
      return true;
    }
    while (true) {
      NodePtr item = parseExpr();
      if (!item)
        return false;
      items.push_back(std::move(item));
      if (peek().kind == Tok::Comma) {
        advance();
        continue;
      }
      if (peek().kind == close) {
        advance();
        return true;
      }
      fail(expected, peek().column());
      return false;
    }
  }

  NodePtr literal(const Token &token, Json value) {
    NodePtr node = makeNode(NodeKind::Literal, token.column());
    node->value = std::move(value);
    return node;
  }

  // primary := INT | FLOAT | STRING | true | false | null | True | False
  //          | None | IDENT | IDENT '(' args ')' | '[' items ']' | '(' expr ')'
  NodePtr parsePrimary() {
    const Token &token = peek();
    switch (token.kind) {
    case Tok::Int:
      return literal(advance(), Json(token.intValue));
    case Tok::Float:
      return literal(advance(), Json(token.floatValue));
    case Tok::String:
      return literal(advance(), Json(token.text));
    case Tok::LParen: {
      advance();
      NodePtr inner = parseExpr();
      if (!inner || !expect(Tok::RParen, "')'"))
        return nullptr;
      return inner;
    }
    case Tok::LBracket: {
      NodePtr node = makeNode(NodeKind::List, advance().column());
      std::vector<NodePtr> items;
      if (!parseList(items, Tok::RBracket, "expected ',' or ']'"))
        return nullptr;
      return withOperands(std::move(node), std::move(items));
    }
    case Tok::Ident:
      return parseWord();
    default:
      return unexpected();
    }
  }

  /// An identifier-like primary: a keyword literal, a call or a name.
  NodePtr parseWord() {
    const Token &token = peek();
    if (token.text == "true" || token.text == "True")
      return literal(advance(), Json(true));
    if (token.text == "false" || token.text == "False")
      return literal(advance(), Json(false));
    if (token.text == "null" || token.text == "None")
      return literal(advance(), Json(nullptr));
    if (isReserved(token))
      return unexpected();
    if (peek(1).kind != Tok::LParen) {
      NodePtr node = makeNode(NodeKind::Name, token.column());
      node->name = advance().text;
      return node;
    }

    const BuiltinInfo *info = findBuiltin(token.text);
    if (!info)
      return parseUserCall();
    NodePtr node = makeNode(NodeKind::Call, token.column());
    node->name = token.text;
    node->builtin = info->id;
    advance(); // name
    advance(); // '('
    std::vector<NodePtr> args;
    if (!parseList(args, Tok::RParen, "expected ',' or ')'"))
      return nullptr;
    // Arity is checked here so that a bad call is a load-time error.
    if (args.size() < info->minArgs || args.size() > info->maxArgs) {
      std::string expected =
          info->minArgs == info->maxArgs
              ? "takes " + std::to_string(info->minArgs) +
                    (info->minArgs == 1 ? " argument" : " arguments")
              : "takes at least " + std::to_string(info->minArgs) + " argument";
      return fail(node->name + "() " + expected + " (" +
                      std::to_string(args.size()) + " given)",
                  node->column);
    }
    return withOperands(std::move(node), std::move(args));
  }

  /// A call of a spec-defined function, bound here to its definition.
  NodePtr parseUserCall() {
    const Token &token = peek();
    auto found = std::find_if(
        functions.begin(), functions.end(),
        [&](const auto &function) { return function->name == token.text; });
    if (found == functions.end())
      return fail("unknown function '" + token.text + "'", token.column());
    NodePtr node = makeNode(NodeKind::Call, token.column());
    node->name = token.text;
    node->builtin = Builtin::User;
    node->function = *found;
    advance(); // name
    advance(); // '('
    std::vector<NodePtr> args;
    if (!parseList(args, Tok::RParen, "expected ',' or ')'"))
      return nullptr;
    std::size_t arity = node->function->params.size();
    if (args.size() != arity)
      return fail(node->name + "() takes " + std::to_string(arity) +
                      (arity == 1 ? " argument" : " arguments") + " (" +
                      std::to_string(args.size()) + " given)",
                  node->column);
    return withOperands(std::move(node), std::move(args));
  }
};

} // namespace

NodePtr parseTokens(const std::string &source, const std::vector<Token> &tokens,
                    const ExprFunctions &functions, ExprError &error) {
  return Parser(source, tokens, functions, error).parseAll();
}

} // namespace expr
} // namespace hfq::spec
