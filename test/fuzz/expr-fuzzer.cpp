//===- expr-fuzzer.cpp - libFuzzer target for the expression language ------===//
//
// Parses arbitrary text as an expression and as a message template, and
// evaluates what parses in a scope with values of every JSON type.
//
//===----------------------------------------------------------------------===//

#include "spec/expr/Expr.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using hfq::spec::Json;
  std::string text(reinterpret_cast<const char *>(data), size);
  static const Json scope = Json::parse(R"({
    "bits": 4, "group_size": 128, "sym": true, "desc_act": false,
    "ratio": 0.1, "name": "gptq", "none": null, "K": 4096, "N": 11008,
    "list": [1, 2.5, "a", null, [3]], "target": {"sm": 90, "cuda": true},
    "big": 9223372036854775807, "small": -9223372036854775808
  })");
  hfq::spec::ExprError error;
  if (std::optional<hfq::spec::Expr> expr =
          hfq::spec::Expr::parse(text, error)) {
    expr->freeNames();
    if (std::optional<Json> value = expr->evaluate(scope, error)) {
      hfq::spec::pythonStr(*value);
      hfq::spec::pythonRepr(*value);
    }
  }
  hfq::spec::renderTemplate(text, scope, error);
  return 0;
}
