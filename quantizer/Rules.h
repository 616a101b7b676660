//===- Rules.h - Running a spec's ordered rules -----------------*- C++ -*-===//
//
// A spec states transformers' Python statements as ordered rules: a
// condition and an error, a warning, an info or assignments. Config classes
// run them as `post_init`, quantizers as `validate_environment` and
// `update_dtype`; this is the one interpreter for all three.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_QUANTIZER_RULES_H
#define HFQ_QUANTIZER_RULES_H

#include "quantizer/Diagnostics.h"
#include "spec/MethodSpec.h"

#include <string>
#include <vector>

namespace hfq::spec {

/// Renders a spec message in `scope`. A template whose placeholder fails on
/// the values at hand (`{K // 0}`, a value of an unexpected type) is an
/// error naming `what` (the message's rule) and why, never its raw text
/// printed as if it were the message.
std::optional<std::string> renderMessage(const std::string &tmpl,
                                         const Json &scope,
                                         const std::string &what,
                                         RaisedError &error);

/// A rule, type check or serialized entry whose expression fails on the
/// values at hand. Python would raise a TypeError (or AttributeError) from
/// the operation itself; the expression and its JSON pointer say which.
RaisedError evaluationError(const std::string &what, const Expr &expr,
                            const ExprError &error);

/// Runs `rules` in order against `scope`: an `error` stops (false, `error`
/// set), `warning`/`info` append to `messages`, `set` writes into `scope`
/// sequentially (later rules see earlier assignments, as the statements of
/// a Python post_init do). The names written are appended to `assigned` so
/// the caller can copy them back to where they live.
bool runRules(const std::vector<Rule> &rules, Json &scope,
              std::vector<DispatchMessage> &messages,
              std::vector<std::string> &assigned, RaisedError &error);

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_RULES_H
