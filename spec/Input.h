//===- Input.h - Reading untrusted files and JSON under the limits -*- C++
//-*-===//
//
// The one way hfq reads an input file or JSON text (spec/Limits.h has the
// limits, docs/limits.md the policy):
//   * a file is opened without blocking, must be a regular file (not a
//     directory, device such as /dev/zero, or FIFO) and no larger than its
//     limit, checked before a byte of it is read;
//   * JSON is parsed by a SAX handler that builds the tree itself, so the
//     nesting depth is checked as the parse descends (nothing deeper than
//     kMaxJsonDepth is ever built, and nothing recursive ever sees it),
//     the error names the JSON pointer where it stands, and object members
//     are appended in linear time (nlohmann's ordered_json searches every
//     member before each insertion: a 91k-entry index took seconds).
// Nothing here throws; every failure is a message.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_INPUT_H
#define HFQ_SPEC_INPUT_H

#include "spec/Limits.h"
#include "spec/expr/Expr.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace hfq::spec {

/// `token` as one reference token of a JSON pointer: '~' is written "~0"
/// and '/' is written "~1" (RFC 6901).
std::string escapePointerToken(const std::string &token);

/// Reads the whole of `path` into `text`. `what` names the input in
/// messages ("spec file", "config.json"). Fails when the file cannot be
/// opened, is not a regular file, or is larger than `maxBytes` (the limit
/// `limitName` of Limits.h); `error` is the problem, without the path.
bool readInputFile(const std::string &path, const char *what, std::string &text,
                   std::string &error,
                   std::uint64_t maxBytes = limits::kMaxJsonFileBytes,
                   const char *limitName = "kMaxJsonFileBytes");

/// How parseJsonText treats its input.
struct JsonParseOptions {
  /// Arrays and objects nested deeper than this are an error.
  std::size_t maxDepth = limits::kMaxJsonDepth;
  /// A key repeated in one object is an error (specs: a typo must not
  /// silently replace an entry). Otherwise the last value wins, at the
  /// first one's position, as Python's json and nlohmann both do.
  bool rejectDuplicateKeys = false;
};

/// Where and why JSON text was refused.
struct JsonParseError {
  /// The JSON pointer of the value being read ("" for the top level).
  std::string pointer;
  /// "invalid JSON: parse error at line L, column C: ...", or the limit.
  std::string message;
};

/// Parses `text` into `out`. On failure `out` is left null.
bool parseJsonText(const std::string &text, Json &out, JsonParseError &error,
                   const JsonParseOptions &options = {});

/// readInputFile (limit kMaxJsonFileBytes) then parseJsonText; the message
/// is "<path>: <pointer>: <problem>" ("<path>: <problem>" for file errors).
bool readJsonFile(const std::string &path, const char *what, Json &out,
                  std::string &error, const JsonParseOptions &options = {});

/// The JSON pointer of the first array or object of `value` nested deeper
/// than `maxDepth`, or nullopt. Iterative: for values built from other
/// sources (MLIR attributes) before anything recursive walks them.
std::optional<std::string> findTooDeep(const Json &value, std::size_t maxDepth);

/// `text` cut to `maxBytes` (on a UTF-8 boundary) with "... (N bytes)"
/// appended when it is longer: for quoting input in a message.
std::string quoteLimited(const std::string &text,
                         std::size_t maxBytes = limits::kMaxQuotedBytes);

/// Where bracket nesting in MLIR text first goes deeper than `maxDepth`:
/// the 1-based line and column of the bracket, or nullopt. Brackets are
/// (), [], {} and the <> of types and attributes (not `->`, `<=`, `>=`);
/// string literals and `//` comments are skipped. Run on model IR before
/// MLIR's recursive-descent parser sees it (kMaxIrNesting).
std::optional<std::pair<std::size_t, std::size_t>>
findDeepNesting(std::string_view text,
                std::size_t maxDepth = limits::kMaxIrNesting);

/// "(limit: <value>, <name> in spec/Limits.h)", the tail of every message
/// about a limit.
std::string limitNote(const char *name, std::uint64_t value);

} // namespace hfq::spec

#endif // HFQ_SPEC_INPUT_H
