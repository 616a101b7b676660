//===- Args.cpp - Decoding a kernel's `args` into typed fields ------------===//

#include "kernels/abi/Args.h"

#include <cmath>

namespace hfq::kernels {

namespace {

std::string countMessage(const char *least, size_t count, const char *names,
                         const char *more, size_t got) {
  return std::string("expected ") + least + std::to_string(count) +
         " arguments (" + names + more + "), got " + std::to_string(got);
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
            std::to_string(v);
    return false;
  }
  out = static_cast<int64_t>(v);
  return true;
}

bool decodeBoolArg(double v, const char *name, bool &out, std::string &error) {
  if (v != 0.0 && v != 1.0) {
    error = std::string(name) + " must be 0 or 1, got " + std::to_string(v);
    return false;
  }
  out = v == 1.0;
  return true;
}

bool decodeNumberArg(double v, const char *name, double &out,
                     std::string &error) {
  if (!std::isfinite(v)) {
    error = std::string(name) + " must be a finite number, got " +
            std::to_string(v);
    return false;
  }
  out = v;
  return true;
}

} // namespace hfq::kernels
