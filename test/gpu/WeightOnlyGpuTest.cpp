//===- WeightOnlyGpuTest.cpp - The CUDA kernels against the CPU -----------===//
//
// Every weight-only kernel (each activation type, code width, zero kind,
// group size, act order, and each path: Gemv, Gemm, Dequant+cuBLAS, Auto)
// against a float64 CPU product on fresh random data, with N and K that are
// not multiples of the kernels' tiles and M in {1, 3, 16, 100, 1024}; on an
// sm_90 GPU the Wgmma path too (forced: Auto does not take it yet), at
// those M and at {17, 64, 100, 256, 1000}, with split K off, chosen and at
// its maximum, and with x misaligned (its aligned copy). Every
// output buffer is poisoned (all bits set: NaN in fp16 and bf16) before each
// run, so an unwritten element fails. Every CUDA call is checked.
//
// Pass criteria, per run: every element finite; ‖y − ref‖ / ‖ref‖ under the
// activation type's tolerance (bf16 1e-2, fp16 2e-3: the kernels round the
// weight, the scale and the output to 16 bits once each, the accumulation is
// f32); and no element off by more than 10% of max |ref| (which catches a
// wrong column that the norm would average away).
//
// Exit status: 0 all passed, 1 a failure, 77 no GPU (CTest's skip code).
// `--small` runs a reduced set (for compute-sanitizer); `--wgmma` the Wgmma
// path's runs alone (and with --small after it, their reduced set);
// `--probe` only says whether a GPU is there (setup.sh prints it beside
// ctest's "Skipped").
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/WeightOnly.h"
#include "kernels/repack/KernelLayout.h"
#include "test/support/CudaCheck.h"
#include "test/support/RandomQuantWeight.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace hfq;
using kernels::ActType;
using kernels::KernelWeight;
using kernels::QuantWeight;
using kernels::ZeroKind;

namespace {

int failures = 0, runs = 0;
// Whether the device runs the Wgmma path (sm_90a code: compute capability 9.0).
bool wgmmaDevice = false;
// The M the Wgmma path is checked at beyond each case's own (its N tiles of
// 16 … 256 rows, several M-blocks, rows past M in a tile).
std::vector<int64_t> wgmmaMs = {17, 64, 100, 256, 1000};
// --wgmma: only the Wgmma path's runs.
bool onlyWgmma = false;

struct Case {
  ActType act;
  int bits;
  ZeroKind zeroKind;
  int64_t groupSize; // 0: one group per column
  bool actOrder;
  int64_t n, k;
  std::vector<int64_t> ms;
  bool bias;
};

const char *zeroName(ZeroKind z) {
  return z == ZeroKind::Symmetric ? "sym" : z == ZeroKind::Integer ? "int-zero" : "offset";
}

/// y = x · Wᵀ (+ bias) in float64 over the 16-bit x, on all cores.
std::vector<double> referenceProduct(const std::vector<float> &x,
                                     const std::vector<float> &w,
                                     const std::vector<float> &bias, int64_t m,
                                     int64_t n, int64_t k) {
  std::vector<double> y(m * n);
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int64_t i = t; i < m * n; i += threads) {
        int64_t r = i / n, c = i % n;
        const float *xr = &x[r * k], *wc = &w[c * k];
        double s = 0;
        for (int64_t j = 0; j < k; ++j)
          s += static_cast<double>(xr[j]) * wc[j];
        y[i] = s + (bias.empty() ? 0.0 : bias[c]);
      }
    });
  for (auto &th : pool)
    th.join();
  return y;
}

bool compare(const char *what, ActType act, const std::vector<uint16_t> &got,
             const std::vector<double> &ref) {
  double tol = act == ActType::BF16 ? 1e-2 : 2e-3;
  double num = 0, den = 0, maxRef = 0, maxErr = 0;
  int64_t nonFinite = 0, worst = -1;
  for (size_t i = 0; i < ref.size(); ++i) {
    double g = kernels::fromActBits(act, got[i]);
    if (!std::isfinite(g)) {
      ++nonFinite;
      continue;
    }
    double d = g - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
    maxRef = std::max(maxRef, std::fabs(ref[i]));
    if (std::fabs(d) > maxErr) {
      maxErr = std::fabs(d);
      worst = static_cast<int64_t>(i);
    }
  }
  double rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  bool ok = nonFinite == 0 && rel <= tol && maxErr <= 0.1 * maxRef + 1e-6;
  ++runs;
  if (!ok) {
    ++failures;
    std::printf("FAIL %s: rel %.3g (tol %.0e), %lld non-finite, max err %.3g at %lld "
                "(max |ref| %.3g)\n",
                what, rel, tol, static_cast<long long>(nonFinite), maxErr,
                static_cast<long long>(worst), maxRef);
  } else {
    std::printf("ok   %s: rel %.2e\n", what, rel);
  }
  return ok;
}

/// Waits for the device, at most 30 s: a kernel that never finishes (a
/// pipeline waiting on a barrier no one arrives at) is reported by name and
/// ends the program (exit tears the context down), instead of hanging it.
void finishOrExit(const char *what) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  cudaError_t status;
  while ((status = cudaStreamQuery(nullptr)) == cudaErrorNotReady) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::printf("FAIL %s: did not finish in 30 s (hang); stopping\n", what);
      std::fflush(stdout);
      std::_Exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK_CUDA(status);
  CHECK_CUDA(cudaDeviceSynchronize());
}

struct DeviceBuffer {
  void *ptr = nullptr;
  explicit DeviceBuffer(size_t bytes) { CHECK_CUDA(cudaMalloc(&ptr, bytes)); }
  ~DeviceBuffer() { cudaFree(ptr); }
};

void runCase(const Case &c, std::mt19937 &rng, cuda::Workspace &ws) {
  QuantWeight w = test::randomQuantWeight(c.bits, c.n, c.k, c.groupSize, c.zeroKind,
                                          c.actOrder, rng);
  std::string error;
  KernelWeight kw;
  char name[160];
  std::snprintf(name, sizeof name, "%s w%d %s g%lld%s N=%lld K=%lld%s",
                c.act == ActType::BF16 ? "bf16" : "fp16", c.bits, zeroName(c.zeroKind),
                static_cast<long long>(c.groupSize), c.actOrder ? " act-order" : "",
                static_cast<long long>(c.n), static_cast<long long>(c.k),
                c.bias ? " bias" : "");
  if (!kernels::packForKernel(w, c.act, kw, error)) {
    ++failures;
    std::printf("FAIL %s: packing: %s\n", name, error.c_str());
    return;
  }
  cuda::DeviceWeight dw;
  if (!dw.upload(kw, error) || (wgmmaDevice && !dw.uploadWgmma(kw, error))) {
    std::printf("FAIL %s: upload: %s\n", name, error.c_str());
    std::exit(1);
  }
  std::vector<float> wf = w.dequantize();
  // The dense dequantization alone: each element is the canonical weight
  // rounded through the kernel's 16-bit arithmetic (a few ulps).
  if (!onlyWgmma) {
    DeviceBuffer dense(c.n * c.k * 2);
    CHECK_CUDA(cudaMemset(dense.ptr, 0xff, c.n * c.k * 2));
    if (!cuda::dequantizeToDense(dw, dense.ptr, nullptr, error)) {
      std::printf("FAIL %s: dequantize: %s\n", name, error.c_str());
      std::exit(1);
    }
    std::vector<uint16_t> host(c.n * c.k);
    CHECK_CUDA(cudaMemcpy(host.data(), dense.ptr, host.size() * 2, cudaMemcpyDeviceToHost));
    double ulp = c.act == ActType::BF16 ? 1.0 / 128 : 1.0 / 1024;
    int64_t bad = 0;
    for (size_t i = 0; i < host.size(); ++i) {
      double g = kernels::fromActBits(c.act, host[i]), ref = wf[i];
      int64_t col = static_cast<int64_t>(i) / c.k;
      double s = w.scale[(w.groupOf(static_cast<int64_t>(i) % c.k)) * c.n + col];
      // Tolerance: 4 ulps of the weight plus 16-bit rounding of scale and
      // offset, relative to the group's scale times the code range.
      double bound = 4 * ulp * (std::fabs(ref) + s * (1 << c.bits));
      if (!std::isfinite(g) || std::fabs(g - ref) > bound)
        ++bad;
    }
    ++runs;
    if (bad) {
      ++failures;
      std::printf("FAIL %s: dequantize: %lld of %lld elements off\n", name,
                  static_cast<long long>(bad), static_cast<long long>(host.size()));
    } else {
      std::printf("ok   %s: dequantize to dense\n", name);
    }
  }

  std::vector<int64_t> ms = c.ms;
  if (wgmmaDevice)
    for (int64_t m : wgmmaMs)
      if (std::find(ms.begin(), ms.end(), m) == ms.end())
        ms.push_back(m);
  for (int64_t m : ms) {
    // The wave-1 paths at the case's own M; the Wgmma path at all.
    const bool wave1 =
        !onlyWgmma && std::find(c.ms.begin(), c.ms.end(), m) != c.ms.end();
    std::uniform_real_distribution<float> xd(-1.0f, 1.0f);
    std::vector<uint16_t> xh(m * c.k), bh(c.bias ? c.n : 0);
    std::vector<float> xf(m * c.k), bf(bh.size());
    for (size_t i = 0; i < xh.size(); ++i) {
      xh[i] = kernels::toActBits(c.act, xd(rng));
      xf[i] = kernels::fromActBits(c.act, xh[i]);
    }
    for (size_t i = 0; i < bh.size(); ++i) {
      bh[i] = kernels::toActBits(c.act, xd(rng));
      bf[i] = kernels::fromActBits(c.act, bh[i]);
    }
    std::vector<double> ref = referenceProduct(xf, wf, bf, m, c.n, c.k);
    DeviceBuffer x(xh.size() * 2), y(m * c.n * 2), bias(std::max<size_t>(bh.size(), 1) * 2);
    CHECK_CUDA(cudaMemcpy(x.ptr, xh.data(), xh.size() * 2, cudaMemcpyHostToDevice));
    if (c.bias)
      CHECK_CUDA(cudaMemcpy(bias.ptr, bh.data(), bh.size() * 2, cudaMemcpyHostToDevice));
    // Every path as Auto would run it, then split K off and at its maximum
    // with 4 and 8 warps per block, for the decode loop and the shared-memory
    // loop (one and two m16 tiles per warp).
    struct Run {
      cuda::LaunchConfig config;
      std::string label;
      bool misaligned = false;
    };
    std::vector<Run> plan;
    if (wgmmaDevice) {
      cuda::LaunchConfig config;
      config.path = cuda::LinearPath::Wgmma;
      plan.push_back({config, "wgmma"});
      config.splitK = 1;
      plan.push_back({config, "wgmma splitK=1"});
      config.splitK = 1 << 20;
      plan.push_back({config, "wgmma splitK=max"});
      config.splitK = 3;
      plan.push_back({config, "wgmma splitK=3, x misaligned", true});
    }
    for (cuda::LinearPath path : {cuda::LinearPath::Auto, cuda::LinearPath::Gemv,
                                  cuda::LinearPath::Gemm, cuda::LinearPath::Dequant}) {
      if (!wave1)
        break;
      cuda::LaunchConfig config;
      config.path = path;
      plan.push_back({config, cuda::linearPathName(path)});
    }
    // 8 warps per block where their shared memory fits in the shared-memory
    // loop (8-bit codes with groups of 32 take 4).
    const int wideWarps = c.bits == 8 && c.groupSize && c.groupSize < 64 ? 4 : 8;
    for (cuda::LinearPath path : {cuda::LinearPath::Gemv, cuda::LinearPath::Gemm})
      for (int mt : {1, 2}) {
        if (!wave1 || (path == cuda::LinearPath::Gemv && mt == 2))
          continue;
        cuda::LaunchConfig one;
        one.path = path;
        one.mTiles = mt;
        one.splitK = 1;
        one.warpsN = 4;
        cuda::LaunchConfig most = one;
        most.splitK = 1 << 20;
        most.warpsN = path == cuda::LinearPath::Gemv ? 8 : wideWarps;
        std::string base = std::string(cuda::linearPathName(path)) +
                           (path == cuda::LinearPath::Gemm ? " mt=" + std::to_string(mt) : "");
        plan.push_back({one, base + " splitK=1 wn=4"});
        plan.push_back({most, base + " splitK=max wn=" + std::to_string(most.warpsN)});
      }
    if (wave1) {
      // The decode loop with 2 warps per block and an odd split.
      cuda::LaunchConfig odd;
      odd.path = cuda::LinearPath::Gemv;
      odd.splitK = 3;
      odd.warpsN = 2;
      plan.push_back({odd, "gemv splitK=3 wn=2"});
      // Activations at an address that is not 8-byte aligned (a view into
      // a larger buffer): the decode loop takes an aligned copy.
      plan.push_back({cuda::LaunchConfig{}, "auto, x misaligned", true});
    }
    DeviceBuffer xOff(xh.size() * 2 + 16);
    CHECK_CUDA(cudaMemcpy(static_cast<char *>(xOff.ptr) + 2, xh.data(), xh.size() * 2,
                          cudaMemcpyHostToDevice));
    for (const Run &run : plan) {
      const cuda::LaunchConfig &config = run.config;
      const void *xin = run.misaligned ? static_cast<char *>(xOff.ptr) + 2 : x.ptr;
      CHECK_CUDA(cudaMemset(y.ptr, 0xff, m * c.n * 2));
      if (!cuda::linear(dw, xin, c.bias ? bias.ptr : nullptr, y.ptr, m, ws,
                        nullptr, config, error)) {
        ++failures;
        std::printf("FAIL %s M=%lld %s: %s\n", name, static_cast<long long>(m),
                    run.label.c_str(), error.c_str());
        continue;
      }
      char what[256];
      std::snprintf(what, sizeof what, "%s M=%lld %s", name, static_cast<long long>(m),
                    run.label.c_str());
      finishOrExit(what);
      std::vector<uint16_t> yh(m * c.n);
      CHECK_CUDA(
          cudaMemcpy(yh.data(), y.ptr, yh.size() * 2, cudaMemcpyDeviceToHost));
      compare(what, c.act, yh, ref);
    }
  }
  dw.release();
}

} // namespace

int main(int argc, char **argv) {
  // Line-buffered even into a log file: what ran before a crash or a hang
  // is kept.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  bool small = false, probe = false;
  for (int i = 1; i < argc; ++i) {
    small |= std::strcmp(argv[i], "--small") == 0;
    probe |= std::strcmp(argv[i], "--probe") == 0;
    onlyWgmma |= std::strcmp(argv[i], "--wgmma") == 0;
  }
  std::string why;
  if (!cuda::deviceAvailable(why)) {
    std::printf("SKIPPED: %s; the CUDA kernels were built but not run\n", why.c_str());
    return 77;
  }
  if (probe) {
    std::printf("a CUDA device is available: the GPU tests run under ctest\n");
    return 0;
  }
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (sm_%d%d, %d SMs)\n", prop.name, prop.major, prop.minor,
              prop.multiProcessorCount);
  wgmmaDevice = prop.major == 9 && prop.minor == 0;
  if (!wgmmaDevice)
    std::printf("not an sm_90 GPU: the Wgmma path is not checked\n");
  if (onlyWgmma && !wgmmaDevice)
    return 77;
  std::random_device seedSource;
  unsigned seed = seedSource();
  std::printf("seed: %u\n", seed);
  std::mt19937 rng(seed);

  const std::vector<int64_t> allM = {1, 3, 16, 100, 1024};
  const std::vector<int64_t> someM = {1, 3, 16, 100};
  std::vector<Case> cases;
  for (ActType act : {ActType::BF16, ActType::F16}) {
    // 4-bit: every zero kind and group size; N and K off the 64 x 128 tile.
    cases.push_back({act, 4, ZeroKind::Integer, 128, false, 1000, 2048, allM, true});
    cases.push_back({act, 4, ZeroKind::Symmetric, 32, false, 200, 1056, someM, false});
    cases.push_back({act, 4, ZeroKind::Offset, 64, false, 4100, 1216, someM, false});
    cases.push_back({act, 4, ZeroKind::Integer, 0, false, 136, 1000, someM, true});
    cases.push_back({act, 4, ZeroKind::Integer, 128, true, 520, 1536, someM, false});
    cases.push_back({act, 4, ZeroKind::Symmetric, 64, true, 72, 576, someM, true});
    // 8-bit: per channel (EETQ, bnb int8, quanto, torchao) and grouped.
    cases.push_back({act, 8, ZeroKind::Symmetric, 0, false, 1000, 1000, allM, true});
    cases.push_back({act, 8, ZeroKind::Integer, 128, false, 264, 1024, someM, false});
    cases.push_back({act, 8, ZeroKind::Offset, 32, false, 130, 608, someM, false});
  }
  if (small) {
    cases.resize(2);
    for (Case &c : cases)
      c.ms = {1, 16};
    wgmmaMs = {17, 100};
  }
  cuda::Workspace ws;
  for (const Case &c : cases)
    runCase(c, rng, ws);
  ws.release();
  CHECK_CUDA(cudaDeviceSynchronize());
  std::printf("%d checks, %d failed\n", runs, failures);
  return failures ? 1 : 0;
}
