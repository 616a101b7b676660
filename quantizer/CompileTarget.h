//===- CompileTarget.h - The compile target, parsed once --------*- C++ -*-===//
//
// Every tool and pass takes the machine as a string: "sm_<NN>" (also
// "sm_<NN>a") or "cpu". A CompileTarget is that string parsed once (into
// spec/Target.h's expression value), like llvm::Triple: whoever reads the
// option builds one, reports error() if it is not valid, and hands the
// parsed value on, so dispatch, kernel selection and the reports never
// parse or word the problem again.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_QUANTIZER_COMPILETARGET_H
#define HFQ_QUANTIZER_COMPILETARGET_H

#include "spec/Target.h"

#include <string>

namespace hfq::spec {

class CompileTarget {
public:
  /// Parses `name`. Implicit on purpose, as a string's would be
  /// (`inputs.target = "sm_80"`); an unknown name gives an invalid target.
  CompileTarget(std::string name);
  CompileTarget(const char *name) : CompileTarget(std::string(name)) {}

  bool valid() const { return !scope_.is_null(); }
  /// The name as given ("sm_90a").
  const std::string &name() const { return name_; }
  /// The `target` value of spec expressions (targetScope); null if invalid.
  const Json &scope() const { return scope_; }
  /// Whether the target is a CUDA GPU.
  bool cuda() const;
  /// The one message for an invalid target.
  std::string error() const;

private:
  std::string name_;
  Json scope_;
};

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_COMPILETARGET_H
