//===- CompileTarget.cpp - The compile target, parsed once ----------------===//

#include "quantizer/CompileTarget.h"

namespace hfq::spec {

CompileTarget::CompileTarget(std::string name) : name_(std::move(name)) {
  if (std::optional<Json> scope = targetScope(name_))
    scope_ = std::move(*scope);
}

bool CompileTarget::cuda() const {
  auto it = scope_.find("cuda");
  return it != scope_.end() && *it == true;
}

std::string CompileTarget::error() const {
  return "unknown target '" + name_ +
         "' (expected sm_<NN> such as sm_90, or cpu)";
}

} // namespace hfq::spec
