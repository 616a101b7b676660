//===- ModelOpsBench.cpp - Attention over the KV cache on the GPU, timed --===//
//
// hfq_attention_bf16 of libhfq_model_ops_cuda.so on a Llama-3-8B layer
// (32 query heads, 8 KV heads, head_dim 128) at cache lengths 128, 2048 and
// 8192: a decode step (T = 1 at position L - 1) and a prefill (T = L from
// position 0). Each call is captured once into a CUDA graph (which also
// shows that an entry point launches without waiting) and the graph is
// replayed: median of 15 batches of 20 replays, CUDA events. The caches of
// 8 layers rotate, so decode reads its K/V from HBM, not the 50 MB L2.
//
// Decode is memory-bound: bytes = K and V of L positions (L·8·128·2·2) +
// q, k, v, out; the floor is bytes over the device-to-device copy
// bandwidth measured here (bytes read + written). Prefill is
// compute-bound: 4·H·D·Σ(pos + 1) FLOP, as TFLOP/s. A program, never a
// test; bench/model_ops_baseline.py times torch's scaled_dot_product_attention
// on the same shapes. Prints a markdown table; --json PATH writes the rows.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/ModelOps.h"
#include "kernels/ref/ModelOps.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

void check(cudaError_t status, const char *what) {
  if (status != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(status));
    std::exit(1);
  }
}

constexpr int64_t kHeads = 32, kKvHeads = 8, kDim = 128, kLayers = 8;

template <typename T> StridedMemRefType<T, 2> mat(T *d, int64_t r, int64_t c) {
  return {d, d, 0, {r, c}, {c, 1}};
}

/// Fills `n` bf16 values in [-1, 1) on the device.
void fillRandom(uint16_t *device, size_t n, std::mt19937 &rng) {
  std::vector<uint16_t> host(n);
  std::uniform_int_distribution<int> dist(0, 255);
  for (auto &h : host) // sign, exponent 2^-1..2^-4, random mantissa
    h = uint16_t((dist(rng) & 1) << 15 | (122 + dist(rng) % 4) << 7 |
                 (dist(rng) & 127));
  check(cudaMemcpy(device, host.data(), n * 2, cudaMemcpyHostToDevice),
        "upload");
}

/// Device-to-device copy bandwidth (bytes read + written), GB/s.
double copyBandwidth() {
  const size_t bytes = size_t(1) << 30;
  void *a, *b;
  check(cudaMalloc(&a, bytes), "malloc");
  check(cudaMalloc(&b, bytes), "malloc");
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<float> ms;
  for (int i = 0; i < 12; ++i) {
    cudaEventRecord(start);
    cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float t;
    cudaEventElapsedTime(&t, start, stop);
    if (i >= 2)
      ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / (ms[ms.size() / 2] * 1e-3) / 1e9;
}

struct Row {
  std::string kind;
  int64_t length;
  double us, bytes, flops;
};

/// Median µs of one attention call at T rows from `first`.
Row timeAttention(const char *kind, int64_t length, int64_t t, int64_t first,
                  cudaStream_t stream, std::mt19937 &rng) {
  const int64_t capacity = length, width = kHeads * kDim,
                kvWidth = kKvHeads * kDim;
  const size_t layerElems = size_t(2 * capacity * kvWidth);
  uint16_t *cache, *q, *k, *v, *out;
  int64_t *positions;
  check(cudaMalloc(&cache, layerElems * kLayers * 2), "cache");
  check(cudaMalloc(&q, size_t(t * width) * 2), "q");
  check(cudaMalloc(&k, size_t(t * kvWidth) * 2), "k");
  check(cudaMalloc(&v, size_t(t * kvWidth) * 2), "v");
  check(cudaMalloc(&out, size_t(t * width) * 2), "out");
  check(cudaMalloc(&positions, size_t(t) * 8), "positions");
  fillRandom(cache, layerElems * kLayers, rng);
  fillRandom(q, size_t(t * width), rng);
  fillRandom(k, size_t(t * kvWidth), rng);
  fillRandom(v, size_t(t * kvWidth), rng);
  std::vector<int64_t> host(static_cast<size_t>(t));
  for (int64_t i = 0; i < t; ++i)
    host[size_t(i)] = first + i;
  check(cudaMemcpy(positions, host.data(), host.size() * 8,
                   cudaMemcpyHostToDevice),
        "pos");
  check(cudaDeviceSynchronize(),
        "uploads"); // before the library's stream reads them

  auto om = mat(out, t, width), qm = mat(q, t, width);
  auto km = mat(k, t, kvWidth), vm = mat(v, t, kvWidth);
  StridedMemRefType<int64_t, 1> pm{positions, positions, 0, {t}, {1}};
  StridedMemRefType<uint16_t, 5> cm{
      cache,
      cache,
      0,
      {kLayers, 2, capacity, kKvHeads, kDim},
      {int64_t(layerElems), capacity * kvWidth, kvWidth, kDim, 1}};
  // One graph per layer (the args name the layer), all warmed up first.
  std::vector<cudaGraphExec_t> graphs;
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    double argv[6] = {double(layer), double(kHeads),      double(kKvHeads),
                      double(kDim),  0.08838834764831845, 0.0};
    StridedMemRefType<double, 1> am{argv, argv, 0, {6}, {1}};
    if (_mlir_ciface_hfq_attention_bf16(&om, &qm, &km, &vm, &pm, &cm, &am) !=
            0 ||
        hfq_cuda_model_ops_check() != 0) {
      std::fprintf(stderr, "attention failed: %s\n", hfq_kernel_last_error());
      std::exit(1);
    }
    cudaGraph_t graph;
    check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal),
          "capture");
    if (_mlir_ciface_hfq_attention_bf16(&om, &qm, &km, &vm, &pm, &cm, &am) !=
        0) {
      std::fprintf(stderr, "attention failed in capture: %s\n",
                   hfq_kernel_last_error());
      std::exit(1);
    }
    check(cudaStreamEndCapture(stream, &graph), "end capture");
    cudaGraphExec_t exec;
    check(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
    graphs.push_back(exec);
  }
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  const int perBatch = 20;
  std::vector<float> ms;
  for (int batch = 0; batch < 17; ++batch) {
    cudaEventRecord(start, stream);
    for (int i = 0; i < perBatch; ++i)
      cudaGraphLaunch(graphs[size_t(i % kLayers)], stream);
    cudaEventRecord(stop, stream);
    check(cudaEventSynchronize(stop), "run");
    float t;
    cudaEventElapsedTime(&t, start, stop);
    if (batch >= 2)
      ms.push_back(t / perBatch);
  }
  check(cudaGetLastError(), "replay");
  if (hfq_cuda_model_ops_check() != 0) {
    std::fprintf(stderr, "fault: %s\n", hfq_kernel_last_error());
    std::exit(1);
  }
  std::sort(ms.begin(), ms.end());
  for (auto g : graphs)
    cudaGraphExecDestroy(g);
  cudaFree(cache), cudaFree(q), cudaFree(k), cudaFree(v), cudaFree(out),
      cudaFree(positions);
  const double keys = double(first + t); // rows read by the last query
  double bytes =
      2.0 * keys * kvWidth * 2 + double(t) * (2 * width + 2 * kvWidth) * 2;
  double visible = 0; // Σ (pos + 1)
  for (int64_t i = 0; i < t; ++i)
    visible += double(first + i + 1);
  return {kind, length, ms[ms.size() / 2] * 1e3, bytes,
          4.0 * kHeads * kDim * visible};
}

} // namespace

int main(int argc, char **argv) {
  const char *json = nullptr;
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--json") && i + 1 < argc)
      json = argv[++i];
  cudaStream_t stream;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream");
  if (hfq_cuda_model_ops_set_stream(stream) != 0) {
    std::fprintf(stderr, "%s\n", hfq_kernel_last_error());
    return 1;
  }
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  const double bandwidth = copyBandwidth();
  std::printf("device %s, copy bandwidth %.0f GB/s (read + write)\n\n",
              prop.name, bandwidth);
  std::mt19937 rng(7);
  std::vector<Row> rows;
  for (int64_t length : {128, 2048, 8192}) {
    rows.push_back(timeAttention("decode", length, 1, length - 1, stream, rng));
    rows.push_back(timeAttention("prefill", length, length, 0, stream, rng));
  }
  std::printf(
      "| op | L | hfq µs | GB/s | floor µs (bytes / copy BW) | TFLOP/s |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const Row &r : rows)
    std::printf("| %s | %lld | %.1f | %.0f | %.1f | %.1f |\n", r.kind.c_str(),
                (long long)r.length, r.us, r.bytes / (r.us * 1e-6) / 1e9,
                r.bytes / (bandwidth * 1e9) * 1e6,
                r.flops / (r.us * 1e-6) / 1e12);
  if (json) {
    FILE *f = std::fopen(json, "w");
    std::fprintf(f, "{\"device\": \"%s\", \"copy_gbs\": %.1f, \"rows\": [",
                 prop.name, bandwidth);
    for (size_t i = 0; i < rows.size(); ++i)
      std::fprintf(f,
                   "%s{\"op\": \"%s\", \"L\": %lld, \"us\": %.3f, \"bytes\": "
                   "%.0f, \"flops\": %.0f}",
                   i ? ", " : "", rows[i].kind.c_str(),
                   (long long)rows[i].length, rows[i].us, rows[i].bytes,
                   rows[i].flops);
    std::fprintf(f, "]}\n");
    std::fclose(f);
  }
  return 0;
}
