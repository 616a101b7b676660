//===- Rules.cpp - Running a spec's ordered rules -------------------------===//

#include "quantizer/Rules.h"

namespace hfq::spec {

using Level = DispatchMessage::Level;

std::string renderMessage(const std::string &tmpl, const Json &scope) {
  ExprError ignored;
  std::optional<std::string> text = renderTemplate(tmpl, scope, ignored);
  return text ? *text : tmpl;
}

RaisedError evaluationError(const std::string &what, const Expr &expr,
                            const ExprError &error) {
  return {"TypeError",
          "cannot evaluate " + what + " '" + expr.text() + "': " + error.str()};
}

bool runRules(const std::vector<Rule> &rules, Json &scope,
              std::vector<DispatchMessage> &messages,
              std::vector<std::string> &assigned, RaisedError &error) {
  for (const Rule &rule : rules) {
    ExprError exprError;
    std::optional<bool> applies = rule.when.evaluateCondition(scope, exprError);
    if (!applies) {
      error = evaluationError("the condition of " + rule.pointer, rule.when,
                              exprError);
      return false;
    }
    if (!*applies)
      continue;
    if (rule.error) {
      error = {rule.error->kind, renderMessage(rule.error->text, scope)};
      return false;
    }
    // The message first: it describes the state before the assignment.
    if (rule.warning)
      messages.push_back({Level::Warning, renderMessage(*rule.warning, scope)});
    if (rule.info)
      messages.push_back({Level::Info, renderMessage(*rule.info, scope)});
    for (const auto &[name, expr] : rule.assignments) {
      std::optional<Json> value = expr.evaluate(scope, exprError);
      if (!value) {
        error = evaluationError("the assignment to '" + name + "' in " +
                                    rule.pointer,
                                expr, exprError);
        return false;
      }
      scope[name] = std::move(*value);
      assigned.push_back(name);
    }
  }
  return true;
}

} // namespace hfq::spec
