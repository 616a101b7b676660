//===- SkipPatterns.h - v5 should_convert_module patterns -------*- C++ -*-===//
//
// How transformers v5 matches a module name against a skip list
// (`modules_to_not_convert`, default skips, ...). ModulePlan builds the
// lists; this is only the matching.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_QUANTIZER_SKIPPATTERNS_H
#define HFQ_QUANTIZER_SKIPPATTERNS_H

#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace hfq::spec {

/// v5 `should_convert_module` patterns, compiled once: a module name is
/// skipped if, for any pattern `key`, `re.match(key + "\\.", name)` or
/// `re.match(key, name)` (a regex anchored at the start only) or
/// `name.endswith(key)`. A pattern that is not a valid ECMAScript regex is
/// matched as a plain-string prefix instead.
class SkipPatterns {
public:
  explicit SkipPatterns(const std::vector<std::string> &patterns);

  /// Whether `name` is left unconverted.
  bool skips(const std::string &name) const;

private:
  struct Pattern {
    std::string text;
    /// Unset when `text` is not a valid regex (or too long to run safely).
    std::optional<std::regex> withDot;
    std::optional<std::regex> plain;
  };
  std::vector<Pattern> patterns;
};

/// One-shot form of SkipPatterns(patterns).skips(name).
bool shouldSkipModule(const std::string &name,
                      const std::vector<std::string> &patterns);

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_SKIPPATTERNS_H
