//===- SkipPatterns.cpp - v5 should_convert_module patterns ---------------===//

#include "quantizer/SkipPatterns.h"

#include <exception>

namespace hfq::spec {

/// libstdc++'s regex compiler and matcher recurse per pattern nesting level
/// and per input character; beyond these sizes a pattern is matched as a
/// plain prefix, so no input can exhaust the stack. Real patterns and module
/// names are far shorter.
static constexpr size_t MaxRegexPattern = 256;
static constexpr size_t MaxRegexInput = 1024;

SkipPatterns::SkipPatterns(const std::vector<std::string> &texts) {
  for (const std::string &text : texts) {
    Pattern pattern;
    pattern.text = text;
    if (text.size() <= MaxRegexPattern) {
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
