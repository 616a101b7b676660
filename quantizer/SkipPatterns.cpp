//===- SkipPatterns.cpp - v5 should_convert_module patterns ---------------===//

#include "quantizer/SkipPatterns.h"

#include <exception>
#include <vector>

namespace hfq::spec {

/// libstdc++'s regex compiler and matcher recurse per pattern nesting level
/// and per input character; beyond these sizes a pattern is matched as a
/// plain prefix, so no input can exhaust the stack. Real patterns and module
/// names are far shorter.
static constexpr size_t MaxRegexPattern = 256;
static constexpr size_t MaxRegexInput = 1024;

/// Whether `text` nests quantifiers — a quantifier right after another
/// (`.*+`, `a+*`) or a quantified group holding a quantifier (`(a+)+`) —
/// the forms on which a backtracking matcher such as libstdc++'s takes
/// time exponential in the module name (a fuzzer found `.*+`: 3 minutes for
/// one name). Such a pattern is matched as plain text instead: Python 3.11+
/// reads `*+` as a possessive quantifier and older Pythons refuse it, so
/// no reading of it is transformers' across versions (docs/limits.md).
static bool nestsQuantifiers(const std::string &text) {
  auto isQuantifier = [](char c) { return c == '*' || c == '+' || c == '?'; };
  std::vector<bool> groupHasQuantifier;
  bool afterQuantifier = false, inClass = false, closedQuantified = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      ++i;
      afterQuantifier = closedQuantified = false;
      continue;
    }
    if (inClass) {
      inClass = c != ']';
      continue;
    }
    bool quantifier = isQuantifier(c) || c == '{';
    // `a*?`: a `?` right after a quantifier makes it lazy, not nested.
    if (c == '?' && afterQuantifier) {
      afterQuantifier = false;
      continue;
    }
    if (quantifier && (afterQuantifier || closedQuantified))
      return true;
    if (quantifier && !groupHasQuantifier.empty())
      groupHasQuantifier.back() = true;
    closedQuantified = false;
    if (c == '[')
      inClass = true;
    else if (c == '(')
      groupHasQuantifier.push_back(false);
    else if (c == ')' && !groupHasQuantifier.empty()) {
      closedQuantified = groupHasQuantifier.back();
      groupHasQuantifier.pop_back();
      if (closedQuantified && !groupHasQuantifier.empty())
        groupHasQuantifier.back() = true;
    }
    afterQuantifier = isQuantifier(c) || c == '}';
  }
  return false;
}

SkipPatterns::SkipPatterns(const std::vector<std::string> &texts) {
  for (const std::string &text : texts) {
    Pattern pattern;
    pattern.text = text;
    if (text.size() <= MaxRegexPattern && !nestsQuantifiers(text)) {
      try {
        // Python's `key + "\\."`: the pattern followed by a literal dot.
        pattern.withDot.emplace(text + "\\.", std::regex::ECMAScript);
        pattern.plain.emplace(text, std::regex::ECMAScript);
      } catch (const std::exception &) {
        pattern.withDot.reset();
        pattern.plain.reset();
      }
    }
    patterns.push_back(std::move(pattern));
  }
}

bool SkipPatterns::skips(const std::string &name) const {
  for (const Pattern &pattern : patterns) {
    const std::string &key = pattern.text;
    if (name.size() >= key.size() &&
        name.compare(name.size() - key.size(), key.size(), key) == 0)
      return true;
    bool prefix = name.compare(0, key.size(), key) == 0;
    if (!pattern.plain || name.size() > MaxRegexInput) {
      if (prefix)
        return true;
      continue;
    }
    try {
      // re.match: anchored at the start, not at the end.
      auto flags = std::regex_constants::match_continuous;
      std::smatch match;
      if (std::regex_search(name, match, *pattern.withDot, flags) ||
          std::regex_search(name, match, *pattern.plain, flags))
        return true;
    } catch (const std::exception &) {
      // regex_error(error_complexity / error_stack) on a pathological
      // pattern: fall back to the plain reading.
      if (prefix)
        return true;
    }
  }
  return false;
}

bool shouldSkipModule(const std::string &name,
                      const std::vector<std::string> &patterns) {
  try {
    return SkipPatterns(patterns).skips(name);
  } catch (const std::exception &) {
    // Only allocation failure can get here; converting is the safe answer
    // for a name nothing could be decided about.
    return false;
  }
}

} // namespace hfq::spec
