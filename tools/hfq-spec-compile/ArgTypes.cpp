//===- ArgTypes.cpp - The static type of a spec expression ----------------===//
//
// A recursive-descent pass over the grammar of specs/README.md
// ("Expressions") that computes types instead of values. The registry has
// already parsed every expression with the real parser, so this one only
// needs to follow the grammar, not to diagnose it; a text it cannot follow
// is reported (a grammar change that this file missed), never guessed.
//
//===----------------------------------------------------------------------===//

#include "tools/hfq-spec-compile/ArgTypes.h"

#include <cctype>
#include <cstdlib>
#include <initializer_list>
#include <vector>

namespace hfq::speccompile {

using Kind = ArgType::Kind;

const char *ArgType::name() const {
  static const char *const kNames[] = {"unknown", "null",   "bool", "int",
                                       "float",   "string", "list", "dict"};
  return kNames[static_cast<int>(kind)];
}

ArgType fieldArgType(const spec::FieldType &type) {
  using FieldKind = spec::FieldType::Kind;
  switch (type.kind) {
  case FieldKind::Bool:
    return ArgType::of(Kind::Bool);
  case FieldKind::Int:
    return ArgType::of(Kind::Int);
  case FieldKind::Float:
  case FieldKind::Number:
    return ArgType::of(Kind::Float);
  case FieldKind::String:
  case FieldKind::Dtype:
    return ArgType::of(Kind::String);
  case FieldKind::List: {
    ArgType list = ArgType::of(Kind::List);
    list.element = std::make_shared<ArgType>(fieldArgType(*type.element));
    return list;
  }
  case FieldKind::Dict:
    return ArgType::of(Kind::Object);
  case FieldKind::Any:
    break;
  }
  return ArgType::of(Kind::Unknown);
}

static bool isNumeric(Kind kind) {
  return kind == Kind::Bool || kind == Kind::Int || kind == Kind::Float;
}

ArgType joinArgTypes(const ArgType &a, const ArgType &b) {
  // Codes survive only where both sides are codes: `g == null ? 0 : g` is
  // an int, not the code 0.
  ArgType out;
  if (a.kind == Kind::Unknown || a.kind == Kind::Null)
    out = b.kind == Kind::Null ? ArgType::of(Kind::Unknown) : b;
  else if (b.kind == Kind::Unknown || b.kind == Kind::Null)
    out = a;
  else if (a.kind == b.kind)
    out = a;
  else if (isNumeric(a.kind) && isNumeric(b.kind))
    out.kind = a.kind == Kind::Float || b.kind == Kind::Float ? Kind::Float
                                                              : Kind::Int;
  else
    return ArgType::of(Kind::Unknown);
  out.codes.reset();
  if (a.codes && b.codes) {
    out.codes = *a.codes;
    out.codes->insert(b.codes->begin(), b.codes->end());
  }
  return out;
}

namespace {

struct Token {
  enum class Type { Int, Float, String, Name, Op, End };
  Type type = Type::End;
  std::string text;
  int64_t value = 0;
};

bool lex(const std::string &src, std::vector<Token> &tokens,
         std::string &error) {
  size_t pos = 0;
  while (pos < src.size()) {
    const char c = src[pos];
    Token token;
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++pos;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t end = pos;
      while (end < src.size() &&
             std::isdigit(static_cast<unsigned char>(src[end])))
        ++end;
      bool isFloat = false;
      if (end + 1 < src.size() && src[end] == '.' &&
          std::isdigit(static_cast<unsigned char>(src[end + 1]))) {
        isFloat = true;
        for (++end; end < src.size() &&
                    std::isdigit(static_cast<unsigned char>(src[end]));)
          ++end;
      }
      if (end < src.size() && (src[end] == 'e' || src[end] == 'E')) {
        isFloat = true;
        ++end;
        if (end < src.size() && (src[end] == '+' || src[end] == '-'))
          ++end;
        while (end < src.size() &&
               std::isdigit(static_cast<unsigned char>(src[end])))
          ++end;
      }
      token.type = isFloat ? Token::Type::Float : Token::Type::Int;
      token.text = src.substr(pos, end - pos);
      if (!isFloat)
        token.value = std::strtoll(token.text.c_str(), nullptr, 10);
      pos = end;
    } else if (c == '\'' || c == '"') {
      size_t end = pos + 1;
      while (end < src.size() && src[end] != c)
        end += src[end] == '\\' ? 2 : 1;
      if (end >= src.size()) {
        error = "unterminated string";
        return false;
      }
      token.type = Token::Type::String;
      pos = end + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = pos;
      while (end < src.size() &&
             (std::isalnum(static_cast<unsigned char>(src[end])) ||
              src[end] == '_'))
        ++end;
      token.type = Token::Type::Name;
      token.text = src.substr(pos, end - pos);
      pos = end;
    } else {
      static const char *const kTwo[] = {"==", "!=", "<=", ">=", "//"};
      token.type = Token::Type::Op;
      for (const char *two : kTwo)
        if (src.compare(pos, 2, two) == 0)
          token.text = two;
      if (token.text.empty()) {
        if (std::string("<>+-*/%()[],.?:").find(c) == std::string::npos) {
          error = std::string("unexpected character '") + c + "'";
          return false;
        }
        token.text = std::string(1, c);
      }
      pos += token.text.size();
    }
    tokens.push_back(std::move(token));
  }
  tokens.push_back(Token());
  return true;
}

/// One pass over the tokens, one method per grammar rule.
class TypeParser {
public:
  TypeParser(const std::vector<Token> &tokens,
             const std::map<std::string, ArgType> &scope)
      : tokens(tokens), scope(scope) {}

  bool run(ArgType &out, std::string &error) {
    out = expr();
    if (failure.empty() && peek().type != Token::Type::End)
      failure = "unexpected '" + peek().text + "'";
    error = failure;
    return failure.empty();
  }

private:
  const std::vector<Token> &tokens;
  const std::map<std::string, ArgType> &scope;
  size_t pos = 0;
  std::string failure;

  const Token &peek(size_t ahead = 0) const {
    return tokens[std::min(pos + ahead, tokens.size() - 1)];
  }
  bool isOp(const char *op, size_t ahead = 0) const {
    return peek(ahead).type == Token::Type::Op && peek(ahead).text == op;
  }
  bool isWord(const char *word, size_t ahead = 0) const {
    return peek(ahead).type == Token::Type::Name && peek(ahead).text == word;
  }
  bool accept(const char *op) {
    if (!isOp(op))
      return false;
    ++pos;
    return true;
  }
  void expect(const char *op) {
    if (!accept(op) && failure.empty())
      failure = std::string("expected '") + op + "'";
  }

  static ArgType boolean() { return ArgType::of(Kind::Bool); }

  ArgType expr() {
    ArgType cond = orExpr();
    if (!accept("?"))
      return cond;
    ArgType yes = expr();
    expect(":");
    ArgType no = expr();
    return joinArgTypes(yes, no);
  }

  /// `next ( word next )*`: a bool when `word` (`or`, `and`) occurs.
  ArgType logical(const char *word, ArgType (TypeParser::*next)()) {
    ArgType first = (this->*next)();
    if (!isWord(word))
      return first;
    while (isWord(word)) {
      ++pos;
      (this->*next)();
    }
    return boolean();
  }

  ArgType orExpr() { return logical("or", &TypeParser::andExpr); }

  ArgType andExpr() { return logical("and", &TypeParser::notExpr); }

  ArgType notExpr() {
    if (isWord("not")) {
      ++pos;
      notExpr();
      return boolean();
    }
    return comparison();
  }

  ArgType comparison() {
    ArgType left = additive();
    static const char *const kOps[] = {"==", "!=", "<", "<=", ">", ">="};
    bool compares = isWord("in") || (isWord("not") && isWord("in", 1));
    for (const char *op : kOps)
      compares = compares || isOp(op);
    if (!compares)
      return left;
    pos += isWord("not") ? 2 : 1;
    additive();
    return boolean();
  }

  static ArgType arithmetic(const std::string &op, const ArgType &a,
                            const ArgType &b) {
    if (op == "+" && a.kind == b.kind &&
        (a.kind == Kind::String || a.kind == Kind::List))
      return ArgType::of(a.kind);
    if (!isNumeric(a.kind) || !isNumeric(b.kind))
      return ArgType::of(Kind::Unknown);
    if (op == "/" || a.kind == Kind::Float || b.kind == Kind::Float)
      return ArgType::of(Kind::Float);
    return ArgType::of(Kind::Int);
  }

  /// A left-associative chain of `ops` over operands parsed by `next`.
  ArgType chain(std::initializer_list<const char *> ops,
                ArgType (TypeParser::*next)()) {
    ArgType left = (this->*next)();
    for (;;) {
      const char *op = nullptr;
      for (const char *candidate : ops)
        if (isOp(candidate))
          op = candidate;
      if (!op)
        return left;
      ++pos;
      left = arithmetic(op, left, (this->*next)());
    }
  }

  ArgType additive() { return chain({"+", "-"}, &TypeParser::multiplicative); }

  ArgType multiplicative() {
    return chain({"*", "/", "//", "%"}, &TypeParser::unary);
  }

  ArgType unary() {
    if (!accept("-"))
      return postfix();
    ArgType operand = unary();
    if (!isNumeric(operand.kind))
      return ArgType::of(Kind::Unknown);
    ArgType out =
        ArgType::of(operand.kind == Kind::Float ? Kind::Float : Kind::Int);
    if (operand.codes) {
      out.codes.emplace();
      for (int64_t v : *operand.codes)
        out.codes->insert(-v);
    }
    return out;
  }

  ArgType postfix() {
    ArgType value = primary();
    while (failure.empty()) {
      if (accept(".")) {
        if (peek().type != Token::Type::Name) {
          failure = "expected a name after '.'";
          break;
        }
        ++pos;
        value = ArgType::of(Kind::Unknown);
      } else if (accept("[")) {
        expr();
        expect("]");
        if (value.kind == Kind::List && value.element)
          // Copied first: assigning *value.element to value drops the
          // last reference to the element while it is still being read
          // (a heap use-after-free ASan found).
          value = ArgType(*value.element);
        else if (value.kind != Kind::String)
          value = ArgType::of(Kind::Unknown);
      } else {
        break;
      }
    }
    return value;
  }

  /// `( expr, ... )` after a function name, or `[ expr, ... ]`: the join of
  /// the elements (strict: one Unknown makes it Unknown).
  ArgType sequence(const char *close) {
    ArgType joined = ArgType::of(Kind::Null);
    bool unknown = false;
    while (failure.empty() && !accept(close)) {
      ArgType item = expr();
      unknown = unknown || item.kind == Kind::Unknown;
      joined = joinArgTypes(joined, item);
      if (!isOp(close))
        expect(",");
    }
    return unknown ? ArgType::of(Kind::Unknown) : joined;
  }

  ArgType call(const std::string &function) {
    ArgType args = sequence(")");
    if (function == "len" || function == "ceil_div")
      return ArgType::of(Kind::Int);
    if (function == "min" || function == "max")
      return args;
    if (function == "is_null")
      return boolean();
    if (function == "lower" || function == "str" || function == "type")
      return ArgType::of(Kind::String);
    return ArgType::of(Kind::Unknown);
  }

  ArgType primary() {
    const Token token = peek();
    ++pos;
    switch (token.type) {
    case Token::Type::Int: {
      ArgType out = ArgType::of(Kind::Int);
      out.codes = std::set<int64_t>{token.value};
      return out;
    }
    case Token::Type::Float:
      return ArgType::of(Kind::Float);
    case Token::Type::String:
      return ArgType::of(Kind::String);
    case Token::Type::Name: {
      const std::string &name = token.text;
      if (name == "true" || name == "false" || name == "True" ||
          name == "False")
        return boolean();
      if (name == "null" || name == "None")
        return ArgType::of(Kind::Null);
      if (accept("("))
        return call(name);
      auto found = scope.find(name);
      return found == scope.end() ? ArgType::of(Kind::Unknown) : found->second;
    }
    case Token::Type::Op:
      if (token.text == "(") {
        ArgType inner = expr();
        expect(")");
        return inner;
      }
      if (token.text == "[") {
        ArgType list = ArgType::of(Kind::List);
        list.element = std::make_shared<ArgType>(sequence("]"));
        return list;
      }
      break;
    case Token::Type::End:
      break;
    }
    if (failure.empty())
      failure = "unexpected '" + token.text + "'";
    return ArgType::of(Kind::Unknown);
  }
};

} // namespace

bool inferArgType(const std::string &text,
                  const std::map<std::string, ArgType> &scope, ArgType &out,
                  std::string &error) {
  std::vector<Token> tokens;
  if (!lex(text, tokens, error))
    return false;
  return TypeParser(tokens, scope).run(out, error);
}

} // namespace hfq::speccompile
