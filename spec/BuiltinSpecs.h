//===- BuiltinSpecs.h - The specs compiled into the binary -----*- C++ -*-===//
//
// specs/*.json are checked by hfq-spec-compile at build time and embedded;
// the generated BuiltinSpecs.cpp defines builtinSpecTexts().
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_BUILTINSPECS_H
#define HFQ_SPEC_BUILTINSPECS_H

#include "spec/MethodRegistry.h"

#include <vector>

namespace hfq::spec {

struct BuiltinSpecText {
  /// Shown in messages: "specs/gptq.json".
  const char *file;
  const char *text;
};

/// The shipped specs, in file-name order.
const std::vector<BuiltinSpecText> &builtinSpecTexts();

/// Registers every shipped spec.
bool loadBuiltinSpecs(MethodRegistry &registry, SpecError &error);

} // namespace hfq::spec

#endif // HFQ_SPEC_BUILTINSPECS_H
