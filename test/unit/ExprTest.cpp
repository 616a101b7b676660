//===- ExprTest.cpp - Unit tests for the spec expression language ---------===//
//
// Checks spec/Expr against the "Expressions" section of
// specs/README.md: every grammar production, Python arithmetic and
// comparison semantics, builtins, str()/repr(), templates, free names and
// error columns. Expected values are worked out by hand (and agree with
// CPython where the language follows Python).
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Expr.h"

#include <gtest/gtest.h>

#include <limits>

using hfq::spec::Expr;
using hfq::spec::ExprError;
using hfq::spec::Json;

namespace {

/// A scope with one value of every type, shaped like the environment scope.
Json testScope() {
  return Json::parse(R"({
    "bits": 4,
    "group_size": 128,
    "ratio": 0.5,
    "name": "gptq",
    "flag": true,
    "nothing": null,
    "modules": ["q_proj", "k_proj"],
    "empty": [],
    "target": {"cuda": true, "sm": 90, "name": "sm_90"},
    "big": 9223372036854775807,
    "huge": 18446744073709551615
  })");
}

/// Parses and evaluates `text`; returns repr() of the value (so "3" and
/// "3.0" tell int from float) or "error: <message at column N>".
std::string run(const std::string &text, const Json &scope = testScope()) {
  ExprError error;
  std::optional<Expr> expr = Expr::parse(text, error);
  if (!expr)
    return "parse error: " + error.str();
  std::optional<Json> value = expr->evaluate(scope, error);
  if (!value)
    return "error: " + error.str();
  return hfq::spec::pythonRepr(*value);
}

/// The parse error for `text`, or "" when it parses.
std::string parseError(const std::string &text) {
  ExprError error;
  if (Expr::parse(text, error))
    return "";
  return error.str();
}

std::set<std::string> freeNames(const std::string &text) {
  ExprError error;
  std::optional<Expr> expr = Expr::parse(text, error);
  EXPECT_TRUE(expr) << error.str();
  return expr ? expr->freeNames() : std::set<std::string>{};
}

std::string render(const std::string &tmpl, const Json &scope = testScope()) {
  ExprError error;
  std::optional<std::string> out =
      hfq::spec::renderTemplate(tmpl, scope, error);
  return out ? *out : "error: " + error.str();
}

} // namespace

TEST(ExprTest, Literals) {
  EXPECT_EQ(run("42"), "42");
  EXPECT_EQ(run("1.5"), "1.5");
  EXPECT_EQ(run("1."), "1.0");
  EXPECT_EQ(run(".25"), "0.25");
  EXPECT_EQ(run("1e-6"), "1e-06");
  EXPECT_EQ(run("2.5E+3"), "2500.0");
  EXPECT_EQ(run("9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(run("'it'"), "'it'");
  EXPECT_EQ(run("\"a\\\"b\""), "'a\"b'");
  EXPECT_EQ(run("'tab\\there\\n'"), "'tab\\there\\n'");
  EXPECT_EQ(run("'\\x41\\u00e9'"), "'A\xC3\xA9'");
  EXPECT_EQ(run("true"), "True");
  EXPECT_EQ(run("False"), "False");
  EXPECT_EQ(run("null"), "None");
  EXPECT_EQ(run("None"), "None");
  EXPECT_EQ(run("[]"), "[]");
  EXPECT_EQ(run("[1, 'a', [true]]"), "[1, 'a', [True]]");
}

TEST(ExprTest, LiteralErrors) {
  EXPECT_EQ(parseError("9223372036854775808"),
            "integer literal too large at column 1");
  EXPECT_EQ(parseError("1 + 12abc"), "invalid number at column 5");
  EXPECT_EQ(parseError("'abc"), "unterminated string at column 1");
  EXPECT_EQ(parseError("x + 'a\\q'"), "unknown escape '\\q' at column 7");
  EXPECT_EQ(parseError("'\\x4'"), "truncated \\x escape at column 2");
  EXPECT_EQ(parseError("'\\ud800'"), "surrogate in \\u escape at column 2");
  EXPECT_EQ(parseError("1e999"), "float literal out of range at column 1");
}

TEST(ExprTest, NamesAttributesAndIndexing) {
  EXPECT_EQ(run("bits"), "4");
  EXPECT_EQ(run("target.sm"), "90");
  EXPECT_EQ(run("target['name']"), "'sm_90'");
  EXPECT_EQ(run("modules[0]"), "'q_proj'");
  EXPECT_EQ(run("modules[-1]"), "'k_proj'");
  EXPECT_EQ(run("[[1, 2], [3]][0][1]"), "2");
  EXPECT_EQ(run("(target).cuda"), "True");
  EXPECT_EQ(run("bitz"), "error: unknown name 'bitz' at column 1");
  EXPECT_EQ(run("target.smm"), "error: 'target' has no key 'smm' at column 8");
  EXPECT_EQ(run("target['x']"), "error: 'target' has no key 'x' at column 7");
  EXPECT_EQ(run("bits.x"), "error: cannot read '.x' of 'int' at column 6");
  EXPECT_EQ(run("modules[2]"),
            "error: list index 2 out of range for length 2 at column 8");
  EXPECT_EQ(run("modules[-3]"),
            "error: list index -3 out of range for length 2 at column 8");
  EXPECT_EQ(run("modules['a']"),
            "error: list index must be an int, not 'str' at column 8");
  EXPECT_EQ(run("target[0]"),
            "error: dict key must be a str, not 'int' at column 7");
  EXPECT_EQ(run("name[0]"), "error: cannot index 'str' at column 5");
  // Names resolve in the scope object only.
  EXPECT_EQ(run("bits", Json::array()),
            "error: unknown name 'bits' at column 1");
}

TEST(ExprTest, IntArithmetic) {
  EXPECT_EQ(run("2 + 3 * 4"), "14");
  EXPECT_EQ(run("(2 + 3) * 4"), "20");
  EXPECT_EQ(run("10 - 4 - 3"), "3"); // Left-associative.
  EXPECT_EQ(run("7 / 2"), "3.5");
  EXPECT_EQ(run("6 / 3"), "2.0"); // True division always gives a float.
  EXPECT_EQ(run("7 // 2"), "3");
  EXPECT_EQ(run("-7 // 2"), "-4");
  EXPECT_EQ(run("7 // -2"), "-4");
  EXPECT_EQ(run("7 % 3"), "1");
  EXPECT_EQ(run("-7 % 3"), "2");
  EXPECT_EQ(run("7 % -3"), "-2");
  EXPECT_EQ(run("-(2 - 5)"), "3");
  EXPECT_EQ(run("--4"), "4");
  EXPECT_EQ(run("group_size // bits * 2"), "64");
}

TEST(ExprTest, FloatArithmetic) {
  EXPECT_EQ(run("0.1 + 0.2"), "0.30000000000000004");
  EXPECT_EQ(run("1 + 0.5"), "1.5");
  EXPECT_EQ(run("ratio * 4"), "2.0");
  EXPECT_EQ(run("7.5 // 2"), "3.0");
  EXPECT_EQ(run("-7.5 // 2"), "-4.0");
  EXPECT_EQ(run("-7.5 % 2"), "0.5");
  EXPECT_EQ(run("7.5 % -2"), "-0.5");
  EXPECT_EQ(run("-ratio"), "-0.5");
}

TEST(ExprTest, ArithmeticErrors) {
  EXPECT_EQ(run("1 / 0"), "error: division by zero at column 3");
  EXPECT_EQ(run("1 // 0"), "error: division by zero at column 3");
  EXPECT_EQ(run("bits % 0"), "error: division by zero at column 6");
  EXPECT_EQ(run("1.0 / 0.0"), "error: division by zero at column 5");
  EXPECT_EQ(run("big + 1"), "error: integer overflow in '+' at column 5");
  EXPECT_EQ(run("-big - 2"), "error: integer overflow in '-' at column 6");
  EXPECT_EQ(run("big * 2"), "error: integer overflow in '*' at column 5");
  EXPECT_EQ(run("(-big - 1) // -1"),
            "error: integer overflow in '//' at column 12");
  EXPECT_EQ(run("-(-big - 1)"), "error: integer overflow in '-' at column 1");
  EXPECT_EQ(run("(-big - 1) % -1"), "0");
  EXPECT_EQ(run("'a' - 1"),
            "error: unsupported operand types for '-': 'str' and 'int' at "
            "column 5");
  EXPECT_EQ(run("flag + 1"),
            "error: unsupported operand types for '+': 'bool' and 'int' at "
            "column 6");
  // JSON ints beyond int64 (parsed as unsigned) compute as floats.
  EXPECT_EQ(run("huge > big"), "True");
  EXPECT_EQ(run("huge + 1"), "1.8446744073709552e+19");
  EXPECT_EQ(run("-name"),
            "error: bad operand type for unary '-': 'str' at column 1");
}

TEST(ExprTest, Concatenation) {
  EXPECT_EQ(run("name + '-' + str(bits)"), "'gptq-4'");
  EXPECT_EQ(run("modules + ['v_proj']"), "['q_proj', 'k_proj', 'v_proj']");
  EXPECT_EQ(run("'a' + [1]"),
            "error: unsupported operand types for '+': 'str' and 'list' at "
            "column 5");
}

TEST(ExprTest, Comparisons) {
  EXPECT_EQ(run("1 == 1.0"), "True");
  EXPECT_EQ(run("[1, 'a'] == [1.0, 'a']"), "True");
  EXPECT_EQ(run("target == target"), "True");
  EXPECT_EQ(run("1 == '1'"), "False");
  EXPECT_EQ(run("null == None"), "True");
  EXPECT_EQ(run("bits != 8"), "True");
  EXPECT_EQ(run("bits < 8"), "True");
  EXPECT_EQ(run("bits <= 4"), "True");
  EXPECT_EQ(run("bits > 4.5"), "False");
  EXPECT_EQ(run("bits >= 4.0"), "True");
  EXPECT_EQ(run("'abc' < 'abd'"), "True");
  // Exact int/float comparison, as in Python: 2**53 + 1 > 2.0**53.
  EXPECT_EQ(run("9007199254740993 > 9007199254740992.0"), "True");
  EXPECT_EQ(run("'a' < 1"),
            "error: operator '<' cannot compare 'str' and 'int' at column 5");
  EXPECT_EQ(run("modules >= []"),
            "error: operator '>=' cannot compare 'list' and 'list' at "
            "column 9");
}

TEST(ExprTest, Membership) {
  EXPECT_EQ(run("'q_proj' in modules"), "True");
  EXPECT_EQ(run("'o_proj' not in modules"), "True");
  EXPECT_EQ(run("'pt' in name"), "True");
  EXPECT_EQ(run("'sm' in target"), "True");
  EXPECT_EQ(run("'cpu' not in target"), "True");
  EXPECT_EQ(run("1 in target"), "False");
  EXPECT_EQ(run("4.0 in [1, 4]"), "True");
  EXPECT_EQ(run("1 in name"),
            "error: operator 'in' needs a str on the left of a str, not 'int' "
            "at column 3");
  EXPECT_EQ(run("1 in bits"),
            "error: operator 'in' needs a list, str or dict on the right, not "
            "'int' at column 3");
}

TEST(ExprTest, Truthiness) {
  for (const char *falsy : {"null", "false", "0", "0.0", "''", "[]", "empty"})
    EXPECT_EQ(run(std::string("not ") + falsy), "True") << falsy;
  EXPECT_EQ(run("not target"), "False");
  EXPECT_EQ(run("not 'x'"), "False");
  EXPECT_EQ(run("not -0.5"), "False");
  EXPECT_TRUE(hfq::spec::isTruthy(Json::parse("{\"a\": 0}")));
  EXPECT_FALSE(hfq::spec::isTruthy(Json::object()));
  EXPECT_FALSE(hfq::spec::isTruthy(Json("")));
}

TEST(ExprTest, LogicShortCircuits) {
  EXPECT_EQ(run("bits and name"), "True"); // Always a bool, unlike Python.
  EXPECT_EQ(run("0 or []"), "False");
  EXPECT_EQ(run("false and undefined_name"), "False");
  EXPECT_EQ(run("true or undefined_name"), "True");
  EXPECT_EQ(run("true and undefined_name"),
            "error: unknown name 'undefined_name' at column 10");
  EXPECT_EQ(run("is_null(nothing) or nothing.x"), "True");
  EXPECT_EQ(run("flag ? 1 : undefined_name"), "1");
  EXPECT_EQ(run("flag ? undefined_name : 2"),
            "error: unknown name 'undefined_name' at column 8");
}

TEST(ExprTest, Precedence) {
  // not binds looser than comparison: not (bits == 8).
  EXPECT_EQ(run("not bits == 8"), "True");
  // and binds tighter than or.
  EXPECT_EQ(run("true or false and false"), "True");
  EXPECT_EQ(run("(true or false) and false"), "False");
  // Unary minus binds tighter than *, looser than postfix.
  EXPECT_EQ(run("-bits * 2"), "-8");
  EXPECT_EQ(run("-target.sm"), "-90");
  // + binds tighter than comparison and in.
  EXPECT_EQ(run("1 + 2 == 3"), "True");
  EXPECT_EQ(run("'q' + '_proj' in modules"), "True");
  // The ternary is lowest and right-associative.
  EXPECT_EQ(run("bits == 8 ? 'a' : bits == 4 ? 'b' : 'c'"), "'b'");
  EXPECT_EQ(run("false ? 1 : 2 + 3"), "5");
  EXPECT_EQ(run("0 or 1 ? 'y' : 'n'"), "'y'");
}

TEST(ExprTest, Builtins) {
  EXPECT_EQ(run("len(modules)"), "2");
  EXPECT_EQ(run("len(name)"), "4");
  EXPECT_EQ(run("len('\xC3\xA9t\xC3\xA9')"), "3"); // Code points, not bytes.
  EXPECT_EQ(run("len(target)"), "3");
  EXPECT_EQ(run("min(3, 1.5, 2)"), "1.5");
  EXPECT_EQ(run("max(bits, 8)"), "8");
  EXPECT_EQ(run("max([3, 7, 5])"), "7");
  EXPECT_EQ(run("min('b', 'a')"), "'a'");
  EXPECT_EQ(run("max(1, 1.0)"), "1"); // Ties keep the first.
  EXPECT_EQ(run("ceil_div(7, 2)"), "4");
  EXPECT_EQ(run("ceil_div(8, 2)"), "4");
  EXPECT_EQ(run("ceil_div(-7, 2)"), "-3");
  EXPECT_EQ(run("ceil_div(7, -2)"), "-3");
  EXPECT_EQ(run("ceil_div(-7, -2)"), "4");
  EXPECT_EQ(run("lower('SM_90a')"), "'sm_90a'");
  EXPECT_EQ(run("is_null(nothing)"), "True");
  EXPECT_EQ(run("is_null(0)"), "False");
  EXPECT_EQ(run("[type(1), type(1.0), type('s'), type(null)]"),
            "['int', 'float', 'str', 'NoneType']");
  EXPECT_EQ(run("[type(true), type([]), type(target)]"),
            "['bool', 'list', 'dict']");
  EXPECT_EQ(run("str(0.1) + str(null) + str(modules)"),
            "\"0.1None['q_proj', 'k_proj']\"");
}

TEST(ExprTest, BuiltinErrors) {
  EXPECT_EQ(parseError("foo(1)"), "unknown function 'foo' at column 1");
  EXPECT_EQ(parseError("1 + len(1, 2)"),
            "len() takes 1 argument (2 given) at column 5");
  EXPECT_EQ(parseError("ceil_div(1)"),
            "ceil_div() takes 2 arguments (1 given) at column 1");
  EXPECT_EQ(parseError("max()"),
            "max() takes at least 1 argument (0 given) at column 1");
  EXPECT_EQ(run("len(bits)"),
            "error: len() needs a str, list or dict, not 'int' at column 1");
  EXPECT_EQ(run("min(empty)"), "error: min() of an empty list at column 1");
  EXPECT_EQ(run("max(4)"),
            "error: max() of one argument needs a list, not 'int' at column 1");
  EXPECT_EQ(run("max(1, 'a')"),
            "error: max() cannot compare 'str' and 'int' at column 1");
  EXPECT_EQ(run("ceil_div(1, 0)"), "error: division by zero at column 1");
  EXPECT_EQ(run("ceil_div(1.0, 2)"),
            "error: ceil_div() needs two 64-bit ints, not 'float' and 'int' at "
            "column 1");
  EXPECT_EQ(run("lower(1)"),
            "error: lower() needs a str, not 'int' at column 1");
  // A bare builtin name is an ordinary scope lookup.
  EXPECT_EQ(run("len"), "error: unknown name 'len' at column 1");
}

TEST(ExprTest, SyntaxErrors) {
  EXPECT_EQ(parseError("(a + 1"), "expected ')' at column 7");
  EXPECT_EQ(parseError(""), "expected an expression at column 1");
  EXPECT_EQ(parseError("1 +"), "expected an expression at column 4");
  EXPECT_EQ(parseError("a $ b"), "unexpected character '$' at column 3");
  EXPECT_EQ(parseError("a = 1"),
            "unexpected '=' (use '==' to compare) at column 3");
  EXPECT_EQ(parseError("a b"), "unexpected 'b' at column 3");
  EXPECT_EQ(parseError("[1, 2"), "expected ',' or ']' at column 6");
  EXPECT_EQ(parseError("len(a b)"), "expected ',' or ')' at column 7");
  EXPECT_EQ(parseError("a ? b"), "expected ':' at column 6");
  EXPECT_EQ(parseError("a[1"), "expected ']' at column 4");
  EXPECT_EQ(parseError("a.1"), "unexpected '.1' at column 2");
  EXPECT_EQ(parseError("a.and"), "expected a name after '.' at column 3");
  EXPECT_EQ(parseError("1 < 2 < 3"),
            "comparisons cannot be chained; use 'and' at column 7");
  EXPECT_EQ(parseError("a and or b"), "unexpected 'or' at column 7");
  EXPECT_EQ(parseError("[1,]"), "unexpected ']' at column 4");
}

TEST(ExprTest, NestingLimit) {
  std::string deep(250, '(');
  deep += "1" + std::string(250, ')');
  EXPECT_EQ(parseError(deep), "expression nested too deeply at column 201");
  std::string shallow(150, '(');
  shallow += "1" + std::string(150, ')');
  EXPECT_EQ(run(shallow), "1");
  std::string longSum = "1";
  for (int k = 0; k < 300; ++k)
    longSum += "+1";
  EXPECT_EQ(parseError(longSum), "expression nested too deeply at column 400");
  std::string nots;
  for (int k = 0; k < 300; ++k)
    nots += "not ";
  EXPECT_EQ(parseError(nots + "x"),
            "expression nested too deeply at column 797");
}

TEST(ExprTest, FreeNames) {
  EXPECT_EQ(freeNames("target.sm >= 80 and len(modules) > bits"),
            (std::set<std::string>{"bits", "modules", "target"}));
  EXPECT_EQ(freeNames("a[b].c ? d : -e"),
            (std::set<std::string>{"a", "b", "d", "e"}));
  EXPECT_EQ(freeNames("max(1, 2) + [x][0]"), (std::set<std::string>{"x"}));
  EXPECT_TRUE(freeNames("true or None").empty());
}

TEST(ExprTest, EvaluateCondition) {
  ExprError error;
  std::optional<Expr> expr = Expr::parse("len(modules) and target.cuda", error);
  ASSERT_TRUE(expr);
  EXPECT_EQ(expr->text(), "len(modules) and target.cuda");
  EXPECT_EQ(expr->evaluateCondition(testScope(), error), true);
  std::optional<Expr> empty = Expr::parse("empty", error);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->evaluateCondition(testScope(), error), false);
  // A default-constructed Expr reports instead of crashing.
  EXPECT_FALSE(Expr().evaluate(testScope(), error));
  EXPECT_EQ(error.str(), "empty expression");
}

TEST(ExprTest, IntResultsAreIntegers) {
  // An int result must be number_integer, not unsigned or float, so that
  // it serializes and compares as the spec author expects.
  ExprError error;
  std::optional<Expr> expr = Expr::parse("len(modules) * bits", error);
  ASSERT_TRUE(expr);
  std::optional<Json> value = expr->evaluate(testScope(), error);
  ASSERT_TRUE(value);
  EXPECT_EQ(value->type(), Json::value_t::number_integer);
  EXPECT_EQ(*value, Json(8));
}

TEST(ExprTest, PythonStrAndRepr) {
  using hfq::spec::pythonRepr;
  using hfq::spec::pythonStr;
  EXPECT_EQ(pythonStr(Json(nullptr)), "None");
  EXPECT_EQ(pythonStr(Json(true)), "True");
  EXPECT_EQ(pythonStr(Json(-3)), "-3");
  EXPECT_EQ(pythonStr(Json(18446744073709551615u)), "18446744073709551615");
  EXPECT_EQ(pythonStr(Json(0.1)), "0.1");
  EXPECT_EQ(pythonStr(Json(6.0)), "6.0");
  EXPECT_EQ(pythonStr(Json(-0.0)), "-0.0");
  EXPECT_EQ(pythonStr(Json(1e-06)), "1e-06");
  EXPECT_EQ(pythonStr(Json(0.0001)), "0.0001");
  EXPECT_EQ(pythonStr(Json(1e16)), "1e+16");
  EXPECT_EQ(pythonStr(Json(1234567890123456.0)), "1234567890123456.0");
  EXPECT_EQ(pythonStr(Json(1.5e300)), "1.5e+300");
  EXPECT_EQ(pythonStr(Json(std::numeric_limits<double>::infinity())), "inf");
  EXPECT_EQ(pythonStr(Json("it's")), "it's");
  EXPECT_EQ(pythonRepr(Json("it")), "'it'");
  EXPECT_EQ(pythonRepr(Json("it's")), "\"it's\"");
  EXPECT_EQ(pythonRepr(Json("'\"")), "'\\'\"'");
  EXPECT_EQ(pythonRepr(Json("a\\b\n\x01")), "'a\\\\b\\n\\x01'");
  EXPECT_EQ(pythonRepr(Json("\xC3\xA9\xC2\x85")), "'\xC3\xA9\\x85'");
  EXPECT_EQ(pythonStr(Json::parse(R"(["a", 1, null, 2.5])")),
            "['a', 1, None, 2.5]");
  EXPECT_EQ(pythonStr(Json::parse(R"({"k": 1, "a": {"b": [true]}})")),
            "{'k': 1, 'a': {'b': [True]}}");
  EXPECT_EQ(pythonStr(Json::object()), "{}");
  EXPECT_EQ(hfq::spec::pythonTypeName(Json(2u)), "int");
}

TEST(ExprTest, Templates) {
  EXPECT_EQ(render("bits={bits}, ratio={ratio}"), "bits=4, ratio=0.5");
  EXPECT_EQ(render("{modules} on {target.name}"),
            "['q_proj', 'k_proj'] on sm_90");
  EXPECT_EQ(render("{{literal}} {name}"), "{literal} gptq");
  EXPECT_EQ(render("{'}' + name}"), "}gptq");
  EXPECT_EQ(render("no placeholders"), "no placeholders");
  EXPECT_EQ(render("a {bits"), "error: unbalanced '{' at column 3");
  EXPECT_EQ(render("a } b"), "error: unbalanced '}' at column 3");
  EXPECT_EQ(render("x {}"), "error: expected an expression at column 4");
  EXPECT_EQ(render("x {(bits}"), "error: expected ')' at column 9");
  EXPECT_EQ(render("x {bits // 0}"), "error: division by zero at column 9");
  EXPECT_EQ(render("{missing}"), "error: unknown name 'missing' at column 2");
}

TEST(ExprTest, CheckTemplate) {
  std::set<std::string> names{"already"};
  ExprError error;
  EXPECT_TRUE(hfq::spec::checkTemplate(
      "{bits} bits, {{not}} {target.sm + len(extra)}", names, error));
  EXPECT_EQ(names,
            (std::set<std::string>{"already", "bits", "extra", "target"}));
  EXPECT_FALSE(hfq::spec::checkTemplate("ok {a +}", names, error));
  EXPECT_EQ(error.str(), "expected an expression at column 8");
}

TEST(ExprTest, BuiltinFunctionNames) {
  EXPECT_EQ(hfq::spec::builtinFunctionNames(),
            (std::vector<std::string>{"len", "min", "max", "ceil_div", "lower",
                                      "is_null", "type", "str", "repr", "get",
                                      "dict"}));
}
