//===- Diagnostics.h - What transformers warns, logs and raises -*- C++ -*-===//
//
// The two things dispatch reports besides its decision: the messages
// transformers emits (`warnings.warn` / `logger.warning`, `logger.info`) and
// the exception it would raise. Inputs come from users and checkpoints, so
// nothing in quantizer/ throws, asserts or crashes on bad input: a problem
// comes back as a RaisedError.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_QUANTIZER_DIAGNOSTICS_H
#define HFQ_QUANTIZER_DIAGNOSTICS_H

#include <exception>
#include <string>

namespace hfq::spec {

/// A `warnings.warn` / `logger.warning` (Warning) or `logger.info` (Info).
struct DispatchMessage {
  enum class Level { Warning, Info };
  Level level = Level::Warning;
  std::string text;
};

/// An exception transformers would raise: the Python class name
/// ("ValueError", "KeyError", ...) and `str(exception)`. One kind has no
/// transformers counterpart: "InternalError", a bug in hfq or in a spec
/// (caught instead of crashing).
struct RaisedError {
  std::string kind;
  std::string message;

  /// "ValueError: <message>", as Python prints the last traceback line.
  std::string str() const { return kind + ": " + message; }
};

/// The InternalError for an exception caught at a public entry point.
/// nlohmann::json reports misuse by exception; quantizer/ catches
/// std::exception there as a last line of defence and never rethrows.
inline RaisedError internalError(const std::exception &e) {
  return {"InternalError",
          std::string("internal error in hfq dispatch: ") + e.what()};
}

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_DIAGNOSTICS_H
