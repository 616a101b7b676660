//===- Args.cpp - Decoding a kernel's `args` into typed fields ------------===//

#include "kernels/abi/Args.h"

#include <cmath>
#include <cstdio>

namespace hfq::kernels {

namespace {

std::string countMessage(const char *least, size_t count, const char *names,
                         const char *more, size_t got) {
  return std::string("expected ") + least + std::to_string(count) +
         " arguments (" + names + more + "), got " + std::to_string(got);
}

/// `v` for a message: std::to_string's six decimals where they show the
/// value, else 17 significant digits (1e300 as 1.0000000000000001e+300
/// rather than 301 digits; 1e-300 rather than 0.000000).
std::string argString(double v) {
  const double magnitude = std::fabs(v);
  if (v == 0 || (magnitude >= 1e-4 && magnitude < 1e15))
    return std::to_string(v);
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

} // namespace

bool expectArgCount(const std::vector<double> &args, size_t count,
                    const char *names, std::string &error) {
  if (args.size() == count)
    return true;
  error = countMessage("", count, names, "", args.size());
  return false;
}

bool expectArgPrefix(const std::vector<double> &args, size_t count,
                     const char *names, std::string &error) {
  if (args.size() >= count)
    return true;
  error = countMessage("at least ", count, names, ", ...", args.size());
  return false;
}

bool decodeIntArg(double v, const char *name, int64_t lo, int64_t hi,
                  int64_t &out, std::string &error) {
  if (!(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)) ||
      v != std::floor(v)) {
    error = std::string(name) + " must be an integer in [" +
            std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
            argString(v);
    return false;
  }
  out = static_cast<int64_t>(v);
  return true;
}

bool decodeBoolArg(double v, const char *name, bool &out, std::string &error) {
  if (v != 0.0 && v != 1.0) {
    error = std::string(name) + " must be 0 or 1, got " + argString(v);
    return false;
  }
  out = v == 1.0;
  return true;
}

bool decodeNumberArg(double v, const char *name, double &out,
                     std::string &error) {
  if (!std::isfinite(v)) {
    error = std::string(name) + " must be a finite number, got " +
            argString(v);
    return false;
  }
  out = v;
  return true;
}

} // namespace hfq::kernels
