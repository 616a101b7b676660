//===- WeightOnlyBench.cpp - hfq's W4A16/W8A16 kernels beside cuBLAS ------===//
//
// A program, never a test: times hfq's weight-only kernels and cuBLAS bf16
// (cublasGemmEx, the same GEMM torch's F.linear calls) in one process, over
// the N x K and M grid of the kernel issue, and the bitsandbytes NF4 kernel
// (Bnb4.h: double quant, blocksize 64, the checkpoint's bytes) beside them
// as hfq-bnb4-nf4. On an sm_90 GPU the Wgmma path (LinearPath::Wgmma, not
// yet chosen by Auto) is timed forced, as hfq-w4g128-wgmma and hfq-w8-wgmma,
// and cuBLAS bf16 is timed a second time after every hfq row of that M
// (cublas-bf16-again), so each kernel can be set against the best dense
// bf16 of the same run. On sm_90 also fine-grained FP8 (Fp8.h: e4m3 with
// 128 x 128 f32 block scales, dynamic 1 x 128 activation quantization
// included in the time) as hfq-fp8-block. Methodology (see
// kernels/cuda/NOTES.md):
//   - weights rotated over enough copies that one pass over them is more
//     than 3x the 60 MB L2, so every launch streams its weight from HBM;
//   - M <= 64: a CUDA graph of many launches, replayed; the time per launch
//     is the graph's time over its launch count (launch gaps shrink to what
//     a serving engine's graph would see); larger M: plain launches;
//   - CUDA events, a warm-up, then the median of `trials` measurements;
//   - random data everywhere (never zeros).
// Output: a markdown table on stdout and JSON (--json FILE). bench/run.sh
// adds torch's built-in int4 (tinygemm) and F.linear from the same run.
//
//   hfq-bench [--json FILE] [--quick] [--tune] [--shapes NxK,...] [--ms 1,16]
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/WeightOnly.h"
#include "kernels/abi/Tensor.h"
#include "kernels/cuda/Bnb4.h"
#include "kernels/cuda/Fp8.h"
#include "kernels/ref/Bitsandbytes.h"
#include "kernels/repack/KernelLayout.h"
#include "kernels/repack/WgmmaRepack.h"
#include "test/support/CudaCheck.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace hfq;
using kernels::ActType;
using kernels::QuantWeight;
using kernels::ZeroKind;

namespace {

#define CHECK_CUBLAS(call)                                                     \
  do {                                                                         \
    cublasStatus_t status_ = (call);                                           \
    if (status_ != CUBLAS_STATUS_SUCCESS) {                                    \
      std::fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__,     \
                   #call, static_cast<int>(status_));                          \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

constexpr size_t kL2Bytes = 60u << 20;

struct Options {
  std::string json;
  bool quick = false;
  bool tune = false;
  std::vector<std::pair<int64_t, int64_t>> shapes = {
      {4096, 4096}, {14336, 4096}, {4096, 14336}, {8192, 8192}, {28672, 8192}};
  std::vector<int64_t> ms = {1, 16, 64, 256, 1024, 4096};
};

// The stream launch() must use (timeLaunches' own, captured into graphs).
thread_local cudaStream_t currentStream = nullptr;

/// Median time in microseconds of one call of `launch(i)` (i = rotation
/// index), over `trials` measurements.
double timeLaunches(const std::function<void(int)> &launch, int copies,
                    bool graph, int trials) {
  cudaStream_t stream;
  CHECK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  currentStream = stream;
  // Warm-up (module load, cuBLAS heuristics, workspace growth).
  for (int i = 0; i < copies; ++i)
    launch(i);
  CHECK_CUDA(cudaDeviceSynchronize());
  // Launches per measurement: whole rotations, at least ~64 launches in a
  // graph; one rotation for long (ungraphed) kernels.
  int rounds = graph ? std::max(1, (64 + copies - 1) / copies) : 1;
  int perMeasure = rounds * copies;
  cudaGraphExec_t exec = nullptr;
  cudaGraph_t g = nullptr;
  if (graph) {
    CHECK_CUDA(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    for (int r = 0; r < rounds; ++r)
      for (int i = 0; i < copies; ++i)
        launch(i);
    CHECK_CUDA(cudaStreamEndCapture(stream, &g));
    CHECK_CUDA(cudaGraphInstantiate(&exec, g, 0));
    CHECK_CUDA(cudaGraphLaunch(exec, stream));
    CHECK_CUDA(cudaStreamSynchronize(stream));
  }
  cudaEvent_t start, stop;
  CHECK_CUDA(cudaEventCreate(&start));
  CHECK_CUDA(cudaEventCreate(&stop));
  std::vector<double> times;
  for (int t = 0; t < trials; ++t) {
    CHECK_CUDA(cudaEventRecord(start, stream));
    if (graph) {
      CHECK_CUDA(cudaGraphLaunch(exec, stream));
    } else {
      for (int r = 0; r < rounds; ++r)
        for (int i = 0; i < copies; ++i)
          launch(i);
    }
    CHECK_CUDA(cudaEventRecord(stop, stream));
    CHECK_CUDA(cudaEventSynchronize(stop));
    float ms = 0;
    CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms * 1000.0 / perMeasure);
  }
  CHECK_CUDA(cudaGetLastError());
  if (exec) {
    CHECK_CUDA(cudaGraphExecDestroy(exec));
    CHECK_CUDA(cudaGraphDestroy(g));
  }
  CHECK_CUDA(cudaEventDestroy(start));
  CHECK_CUDA(cudaEventDestroy(stop));
  CHECK_CUDA(cudaStreamDestroy(stream));
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void fillRandom16(void *device, size_t count, std::mt19937 &rng, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<uint16_t> host(count);
  for (auto &v : host)
    v = kernels::floatToBf16(d(rng));
  CHECK_CUDA(cudaMemcpy(device, host.data(), count * 2, cudaMemcpyHostToDevice));
}

QuantWeight randomWeight(int bits, int64_t n, int64_t k, int64_t group,
                         ZeroKind zk, std::mt19937 &rng) {
  QuantWeight w;
  w.bits = bits;
  w.n = n;
  w.k = k;
  w.groupSize = group ? group : k;
  w.zeroKind = zk;
  std::uniform_int_distribution<int> code(0, (1 << bits) - 1);
  std::uniform_real_distribution<float> scale(0.004f, 0.02f);
  w.q.resize(n * k);
  // One random row pattern per 64 rows, shifted: generating 235M codes one
  // by one costs seconds per copy; the timing does not depend on them.
  std::vector<uint8_t> pattern(64 * k + 64);
  for (auto &v : pattern)
    v = static_cast<uint8_t>(code(rng));
  for (int64_t r = 0; r < n; ++r)
    std::memcpy(&w.q[r * k], &pattern[(r % 64) * k + (r / 64) % 64], k);
  int64_t groups = k / w.groupSize;
  w.scale.resize(groups * n);
  for (auto &v : w.scale)
    v = scale(rng);
  if (zk == ZeroKind::Integer) {
    w.zero.resize(groups * n);
    for (auto &v : w.zero)
      v = static_cast<float>(code(rng));
  }
  return w;
}

/// A random NF4 weight with double quantization (blocksize 64, nested 256)
/// on the device, uploaded as a checkpoint's would be. Codes repeat a random
/// pattern (as randomWeight's do); the absmax codes, nested absmax and the
/// map are bnb's kinds of values.
bool randomBnb4(int64_t n, int64_t k, std::mt19937 &rng, cuda::Bnb4Weight &out,
                std::string &error) {
  const int64_t nk = n * k, blocks = (nk + 63) / 64, nested = (blocks + 255) / 256;
  std::vector<uint8_t> codes(static_cast<size_t>((nk + 1) / 2)),
      absmax(static_cast<size_t>(blocks));
  // 64 KB of random bytes, copied at a shifting offset.
  std::vector<uint8_t> pattern((1 << 16) + 256);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto &v : pattern)
    v = static_cast<uint8_t>(byte(rng));
  const size_t step = 1 << 16;
  for (size_t i = 0; i < codes.size(); i += step)
    std::memcpy(&codes[i], &pattern[(i / step) % 256], std::min(step, codes.size() - i));
  for (auto &v : absmax)
    v = static_cast<uint8_t>(byte(rng));
  std::vector<float> nestedAbsmax(static_cast<size_t>(nested));
  std::uniform_real_distribution<float> scale(0.004f, 0.02f);
  for (auto &v : nestedAbsmax)
    v = scale(rng);
  const std::array<float, 256> map = kernels::bnbDynamicMap();
  const float offset = 0.01f;
  kernels::Bnb4Operands op;
  op.params.type = kernels::Bnb4Type::NF4;
  op.params.blocksize = 64;
  op.params.doubleQuant = true;
  op.params.nestedOffset = offset;
  op.weight = {codes.data(), kernels::DType::U8, {(nk + 1) / 2, 1}};
  op.absmax = {absmax.data(), kernels::DType::U8, {blocks}};
  op.nestedAbsmax = {nestedAbsmax.data(), kernels::DType::F32, {nested}};
  op.nestedQuantMap = {map.data(), kernels::DType::F32, {256}};
  return out.upload(op, n, k, ActType::BF16, error);
}

/// A random fine-grained FP8 weight (e4m3 codes, no NaN; one f32 scale per
/// 128 x 128 block), on the device.
bool randomFp8(int64_t n, int64_t k, std::mt19937 &rng, cuda::Fp8Weight &out,
               std::string &error) {
  std::vector<uint8_t> codes(static_cast<size_t>(n * k));
  std::vector<uint8_t> pattern((1 << 16) + 256);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto &v : pattern) {
    v = static_cast<uint8_t>(byte(rng));
    if ((v & 0x7f) == 0x7f)
      v ^= 1; // e4m3fn's NaN
  }
  const size_t step = 1 << 16;
  for (size_t i = 0; i < codes.size(); i += step)
    std::memcpy(&codes[i], &pattern[(i / step) % 256], std::min(step, codes.size() - i));
  std::vector<float> scales(static_cast<size_t>(((n + 127) / 128) * (k / 128)));
  std::uniform_real_distribution<float> scale(1e-4f, 4e-4f);
  for (auto &v : scales)
    v = scale(rng);
  cuda::Fp8Operands op;
  op.weight = {codes.data(), kernels::DType::F8E4M3FN, {n, k}};
  op.scaleInv = {scales.data(), kernels::DType::F32, {(n + 127) / 128, k / 128}};
  return out.upload(op, n, k, ActType::BF16, error);
}

struct Row {
  int64_t n, k, m;
  std::string kernel; // "cublas-bf16", "hfq-w4g128", "hfq-w8"
  std::string path;
  double us;
  double weightBytes;
};

std::vector<int64_t> parseList(const char *s) {
  std::vector<int64_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(std::stoll(item));
  return out;
}

/// Reads the command line into `opt`; false (after the usage line) on a bad
/// argument.
bool parseOptions(int argc, char **argv, Options &opt) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json" && i + 1 < argc) {
      opt.json = argv[++i];
    } else if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--tune") {
      opt.tune = true;
    } else if (a == "--ms" && i + 1 < argc) {
      opt.ms = parseList(argv[++i]);
    } else if (a == "--shapes" && i + 1 < argc) {
      opt.shapes.clear();
      std::stringstream in(argv[++i]);
      std::string item;
      while (std::getline(in, item, ',')) {
        size_t x = item.find('x');
        opt.shapes.push_back({std::stoll(item.substr(0, x)), std::stoll(item.substr(x + 1))});
      }
    } else {
      std::fprintf(stderr, "usage: hfq-bench [--json FILE] [--quick] [--tune] "
                           "[--shapes NxK,...] [--ms 1,16,...]\n");
      return false;
    }
  }
  return true;
}

/// The launch configurations timed at M rows: the default (Auto) alone, or
/// with --tune the sweep of split K, warps per block and m-tiles.
std::vector<cuda::LaunchConfig> launchConfigs(int64_t m, bool tune) {
  std::vector<cuda::LaunchConfig> configs(1);
  if (tune && m <= 64) {
    for (int wn : {1, 2, 4, 8})
      for (int s : {1, 2, 4, 8, 16, 32})
        for (int mt : {1, 2}) {
          if ((m <= 16 && mt == 2) || (m > 16 && wn < 4))
            continue;
          cuda::LaunchConfig c;
          c.path = m <= 16 ? cuda::LinearPath::Gemv : cuda::LinearPath::Gemm;
          c.warpsN = wn;
          c.splitK = s;
          c.mTiles = mt;
          configs.push_back(c);
        }
  }
  if (tune && m >= 64) {
    cuda::LaunchConfig c;
    c.path = cuda::LinearPath::Dequant;
    configs.push_back(c);
    c.path = cuda::LinearPath::Gemm;
    configs.push_back(c);
  }
  return configs;
}

/// Markdown: one line per (shape, M, kernel), speedup against the better of
/// the two cuBLAS bf16 timings of that shape and M.
void printTable(const std::vector<Row> &rows) {
  std::printf("\n| N x K | M | kernel | path | time (us) | vs cuBLAS bf16 | weight GB/s | TFLOP/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const Row &r : rows) {
    double base = 0;
    for (const Row &b : rows)
      if (b.n == r.n && b.k == r.k && b.m == r.m && b.kernel.rfind("cublas-bf16", 0) == 0 &&
          (base == 0 || b.us < base))
        base = b.us;
    double flops = 2.0 * r.m * r.n * r.k / (r.us * 1e-6) / 1e12;
    std::printf("| %lldx%lld | %lld | %s | %s | %.1f | %.2fx | %.0f | %.1f |\n",
                static_cast<long long>(r.n), static_cast<long long>(r.k),
                static_cast<long long>(r.m), r.kernel.c_str(), r.path.c_str(), r.us,
                base / r.us, r.weightBytes / (r.us * 1e-6) / 1e9, flops);
  }
}

/// Writes the rows as JSON for bench/report.py.
bool writeJson(const std::string &path, const char *device,
               const std::vector<Row> &rows) {
  FILE *f = std::fopen(path.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return false;
  }
  std::fprintf(f, "{\"device\": \"%s\", \"rows\": [\n", device);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row &r = rows[i];
    std::fprintf(f,
                 "  {\"n\": %lld, \"k\": %lld, \"m\": %lld, \"kernel\": \"%s\", \"path\": "
                 "\"%s\", \"us\": %.3f, \"weight_bytes\": %.0f}%s\n",
                 static_cast<long long>(r.n), static_cast<long long>(r.k),
                 static_cast<long long>(r.m), r.kernel.c_str(), r.path.c_str(), r.us,
                 r.weightBytes, i + 1 < rows.size() ? "," : "");
  }
  std::fprintf(f, "]}\n");
  std::fclose(f);
  return true;
}

} // namespace

int main(int argc, char **argv) {
  Options opt;
  if (!parseOptions(argc, argv, opt))
    return 2;
  std::string why;
  if (!cuda::deviceAvailable(why)) {
    std::fprintf(stderr, "hfq-bench: %s\n", why.c_str());
    return 77;
  }
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount,
              prop.l2CacheSize >> 20);
  const int trials = opt.quick ? 5 : 15;
  const bool wgmma = prop.major == 9 && prop.minor == 0;
  std::mt19937 rng(1234);
  cublasHandle_t handle;
  CHECK_CUBLAS(cublasCreate(&handle));
  std::vector<Row> rows;

  for (auto shape : opt.shapes) {
    const int64_t n = shape.first, k = shape.second;
    // --- cuBLAS bf16 baseline: weight copies, x and y.
    size_t denseBytes = static_cast<size_t>(n) * k * 2;
    int denseCopies = static_cast<int>(std::max<size_t>(1, (3 * kL2Bytes + denseBytes - 1) / denseBytes));
    std::vector<void *> dense(denseCopies);
    for (auto &d : dense) {
      CHECK_CUDA(cudaMalloc(&d, denseBytes));
      fillRandom16(d, static_cast<size_t>(n) * k, rng, -0.05f, 0.05f);
    }
    int64_t maxM = *std::max_element(opt.ms.begin(), opt.ms.end());
    void *x, *y;
    CHECK_CUDA(cudaMalloc(&x, static_cast<size_t>(maxM) * k * 2));
    CHECK_CUDA(cudaMalloc(&y, static_cast<size_t>(maxM) * n * 2));
    fillRandom16(x, static_cast<size_t>(maxM) * k, rng, -1.0f, 1.0f);

    // --- hfq weights: 4-bit g128 with zero points (GPTQ/AWQ) and 8-bit per
    // channel (EETQ, bnb int8, torchao int8, quanto int8).
    struct Format {
      const char *name;
      int bits;
      int64_t group;
      ZeroKind zk;
    };
    const Format formats[] = {{"hfq-w4g128", 4, 128, ZeroKind::Integer},
                              {"hfq-w8", 8, 0, ZeroKind::Symmetric}};
    std::vector<std::vector<cuda::DeviceWeight>> weights;
    for (const Format &f : formats) {
      QuantWeight qw = randomWeight(f.bits, n, k, f.group, f.zk, rng);
      kernels::KernelWeight kw;
      std::string error;
      if (!kernels::packForKernel(qw, ActType::BF16, kw, error)) {
        std::fprintf(stderr, "packing %s: %s\n", f.name, error.c_str());
        return 1;
      }
      kernels::WgmmaWeight ww; // the Wgmma path's layout, re-laid once for every copy
      if (wgmma && !kernels::packForWgmma(kw, ww, error)) {
        std::fprintf(stderr, "packing %s for wgmma: %s\n", f.name, error.c_str());
        return 1;
      }
      size_t bytes = kw.q.size() + 2 * (kw.scales.size() + kw.zeros.size());
      int copies = static_cast<int>(std::max<size_t>(1, (3 * kL2Bytes + bytes - 1) / bytes));
      std::vector<cuda::DeviceWeight> set(copies);
      for (auto &dw : set)
        if (!dw.upload(kw, error) || (wgmma && !dw.uploadWgmma(ww, error))) {
          std::fprintf(stderr, "upload: %s\n", error.c_str());
          return 1;
        }
      weights.push_back(std::move(set));
    }

    // --- bitsandbytes NF4 (double quant, blocksize 64).
    std::vector<cuda::Bnb4Weight> bnb4;
    {
      const size_t bytes = static_cast<size_t>(n) * k / 2 + static_cast<size_t>(n) * k / 64;
      int copies = static_cast<int>(std::max<size_t>(1, (3 * kL2Bytes + bytes - 1) / bytes));
      bnb4.resize(copies);
      for (auto &w : bnb4) {
        std::string error;
        if (!randomBnb4(n, k, rng, w, error)) {
          std::fprintf(stderr, "bnb4 upload: %s\n", error.c_str());
          return 1;
        }
      }
    }

    // --- fine-grained FP8 (sm_90a only).
    std::vector<cuda::Fp8Weight> fp8;
    if (wgmma) {
      const size_t bytes = static_cast<size_t>(n) * k;
      fp8.resize(std::max<size_t>(1, (3 * kL2Bytes + bytes - 1) / bytes));
      for (auto &w : fp8) {
        std::string error;
        if (!randomFp8(n, k, rng, w, error)) {
          std::fprintf(stderr, "fp8 upload: %s\n", error.c_str());
          return 1;
        }
      }
    }

    for (int64_t m : opt.ms) {
      const bool graph = m <= 64;
      // cuBLAS bf16.
      const float alpha = 1.0f, beta = 0.0f;
      auto timeCublas = [&] {
        return timeLaunches(
            [&](int i) {
              CHECK_CUBLAS(cublasSetStream(handle, currentStream));
              CHECK_CUBLAS(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n),
                                        static_cast<int>(m), static_cast<int>(k), &alpha,
                                        dense[i], CUDA_R_16BF, static_cast<int>(k), x,
                                        CUDA_R_16BF, static_cast<int>(k), &beta, y, CUDA_R_16BF,
                                        static_cast<int>(n), CUBLAS_COMPUTE_32F,
                                        CUBLAS_GEMM_DEFAULT));
            },
            denseCopies, graph, trials);
      };
      rows.push_back({n, k, m, "cublas-bf16", "cublasGemmEx", timeCublas(),
                      static_cast<double>(denseBytes)});

      for (size_t f = 0; f < weights.size(); ++f) {
        auto &set = weights[f];
        std::vector<cuda::LaunchConfig> configs = launchConfigs(m, opt.tune);
        if (wgmma) {
          cuda::LaunchConfig forced;
          forced.path = cuda::LinearPath::Wgmma;
          configs.push_back(forced);
        }
        cuda::Workspace ws;
        for (const cuda::LaunchConfig &config : configs) {
          std::string error;
          bool failed = false;
          double t = timeLaunches(
              [&](int i) {
                if (!failed && !cuda::linear(set[i], x, nullptr, y, m, ws, currentStream,
                                             config, error)) {
                  std::fprintf(stderr, "hfq linear: %s\n", error.c_str());
                  failed = true;
                }
              },
              static_cast<int>(set.size()), graph, trials);
          if (failed)
            return 1;
          char path[96];
          cuda::LinearPath chosen = config.path == cuda::LinearPath::Auto
                                        ? cuda::chooseLinearPath(set[0], m)
                                        : config.path;
          std::snprintf(path, sizeof path, "%s%s", cuda::linearPathName(chosen),
                        config.path == cuda::LinearPath::Auto ? "" : " (tuning)");
          if (config.splitK || config.warpsN || config.mTiles)
            std::snprintf(path + std::strlen(path), sizeof path - std::strlen(path),
                          " s%d w%d mt%d", config.splitK, config.warpsN, config.mTiles);
          const std::string kernel = std::string(formats[f].name) +
                                     (config.path == cuda::LinearPath::Wgmma ? "-wgmma" : "");
          rows.push_back({n, k, m, kernel, path, t, static_cast<double>(set[0].bytes())});
        }
        ws.release();
      }
      {
        cuda::Workspace ws;
        std::string error;
        bool failed = false;
        const cuda::LaunchConfig config;
        double t = timeLaunches(
            [&](int i) {
              if (!failed &&
                  !cuda::bnb4Linear(bnb4[i], x, nullptr, y, m, ws, currentStream, config, error)) {
                std::fprintf(stderr, "hfq bnb4: %s\n", error.c_str());
                failed = true;
              }
            },
            static_cast<int>(bnb4.size()), graph, trials);
        if (failed)
          return 1;
        rows.push_back({n, k, m, "hfq-bnb4-nf4",
                        cuda::linearPathName(cuda::chooseBnb4Path(bnb4[0], m)), t,
                        static_cast<double>(bnb4[0].bytes())});
        ws.release();
      }
      if (!fp8.empty()) {
        cuda::Workspace ws;
        std::string error;
        bool failed = false;
        const cuda::LaunchConfig config;
        double t = timeLaunches(
            [&](int i) {
              if (!failed &&
                  !cuda::fp8Linear(fp8[i], x, nullptr, y, m, ws, currentStream, config, error)) {
                std::fprintf(stderr, "hfq fp8: %s\n", error.c_str());
                failed = true;
              }
            },
            static_cast<int>(fp8.size()), graph, trials);
        if (failed)
          return 1;
        rows.push_back({n, k, m, "hfq-fp8-block",
                        cuda::linearPathName(cuda::chooseFp8Path(fp8[0], m)), t,
                        static_cast<double>(fp8[0].bytes())});
        ws.release();
      }
      // cuBLAS again, after the hfq rows: the best dense bf16 of the two
      // is the one each kernel is set against (bench/report.py).
      rows.push_back({n, k, m, "cublas-bf16-again", "cublasGemmEx", timeCublas(),
                      static_cast<double>(denseBytes)});
      std::fprintf(stderr, "done %lldx%lld M=%lld\n", static_cast<long long>(n),
                   static_cast<long long>(k), static_cast<long long>(m));
    }
    for (auto &set : weights)
      for (auto &dw : set)
        dw.release();
    for (auto &w : bnb4)
      w.release();
    for (auto &w : fp8)
      w.release();
    for (void *d : dense)
      CHECK_CUDA(cudaFree(d));
    CHECK_CUDA(cudaFree(x));
    CHECK_CUDA(cudaFree(y));
  }
  CHECK_CUBLAS(cublasDestroy(handle));

  printTable(rows);
  if (!opt.json.empty() && !writeJson(opt.json, prop.name, rows))
    return 1;
  return 0;
}
