//===- Target.cpp - The compile target as an expression value -------------===//
//
// "cpu", or "sm_<major><minor>" with an optional arch-specific 'a' suffix,
// split into the fields kernel rules test (cuda, sm, major, minor, name).
//
//===----------------------------------------------------------------------===//

#include "spec/Target.h"

#include <algorithm>

namespace hfq::spec {

std::optional<Json> targetScope(const std::string &target) {
  Json scope = Json::object();
  if (target == "cpu") {
    scope["cuda"] = false;
    scope["sm"] = 0;
    scope["major"] = 0;
    scope["minor"] = 0;
    scope["name"] = "cpu";
    return scope;
  }
  // sm_<major><minor>, optionally with the arch-specific 'a' suffix.
  std::string digits = target.size() > 3 && target.compare(0, 3, "sm_") == 0
                           ? target.substr(3)
                           : std::string();
  if (!digits.empty() && digits.back() == 'a')
    digits.pop_back();
  if (digits.size() < 2 || digits.size() > 3 ||
      !std::all_of(digits.begin(), digits.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int sm = std::stoi(digits);
  scope["cuda"] = true;
  scope["sm"] = sm;
  scope["major"] = sm / 10;
  scope["minor"] = sm % 10;
  scope["name"] = target;
  return scope;
}

} // namespace hfq::spec
