//===- Input.cpp - Reading untrusted files and JSON under the limits ------===//
//
// Files: open(2) with O_NONBLOCK (opening a FIFO must not wait for a
// writer), fstat on the open descriptor (no race between the check and the
// read), then exactly st_size bytes. JSON: nlohmann's SAX parser (it is
// iterative) driving BoundedBuilder below, which refuses to descend past
// the depth limit and appends object members without nlohmann's linear
// duplicate search. nlohmann's DOM parser is never used on input.
//
//===----------------------------------------------------------------------===//

#include "spec/Input.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hfq::spec {

std::string limitNote(const char *name, std::uint64_t value) {
  return "(limit: " + std::to_string(value) + ", " + name +
         " in spec/Limits.h)";
}

std::string quoteLimited(const std::string &text, std::size_t maxBytes) {
  if (text.size() <= maxBytes)
    return text;
  std::size_t cut = maxBytes;
  // Back off to the start of a UTF-8 sequence (continuation bytes are
  // 10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return text.substr(0, cut) + "... (" + std::to_string(text.size()) +
         " bytes)";
}

std::optional<std::pair<std::size_t, std::size_t>>
findDeepNesting(std::string_view text, std::size_t maxDepth) {
  std::size_t depth = 0, line = 1, lineStart = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    switch (c) {
    case '\n':
      ++line;
      lineStart = i + 1;
      break;
    case '"':
      // A string literal; `\` escapes the next character. A newline ends
      // an unterminated one (the parser reports it).
      for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\')
          ++i;
      if (i < text.size() && text[i] == '\n') {
        ++line;
        lineStart = i + 1;
      }
      break;
    case '/':
      if (next == '/')
        while (i + 1 < text.size() && text[i + 1] != '\n')
          ++i;
      break;
    case '(':
    case '[':
    case '{':
    case '<':
      if (c == '<' && next == '=')
        break;
      if (++depth > maxDepth)
        return std::make_pair(line, i - lineStart + 1);
      break;
    case ')':
    case ']':
    case '}':
    case '>':
      if (c == '>' && (next == '=' || (i > 0 && text[i - 1] == '-')))
        break;
      if (depth > 0)
        --depth;
      break;
    default:
      break;
    }
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

namespace {

/// Closes a descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

const char *fileKind(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

} // namespace

bool readInputFile(const std::string &path, const char *what, std::string &text,
                   std::string &error, std::uint64_t maxBytes,
                   const char *limitName) {
  Fd file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (file.fd < 0) {
    // A missing file is the common case, and the message says enough.
    error = std::string("cannot open ") + what +
            (errno == ENOENT ? std::string()
                             : std::string(": ") + std::strerror(errno));
    return false;
  }
  struct stat st;
  if (::fstat(file.fd, &st) != 0) {
    error = std::string("cannot open ") + what + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = std::string(what) + " must be a regular file, not " +
            fileKind(st.st_mode);
    return false;
  }
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (size > maxBytes) {
    error = std::string(what) + " is " + std::to_string(size) +
            " bytes, more than hfq reads " + limitNote(limitName, maxBytes);
    return false;
  }
  std::string buffer(size, '\0');
  std::size_t done = 0;
  while (done < size) {
    ssize_t got = ::read(file.fd, buffer.data() + done, size - done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      error = std::string("cannot read ") + what +
              (got < 0 ? std::string(": ") + std::strerror(errno)
                       : std::string(": it shrank while being read"));
      return false;
    }
    done += static_cast<std::size_t>(got);
  }
  char extra;
  if (::read(file.fd, &extra, 1) > 0) {
    error = std::string("cannot read ") + what + ": it grew while being read";
    return false;
  }
  text = std::move(buffer);
  return true;
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

namespace {

/// "invalid JSON: <nlohmann's message>", without the exception id that
/// starts it; the message already names line and column.
std::string invalidJson(std::string what) {
  if (what.compare(0, 16, "[json.exception.") == 0) {
    std::size_t end = what.find("] ");
    if (end != std::string::npos)
      what = what.substr(end + 2);
  }
  return "invalid JSON: " + what;
}

/// Builds the tree from SAX events, refusing depth beyond the limit.
class BoundedBuilder {
public:
  BoundedBuilder(Json &root, JsonParseError &error,
                 const JsonParseOptions &options)
      : root(root), error(error), options(options) {}

  bool null() { return place(Json(nullptr)) != nullptr; }
  bool boolean(bool v) { return place(Json(v)) != nullptr; }
  bool number_integer(Json::number_integer_t v) {
    return place(Json(v)) != nullptr;
  }
  bool number_unsigned(Json::number_unsigned_t v) {
    return place(Json(v)) != nullptr;
  }
  bool number_float(Json::number_float_t v, const Json::string_t &) {
    return place(Json(v)) != nullptr;
  }
  bool string(Json::string_t &v) {
    return place(Json(std::move(v))) != nullptr;
  }
  bool binary(Json::binary_t &) {
    return fail("", "invalid JSON: binary value"); // Not in JSON text.
  }
  bool start_object(std::size_t) { return open(Json::object(), false); }
  bool start_array(std::size_t) { return open(Json::array(), true); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(Json::string_t &key) {
    Frame &frame = frames.back();
    Json::object_t &object = frame.container->get_ref<Json::object_t &>();
    frame.duplicateAt = -1;
    if (frame.keys) {
      auto it = frame.keys->find(key);
      if (it != frame.keys->end())
        frame.duplicateAt = static_cast<std::ptrdiff_t>(it->second);
    } else {
      for (std::size_t i = 0; i < object.size(); ++i)
        if (object.Container::operator[](i).first == key) {
          frame.duplicateAt = static_cast<std::ptrdiff_t>(i);
          break;
        }
    }
    frame.key = std::move(key);
    frame.hasKey = true;
    if (frame.duplicateAt >= 0 && options.rejectDuplicateKeys)
      return fail(pointer(), "duplicate key in JSON object");
    return true;
  }

  bool parse_error(std::size_t, const std::string &, const Json::exception &e) {
    // A syntax error's position is its line and column.
    return fail("", invalidJson(e.what()));
  }

private:
  struct Frame {
    Json *container;
    bool isArray;
    /// Object: the key of the member being read, and where an earlier
    /// member with that key stands (-1: none).
    std::string key;
    bool hasKey = false;
    std::ptrdiff_t duplicateAt = -1;
    /// Object: key -> position, built once the object is large enough that
    /// a linear search per member would be quadratic.
    std::unique_ptr<std::unordered_map<std::string, std::size_t>> keys;
  };

  static constexpr std::size_t kIndexAfter = 32;

  bool fail(std::string at, std::string message) {
    error.pointer = std::move(at);
    error.message = std::move(message);
    return false;
  }

  /// Stores `value` where the parse stands; returns where it now lives.
  /// Containers only grow at the innermost open frame, so the pointers the
  /// frames hold stay valid.
  Json *place(Json &&value) {
    if (frames.empty()) {
      root = std::move(value);
      return &root;
    }
    Frame &frame = frames.back();
    if (frame.isArray) {
      Json::array_t &array = frame.container->get_ref<Json::array_t &>();
      array.push_back(std::move(value));
      return &array.back();
    }
    Json::object_t &object = frame.container->get_ref<Json::object_t &>();
    if (frame.duplicateAt >= 0) {
      Json &slot = object
                       .Container::operator[](
                           static_cast<std::size_t>(frame.duplicateAt))
                       .second;
      slot = std::move(value);
      return &slot;
    }
    Json::object_t::Container &members = object;
    std::size_t at = members.size();
    if (frame.keys)
      frame.keys->emplace(frame.key, at);
    // The key stays in the frame: it is this member's pointer token while
    // a container value is being read.
    members.emplace_back(frame.key, std::move(value));
    if (!frame.keys && members.size() >= kIndexAfter) {
      frame.keys =
          std::make_unique<std::unordered_map<std::string, std::size_t>>();
      for (std::size_t i = 0; i < members.size(); ++i)
        frame.keys->emplace(members[i].first, i);
    }
    return &members.back().second;
  }

  bool open(Json &&container, bool isArray) {
    if (frames.size() >= options.maxDepth)
      return fail(pointer(), "JSON nested deeper than " +
                                 std::to_string(options.maxDepth) + " levels " +
                                 limitNote("kMaxJsonDepth", options.maxDepth));
    Json *at = place(std::move(container));
    frames.push_back(Frame{at, isArray, {}, false, -1, nullptr});
    return true;
  }

  bool close() {
    frames.pop_back();
    return true;
  }

  /// The pointer of the value being read: in an enclosing array, the
  /// element already placed (the open container); in the innermost, the
  /// next one.
  std::string pointer() const {
    std::string out;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const Frame &frame = frames[i];
      bool innermost = i + 1 == frames.size();
      if (frame.isArray)
        out +=
            "/" + std::to_string(frame.container->size() - (innermost ? 0 : 1));
      else if (frame.hasKey)
        out += "/" + escapePointerToken(frame.key);
    }
    return out;
  }

  Json &root;
  JsonParseError &error;
  const JsonParseOptions &options;
  std::vector<Frame> frames;
};

} // namespace

bool parseJsonText(const std::string &text, Json &out, JsonParseError &error,
                   const JsonParseOptions &options) {
  Json root;
  BoundedBuilder builder(root, error, options);
  bool ok = false;
  try {
    ok = Json::sax_parse(text, &builder);
  } catch (const std::exception &e) {
    // Defensive: the SAX path reports errors through parse_error.
    error = {"", invalidJson(e.what())};
    ok = false;
  }
  if (!ok) {
    out = Json();
    return false;
  }
  out = std::move(root);
  return true;
}

bool readJsonFile(const std::string &path, const char *what, Json &out,
                  std::string &error, const JsonParseOptions &options) {
  std::string text;
  if (!readInputFile(path, what, text, error)) {
    error = path + ": " + error;
    return false;
  }
  JsonParseError parseError;
  if (!parseJsonText(text, out, parseError, options)) {
    error = path + ": " +
            (parseError.pointer.empty() ? "" : parseError.pointer + ": ") +
            parseError.message;
    return false;
  }
  return true;
}

std::optional<std::string> findTooDeep(const Json &value,
                                       std::size_t maxDepth) {
  struct Item {
    const Json *value;
    std::size_t depth;
    std::string pointer;
  };
  std::vector<Item> stack;
  if (value.is_structured())
    stack.push_back({&value, 1, ""});
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    if (item.depth > maxDepth)
      return item.pointer;
    if (item.value->is_array()) {
      std::size_t index = 0;
      for (const Json &child : *item.value) {
        if (child.is_structured())
          stack.push_back({&child, item.depth + 1,
                           item.pointer + "/" + std::to_string(index)});
        ++index;
      }
    } else {
      for (const auto &member : item.value->items())
        if (member.value().is_structured())
          stack.push_back(
              {&member.value(), item.depth + 1,
               item.pointer + "/" + escapePointerToken(member.key())});
    }
  }
  return std::nullopt;
}

} // namespace hfq::spec
