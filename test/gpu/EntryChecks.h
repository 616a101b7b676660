//===- EntryChecks.h - Checking the CUDA entry points against the reference
//-===//
//
// What the GPU tests of the kernel ABI entry points share (EntryGpuTest.cpp,
// Bnb4GpuTest.cpp): the declarations of every entry point the specs expect
// (kernels/generated/MethodArgs.h), one call of a CPU reference entry point
// and of a CUDA one on a checkpoint (test/unit/CheckpointBuilders.h) into a
// poisoned y, the pass criteria and the check lines. Header-only, for
// plain programs (no GoogleTest on the GPU machine).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_TEST_GPU_ENTRYCHECKS_H
#define HFQ_TEST_GPU_ENTRYCHECKS_H

#include "kernels/abi/Tensor.h"
#include "kernels/generated/MethodArgs.h"
#include "kernels/include/hfq_kernels.h"
#include "test/unit/CheckpointBuilders.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

/// f16 / bf16 memref elements, as MLIR passes them.
using Half = uint16_t;

using RefEntry = int32_t (*)(StridedMemRefType<float, 2> *,
                             StridedMemRefType<float, 2> *,
                             StridedMemRefType<float, 1> *,
                             StridedMemRefType<double, 1> *,
                             StridedMemRefType<int64_t, 2> *);
using HalfEntry = int32_t (*)(StridedMemRefType<Half, 2> *,
                              StridedMemRefType<Half, 2> *,
                              StridedMemRefType<Half, 1> *,
                              StridedMemRefType<double, 1> *,
                              StridedMemRefType<int64_t, 2> *);

#define DECLARE_REF_ENTRY(kernel)                                              \
  extern "C" int32_t _mlir_ciface_##kernel##_f32(                              \
      StridedMemRefType<float, 2> *, StridedMemRefType<float, 2> *,            \
      StridedMemRefType<float, 1> *, StridedMemRefType<double, 1> *,           \
      StridedMemRefType<int64_t, 2> *);

#define DECLARE_CUDA_ENTRY_ACT(kernel, act)                                    \
  extern "C" int32_t _mlir_ciface_##kernel##_##act(                            \
      StridedMemRefType<Half, 2> *, StridedMemRefType<Half, 2> *,              \
      StridedMemRefType<Half, 1> *, StridedMemRefType<double, 1> *,            \
      StridedMemRefType<int64_t, 2> *);
#define DECLARE_CUDA_ENTRY(kernel)                                             \
  DECLARE_CUDA_ENTRY_ACT(kernel, f16)                                          \
  DECLARE_CUDA_ENTRY_ACT(kernel, bf16)                                         \
  DECLARE_REF_ENTRY(kernel)
// Every entry point the specs expect of each library
// (kernels/generated/MethodArgs.h).
#define DECLARE_REF_KERNEL(kernel, args) DECLARE_REF_ENTRY(kernel)
#define DECLARE_CUDA_KERNEL(kernel, key) DECLARE_CUDA_ENTRY(kernel)
HFQ_REF_KERNELS(DECLARE_REF_KERNEL)
HFQ_CUDA_KERNELS(DECLARE_CUDA_KERNEL)

namespace hfq::kernels::entrychecks {

using namespace hfq::kernels::builders;

inline int checks = 0, failures = 0;

/// Records one check and prints its line.
inline bool report(bool ok, const std::string &what,
                   const std::string &detail = "") {
  ++checks;
  if (!ok)
    ++failures;
  std::printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what.c_str(),
              detail.empty() ? "" : ": ", detail.c_str());
  std::fflush(stdout);
  return ok;
}

inline bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

inline std::string fmt(const char *format, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

enum Act { F16 = 0, BF16 = 1 };
inline const char *actName(Act act) { return act == F16 ? "f16" : "bf16"; }
inline Half to16(Act act, float v) {
  return act == F16 ? floatToHalf(v) : floatToBf16(v);
}
inline float from16(Act act, Half v) {
  return act == F16 ? halfToFloat(v) : bf16ToFloat(v);
}

/// One kernel's f16 / bf16 / f32 entry points.
struct CudaKernel {
  const char *name;
  HalfEntry half[2]; // [F16], [BF16]
  RefEntry f32;
};
// clang-format off
#define CUDA_KERNEL(kernel)                                                    \
  CudaKernel{#kernel,                                                          \
             {_mlir_ciface_##kernel##_f16, _mlir_ciface_##kernel##_bf16},      \
             _mlir_ciface_##kernel##_f32}
// clang-format on

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

constexpr Half kPoison = 0xFFFF; // NaN in f16 and bf16

/// y [m, n] from the CPU reference on float activations x [m, k] (and bias
/// [n], or empty).
inline bool referenceY(RefEntry entry, const Checkpoint &ck, int64_t m,
                       int64_t n, int64_t k, std::vector<float> x,
                       std::vector<float> bias, std::vector<float> &y,
                       std::string &error) {
  AbiOperands abi(ck);
  y.assign(static_cast<size_t>(m * n), 0.0f);
  float none = 0.0f;
  StridedMemRefType<float, 2> ym = memref2d(y.data(), m, n);
  StridedMemRefType<float, 2> xm = memref2d(x.data(), m, k);
  StridedMemRefType<float, 1> bm =
      bias.empty() ? memref1d(&none, 0) : memref1d(bias.data(), n);
  if (entry(&ym, &xm, &bm, &abi.argsRef, &abi.tableRef) != 0) {
    error = hfq_kernel_last_error();
    return false;
  }
  return true;
}

/// One CUDA call on 16-bit x [m, k] (and bias), into a poisoned y [m, n].
inline int32_t callCuda(HalfEntry entry, const Checkpoint &ck, int64_t m,
                        int64_t n, int64_t k, std::vector<Half> x,
                        std::vector<Half> bias, std::vector<Half> &y) {
  AbiOperands abi(ck);
  y.assign(static_cast<size_t>(m * n), kPoison);
  Half none = 0;
  StridedMemRefType<Half, 2> ym = memref2d(y.data(), m, n);
  StridedMemRefType<Half, 2> xm = memref2d(x.data(), m, k);
  StridedMemRefType<Half, 1> bm =
      bias.empty() ? memref1d(&none, 0) : memref1d(bias.data(), n);
  return entry(&ym, &xm, &bm, &abi.argsRef, &abi.tableRef);
}

/// A kernel that takes f16 / bf16 only: its f32 entry refuses the call by
/// name and leaves y untouched.
inline void expectF32Refused(const CudaKernel &kernel, const Checkpoint &ck,
                             int64_t n, int64_t k) {
  std::vector<float> x(static_cast<size_t>(2 * k), 0.0f),
      y(static_cast<size_t>(2 * n), 7.0f);
  float none = 0.0f;
  AbiOperands abi(ck);
  StridedMemRefType<float, 2> ym = memref2d(y.data(), 2, n);
  StridedMemRefType<float, 2> xm = memref2d(x.data(), 2, k);
  StridedMemRefType<float, 1> bm = memref1d(&none, 0);
  const int32_t status =
      kernel.f32(&ym, &xm, &bm, &abi.argsRef, &abi.tableRef);
  const std::string message = hfq_kernel_last_error();
  report(status != 0 && contains(message, kernel.name) &&
             contains(message, "f16 or bf16") &&
             std::all_of(y.begin(), y.end(),
                         [](float v) { return v == 7.0f; }),
         "error path: an f32 call is refused", message);
}

/// The GPU tests' command line: --seed N, --small. False on anything else
/// (after printing the usage).
inline bool parseOptions(int argc, char **argv, unsigned &seed, bool &small) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--seed" && i + 1 < argc) {
      seed = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (std::string(argv[i]) == "--small") {
      small = true;
    } else {
      std::fprintf(stderr, "usage: %s [--seed N] [--small]\n", argv[0]);
      return false;
    }
  }
  return true;
}

inline bool allPoison(const std::vector<Half> &y) {
  return std::all_of(y.begin(), y.end(), [](Half h) { return h == kPoison; });
}

/// The pass criteria; a line for the check.
inline bool compare(const std::string &what, Act act,
                    const std::vector<Half> &y, const std::vector<float> &ref) {
  double diff2 = 0, ref2 = 0, maxRef = 0, maxErr = 0;
  size_t nonFinite = 0, worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const float got = from16(act, y[i]);
    if (!std::isfinite(got)) {
      ++nonFinite;
      continue;
    }
    const double d = static_cast<double>(got) - ref[i];
    diff2 += d * d;
    ref2 += static_cast<double>(ref[i]) * ref[i];
    maxRef = std::max(maxRef, std::fabs(static_cast<double>(ref[i])));
    if (std::fabs(d) > maxErr) {
      maxErr = std::fabs(d);
      worst = i;
    }
  }
  const double rel = std::sqrt(diff2 / std::max(ref2, 1e-300));
  const double tol = act == BF16 ? 1e-2 : 2e-3;
  const bool ok = nonFinite == 0 && rel <= tol && maxErr <= 0.1 * maxRef;
  std::string detail = "rel " + fmt("%.2e", rel) + " (tol " + fmt("%.0e", tol) +
                       "), max err " + fmt("%.3g", maxErr) + " at " +
                       std::to_string(worst) + ", max|ref| " +
                       fmt("%.3g", maxRef);
  if (nonFinite)
    detail += ", " + std::to_string(nonFinite) + " non-finite";
  return report(ok, what, detail);
}

struct Activations {
  std::vector<Half> x, bias;    // 16-bit, what the CUDA entry gets
  std::vector<float> xf, biasf; // the same values widened
};

inline Activations randomActivations(Act act, int64_t m, int64_t n, int64_t k,
                                     bool withBias, Rng &rng) {
  Activations a;
  for (int64_t i = 0; i < m * k; ++i) {
    a.x.push_back(to16(act, rng.uniform(-1.0f, 1.0f)));
    a.xf.push_back(from16(act, a.x.back()));
  }
  if (withBias)
    for (int64_t j = 0; j < n; ++j) {
      a.bias.push_back(to16(act, rng.uniform(-0.5f, 0.5f)));
      a.biasf.push_back(from16(act, a.bias.back()));
    }
  return a;
}

} // namespace hfq::kernels::entrychecks

#endif // HFQ_TEST_GPU_ENTRYCHECKS_H
