//===- ArgTypes.h - The static type of a spec expression --------*- C++ -*-===//
//
// A layout's `args` reach the kernels as doubles; the kernel contract
// (KernelContract.h) gives each one a C++ type. This infers it from the
// expression alone, before any config exists: literals have their type,
// names the type of the config field (or param) they read, operators the
// type of their result (comparisons and `and` / `or` / `not` are bools, `/`
// is a float, `//` `%` `*` `+` `-` of ints are ints). Values read out of a
// dict or an `any` field (`scheme.weights.num_bits`) are Unknown.
//
// `?:` and the layouts of one quantizer are joined leniently: Unknown (and
// null) take the other side's type, bool and int join to int, a number with
// a float to float. An int written only as integer literals keeps the set of
// them (`codes`), which becomes its range.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_TOOLS_HFQ_SPEC_COMPILE_ARGTYPES_H
#define HFQ_TOOLS_HFQ_SPEC_COMPILE_ARGTYPES_H

#include "spec/MethodSpec.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace hfq::speccompile {

struct ArgType {
  enum class Kind { Unknown, Null, Bool, Int, Float, String, List, Object };
  Kind kind = Kind::Unknown;
  /// The element type of a List.
  std::shared_ptr<const ArgType> element;
  /// An Int whose every value is an integer literal of the spec: them.
  std::optional<std::set<int64_t>> codes;

  static ArgType of(Kind kind) {
    ArgType type;
    type.kind = kind;
    return type;
  }
  /// "bool", "int", "float", ... for messages.
  const char *name() const;
};

/// The type of a value read from a config field of `type`.
ArgType fieldArgType(const spec::FieldType &type);

/// The lenient join above (of `?:` branches, and of one arg's layouts).
ArgType joinArgTypes(const ArgType &a, const ArgType &b);

/// The type of the expression `text` with the names of `scope`; a name not in
/// it is Unknown. False with `error` when the text does not parse (it always
/// does for a spec the registry accepted).
bool inferArgType(const std::string &text,
                  const std::map<std::string, ArgType> &scope, ArgType &out,
                  std::string &error);

} // namespace hfq::speccompile

#endif // HFQ_TOOLS_HFQ_SPEC_COMPILE_ARGTYPES_H
