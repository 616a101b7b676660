//===- Target.cpp - The compile target, parsed once -----------------------===//

#include "quantizer/Target.h"

namespace hfq::spec {

Target::Target(std::string name) : name_(std::move(name)) {
  if (std::optional<Json> scope = targetScope(name_))
    scope_ = std::move(*scope);
}

bool Target::cuda() const {
  auto it = scope_.find("cuda");
  return it != scope_.end() && *it == true;
}

std::string Target::error() const {
  return "unknown target '" + name_ +
         "' (expected sm_<NN> such as sm_90, or cpu)";
}

} // namespace hfq::spec
