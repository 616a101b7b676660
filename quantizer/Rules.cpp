//===- Rules.cpp - Running a spec's ordered rules -------------------------===//

#include "quantizer/Rules.h"
#include "spec/Input.h"

namespace hfq::spec {

using Level = DispatchMessage::Level;

std::optional<std::string> renderMessage(const std::string &tmpl,
                                         const Json &scope,
                                         const std::string &what,
                                         RaisedError &error) {
  ExprError exprError;
  std::optional<std::string> text = renderTemplate(tmpl, scope, exprError);
  if (!text)
    error = {"TypeError", "cannot render the message of " + what + " '" +
                              quoteLimited(tmpl) + "': " + exprError.str()};
  return text;
}

RaisedError evaluationError(const std::string &what, const Expr &expr,
                            const ExprError &error) {
  return {"TypeError", "cannot evaluate " + what + " '" +
                           quoteLimited(expr.text()) + "': " + error.str()};
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
      std::optional<std::string> text =
          renderMessage(rule.error->text, scope, rule.pointer, error);
      if (text)
        error = {rule.error->kind, std::move(*text)};
      return false;
    }
    // The message first: it describes the state before the assignment.
    for (auto [level, tmpl] : {std::make_pair(Level::Warning, &rule.warning),
                               std::make_pair(Level::Info, &rule.info)}) {
      if (!*tmpl)
        continue;
      std::optional<std::string> text =
          renderMessage(**tmpl, scope, rule.pointer, error);
      if (!text)
        return false;
      messages.push_back({level, std::move(*text)});
    }
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
