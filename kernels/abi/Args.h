//===- Args.h - Decoding a kernel's `args` into typed fields ----*- C++ -*-===//
//
// The kernel ABI passes a layout's `args` (specs/README.md, "Layouts") as
// doubles. hfq-spec-compile generates, for every method, a struct with one
// typed field per arg and a decoder built from the checks below
// (kernels/generated/MethodArgs.h in the build tree; docs/kernels.md, "The
// args of a kernel", gives the typing rule). Each check names the argument;
// the caller prefixes the kernel (failKernel) or the method (the repack), so
// a malformed argument is one message naming both, never an undefined cast.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_ABI_ARGS_H
#define HFQ_KERNELS_ABI_ARGS_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// The range of an int argument the spec does not write as literal codes:
/// every value fits int32 (N and K are below 2^31 as well), so products of
/// two of them fit int64.
constexpr int64_t kIntArgMin = -(int64_t(1) << 31);
constexpr int64_t kIntArgMax = (int64_t(1) << 31) - 1;

/// Exactly `count` arguments; otherwise "expected <count> arguments
/// (<names>), got <n>".
bool expectArgCount(const std::vector<double> &args, size_t count,
                    const char *names, std::string &error);

/// At least `count` arguments (a kernel shared by several methods reads the
/// prefix their layouts have in common); otherwise "expected at least
/// <count> arguments (<names>, ...), got <n>".
bool expectArgPrefix(const std::vector<double> &args, size_t count,
                     const char *names, std::string &error);

/// `v` as an integer in [lo, hi]; NaN, infinities, fractions and values
/// outside the range are "<name> must be an integer in [lo, hi], got <v>".
bool decodeIntArg(double v, const char *name, int64_t lo, int64_t hi,
                  int64_t &out, std::string &error);

/// `v` as a bool, which the spec passes as 0 or 1; anything else is
/// "<name> must be 0 or 1, got <v>".
bool decodeBoolArg(double v, const char *name, bool &out, std::string &error);

/// `v` as a finite number; otherwise "<name> must be a finite number, got
/// <v>".
bool decodeNumberArg(double v, const char *name, double &out,
                     std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_ABI_ARGS_H
