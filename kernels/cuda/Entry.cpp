//===- Entry.cpp - The CUDA weight-only kernels behind the kernel ABI -----===//
//
// The symbols lowered IR calls for the CUDA kernels the specs name,
//
//   _mlir_ciface_hfq_<m>_w<b>a16_<gemv|gemm>_<act>,
//   _mlir_ciface_hfq_<m>_generic_<act>,
//   _mlir_ciface_hfq_bnb4_<gemv|gemm>_<act>,
//   _mlir_ciface_hfq_fp8_<block_gemm|scaled_mm>_<act>
//
// with the one signature of kernels/include/hfq_kernels.h (act f16 or bf16;
// the f32 variants exist and refuse), one set per kernel of the generated
// HFQ_CUDA_KERNELS list (kernels/generated/MethodArgs.h, from the specs'
// non-planned kernel rules): a kernel a spec adds is defined here, or the
// build says why not. Each call
//   1. checks the descriptors (x [M, K], y [M, N], bias [N] or [0]) and
//      decodes the tensor table with the ABI runtime's decoder
//      (kernels/abi/Abi.h);
//   2. finds the weight in a process-wide cache or builds it: the method's
//      converter (quantWeightFromCheckpoint, which decodes the args with the
//      method's generated decoder and validates the packed tensors with the
//      reference's checks) -> packForKernel -> DeviceWeight::
//      upload. This is the load-time repack, done once per weight. A
//      bitsandbytes 4-bit weight is not repacked: bnb4Operands (the
//      reference's checks) -> Bnb4Weight::upload, the bytes as stored
//      (Bnb4.h); nor is an FP8 one: fp8Operands -> Fp8Weight::upload
//      (Fp8.h);
//   3. where x and y are host memory (the CPU target's lowered code, the
//      tests): copies x (and bias) to device buffers, runs cuda::linear
//      or cuda::bnb4Linear (the Gemv path for *_gemv kernels, Auto for
//      *_gemm), copies y back
//      and synchronizes, checking every CUDA call;
//      where x is device memory (the GPU target, docs/runtime.md): y must
//      be too; launches on hfq_cuda_set_stream's stream and returns, the
//      bias copied to the device once if it is host memory.
// Any failure returns 1 with "<kernel>: <what>" in hfq_kernel_last_error()
// and leaves y untouched: y is copied back into a host staging buffer and
// written only once the stream has finished without error.
//
// The cache key is (method, activation type, N, K, the args, every packed
// tensor's address, dtype and shape), not the packed bytes: the cache
// assumes the packed buffers are immutable constants for the life of the
// process, which is what hfq-bind-checkpoint produces (the checkpoint's
// tensors as constants of the module). A caller that frees or rewrites
// packed buffers calls hfq_cuda_release_weights() first (Entry.h). The
// *_gemv and *_gemm kernels of a method share entries: they read the same
// repacked weight.
//
// Host code only; it links the CUDA runtime and kernels/cuda/WeightOnly.cu.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Entry.h"

#include "kernels/cuda/DeviceReadable.h"

#include "kernels/abi/Abi.h"
#include "kernels/cuda/Bnb4.h"
#include "kernels/cuda/Fp8.h"
#include "kernels/cuda/WeightOnly.h"
#include "kernels/generated/MethodArgs.h"
#include "kernels/include/hfq_kernels.h"
#include "kernels/repack/FromCheckpoint.h"
#include "kernels/repack/KernelLayout.h"
#include "kernels/repack/QuantWeight.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cuda_runtime.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace {

using hfq::cuda::Bnb4Weight;
using hfq::cuda::DeviceWeight;
using hfq::cuda::deviceReadable;
using hfq::cuda::Fp8Weight;
using hfq::cuda::LaunchConfig;
using hfq::cuda::LinearPath;
using hfq::cuda::Workspace;
using hfq::kernels::ActType;
using hfq::kernels::failKernel;
using hfq::kernels::KernelWeight;
using hfq::kernels::QuantWeight;
using hfq::kernels::TensorView;

/// f16 and bf16 memref elements: MLIR passes them as 2-byte values (its
/// CRunnerUtils / Float16bits `f16` and `bf16` hold one uint16_t).
using Half = uint16_t;

/// The weight formats of the CUDA kernels: integer codes repacked into the
/// tile layout (WeightOnly.h), bitsandbytes' NF4 / FP4 as stored (Bnb4.h), or
/// fine-grained FP8 as stored (Fp8.h).
enum class WeightFormat { Integer, Bnb4, Fp8 };

/// One CUDA kernel the specs name.
struct KernelInfo {
  const char *name;   // "hfq_gptq_w4a16_gemv"
  const char *method; // its spec quantizer key, "gptq"
  int bits;           // weight bits the kernel takes (0: generic, every
                      // width but 4 and 8, widened to the 8-bit layout)
  LinearPath path;    // Gemv for *_gemv, Auto for *_gemm
  WeightFormat format;
};

/// How a kernel is served, read from its name: hfq_<m>_w<b>a16_gemv (b-bit
/// codes, the Gemv path), hfq_<m>_w<b>a16_gemm (b-bit codes, Auto) for b 4
/// or 8, hfq_<m>_generic (the other widths, widened to the 8-bit layout
/// at load, Auto), and hfq_bnb4_gemv / hfq_bnb4_gemm (NF4 / FP4, Gemv /
/// Auto). `known` is false for any other name.
struct KernelShape {
  bool known;
  int bits;
  LinearPath path;
  WeightFormat format;
};

constexpr bool endsWith(const char *name, const char *suffix) {
  size_t n = 0, s = 0;
  while (name[n])
    ++n;
  while (suffix[s])
    ++s;
  if (s > n)
    return false;
  for (size_t i = 0; i < s; ++i)
    if (name[n - s + i] != suffix[i])
      return false;
  return true;
}

constexpr KernelShape kernelShape(const char *name) {
  constexpr struct {
    const char *suffix;
    KernelShape shape;
  } kShapes[] = {
      {"_w4a16_gemv", {true, 4, LinearPath::Gemv, WeightFormat::Integer}},
      {"_w4a16_gemm", {true, 4, LinearPath::Auto, WeightFormat::Integer}},
      {"_w8a16_gemv", {true, 8, LinearPath::Gemv, WeightFormat::Integer}},
      {"_w8a16_gemm", {true, 8, LinearPath::Auto, WeightFormat::Integer}},
      {"_generic", {true, 0, LinearPath::Auto, WeightFormat::Integer}},
      {"_bnb4_gemv", {true, 4, LinearPath::Gemv, WeightFormat::Bnb4}},
      {"_bnb4_gemm", {true, 4, LinearPath::Auto, WeightFormat::Bnb4}},
      {"_fp8_block_gemm", {true, 8, LinearPath::Auto, WeightFormat::Fp8}},
      {"_fp8_scaled_mm", {true, 8, LinearPath::Auto, WeightFormat::Fp8}},
  };
  for (const auto &entry : kShapes)
    if (endsWith(name, entry.suffix))
      return entry.shape;
  return {false, 0, LinearPath::Auto, WeightFormat::Integer};
}

bool cudaOk(cudaError_t status, const char *what, std::string &error) {
  if (status == cudaSuccess)
    return true;
  error = std::string(what) + ": " + cudaGetErrorString(status);
  return false;
}

//===----------------------------------------------------------------------===//
// The repacked weights
//===----------------------------------------------------------------------===//

struct CacheKey {
  std::string method;
  std::vector<int64_t> words; // act, n, k, args (bits), then per tensor:
                              // address, dtype, rank, sizes
  bool operator<(const CacheKey &other) const {
    return std::tie(method, words) < std::tie(other.method, other.words);
  }
};

CacheKey cacheKey(const KernelInfo &kernel, ActType act, int64_t n, int64_t k,
                  const std::vector<double> &args,
                  const std::vector<TensorView> &packed) {
  CacheKey key;
  key.method = kernel.method;
  key.words = {static_cast<int64_t>(act), n, k,
               static_cast<int64_t>(args.size())};
  for (double arg : args) {
    int64_t bits;
    std::memcpy(&bits, &arg, sizeof bits);
    key.words.push_back(bits);
  }
  for (const TensorView &view : packed) {
    key.words.push_back(
        static_cast<int64_t>(reinterpret_cast<intptr_t>(view.data)));
    key.words.push_back(static_cast<int64_t>(view.dtype));
    key.words.push_back(static_cast<int64_t>(view.shape.size()));
    key.words.insert(key.words.end(), view.shape.begin(), view.shape.end());
  }
  return key;
}

struct WeightCache {
  std::mutex mutex;
  std::map<CacheKey, std::shared_ptr<const DeviceWeight>> weights;
  std::map<CacheKey, std::shared_ptr<const Bnb4Weight>> bnb4;
  std::map<CacheKey, std::shared_ptr<const Fp8Weight>> fp8;
};

/// Never destroyed: device memory goes with the process, and no destructor
/// runs after the CUDA runtime has shut down.
WeightCache &weightCache() {
  static WeightCache *cache = new WeightCache;
  return *cache;
}

/// The weight of this call from the cache, or repacked and uploaded now.
/// Held under the cache lock, so one weight is never built twice.
bool findOrBuildWeight(const KernelInfo &kernel, ActType act, int64_t n,
                       int64_t k, const std::vector<double> &args,
                       const std::vector<TensorView> &packed,
                       std::shared_ptr<const DeviceWeight> &out,
                       std::string &error) {
  CacheKey key = cacheKey(kernel, act, n, k, args, packed);
  WeightCache &cache = weightCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto found = cache.weights.find(key);
  if (found != cache.weights.end()) {
    out = found->second;
    return true;
  }
  QuantWeight quant;
  if (!hfq::kernels::quantWeightFromCheckpoint(kernel.method, args, packed, n,
                                               k, quant, error))
    return false;
  if (kernel.bits == 0 ? quant.bits == 4 || quant.bits == 8 : quant.bits != kernel.bits) {
    error = "the weight has " + std::to_string(quant.bits) + "-bit codes; this kernel takes " +
            (kernel.bits ? std::to_string(kernel.bits) + "-bit weights"
                         : std::string("the widths the w4a16 / w8a16 kernels do not (2 or 3 bits)"));
    return false;
  }
  KernelWeight packedForKernel;
  if (!hfq::kernels::packForKernel(quant, act, packedForKernel, error))
    return false;
  std::string why;
  if (!hfq::cuda::deviceAvailable(why)) {
    error = "cannot run on the GPU: " + why;
    return false;
  }
  std::shared_ptr<DeviceWeight> weight(new DeviceWeight, [](DeviceWeight *w) {
    w->release();
    delete w;
  });
  if (!weight->upload(packedForKernel, error))
    return false;
  // The upload's copies are complete (and any earlier asynchronous error
  // surfaces here) before the weight is shared.
  if (!cudaOk(cudaDeviceSynchronize(), "uploading the weight", error))
    return false;
  cache.weights.emplace(std::move(key), weight);
  out = std::move(weight);
  return true;
}

/// The bitsandbytes 4-bit weight of this call from the cache, or checked
/// (with the reference's checks) and uploaded as stored now.
bool findOrBuildWeight(const KernelInfo &kernel, ActType act, int64_t n,
                       int64_t k, const std::vector<double> &args,
                       const std::vector<TensorView> &packed,
                       std::shared_ptr<const Bnb4Weight> &out,
                       std::string &error) {
  CacheKey key = cacheKey(kernel, act, n, k, args, packed);
  WeightCache &cache = weightCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto found = cache.bnb4.find(key);
  if (found != cache.bnb4.end()) {
    out = found->second;
    return true;
  }
  hfq::kernels::Bitsandbytes4bitArgs decoded;
  hfq::kernels::Bnb4Operands operands;
  if (!hfq::kernels::Bitsandbytes4bitArgs::decode(args, decoded, error) ||
      !hfq::kernels::bnb4Operands(decoded, packed, n, k, operands, error))
    return false;
  std::string why;
  if (!hfq::cuda::deviceAvailable(why)) {
    error = "cannot run on the GPU: " + why;
    return false;
  }
  std::shared_ptr<Bnb4Weight> weight(new Bnb4Weight, [](Bnb4Weight *w) {
    w->release();
    delete w;
  });
  if (!weight->upload(operands, n, k, act, error))
    return false;
  if (!cudaOk(cudaDeviceSynchronize(), "uploading the weight", error))
    return false;
  cache.bnb4.emplace(std::move(key), weight);
  out = std::move(weight);
  return true;
}

/// The fine-grained FP8 weight of this call from the cache, or checked
/// (fp8Operands) and uploaded as stored now.
bool findOrBuildWeight(const KernelInfo &kernel, ActType act, int64_t n,
                       int64_t k, const std::vector<double> &args,
                       const std::vector<TensorView> &packed,
                       std::shared_ptr<const Fp8Weight> &out,
                       std::string &error) {
  CacheKey key = cacheKey(kernel, act, n, k, args, packed);
  WeightCache &cache = weightCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto found = cache.fp8.find(key);
  if (found != cache.fp8.end()) {
    out = found->second;
    return true;
  }
  hfq::kernels::Fp8Args decoded;
  hfq::cuda::Fp8Operands operands;
  if (!hfq::kernels::Fp8Args::decode(args, decoded, error) ||
      !hfq::cuda::fp8Operands(decoded.block_n, decoded.block_k,
                              decoded.static_activation, decoded.dequantize,
                              packed, n, k, operands, error))
    return false;
  std::string why;
  if (!hfq::cuda::deviceAvailable(why)) {
    error = "cannot run on the GPU: " + why;
    return false;
  }
  std::shared_ptr<Fp8Weight> weight(new Fp8Weight, [](Fp8Weight *w) {
    w->release();
    delete w;
  });
  if (!weight->upload(operands, n, k, act, error))
    return false;
  if (!cudaOk(cudaDeviceSynchronize(), "uploading the weight", error))
    return false;
  cache.fp8.emplace(std::move(key), weight);
  out = std::move(weight);
  return true;
}

/// One forward of any weight format on device pointers.
bool linearOn(const DeviceWeight &w, const void *x, const void *bias, void *y,
              int64_t m, Workspace &ws, cudaStream_t stream,
              const LaunchConfig &config, std::string &error) {
  return hfq::cuda::linear(w, x, bias, y, m, ws, stream, config, error);
}
bool linearOn(const Bnb4Weight &w, const void *x, const void *bias, void *y,
              int64_t m, Workspace &ws, cudaStream_t stream,
              const LaunchConfig &config, std::string &error) {
  return hfq::cuda::bnb4Linear(w, x, bias, y, m, ws, stream, config, error);
}
bool linearOn(const Fp8Weight &w, const void *x, const void *bias, void *y,
              int64_t m, Workspace &ws, cudaStream_t stream,
              const LaunchConfig &config, std::string &error) {
  return hfq::cuda::fp8Linear(w, x, bias, y, m, ws, stream, config, error);
}

//===----------------------------------------------------------------------===//
// Per-call device state
//===----------------------------------------------------------------------===//

/// A grow-only device buffer.
struct DeviceBuffer {
  void *ptr = nullptr;
  size_t bytes = 0;

  bool reserve(size_t need, std::string &error) {
    if (need <= bytes)
      return true;
    if (ptr && !cudaOk(cudaFree(ptr), "freeing a device buffer", error))
      return false;
    ptr = nullptr;
    bytes = 0;
    if (!cudaOk(cudaMalloc(&ptr, need), "allocating a device buffer", error))
      return false;
    bytes = need;
    return true;
  }
};

/// What one call in flight uses: a stream, the kernels' workspace (per
/// stream), device copies of x, bias and y, and host staging.
struct Exec {
  cudaStream_t stream = nullptr;
  Workspace ws;
  DeviceBuffer x, bias, y;
  std::vector<Half> xHost, biasHost, yHost;
};

/// Idle Execs; a call takes one (or makes one) and gives it back, so
/// concurrent calls from several threads never share a workspace. Never
/// destroyed, like the weight cache.
struct ExecPool {
  std::mutex mutex;
  std::vector<Exec *> idle;
};

ExecPool &execPool() {
  static ExecPool *pool = new ExecPool;
  return *pool;
}

class ExecLease {
public:
  ExecLease() {
    ExecPool &pool = execPool();
    std::lock_guard<std::mutex> lock(pool.mutex);
    if (pool.idle.empty()) {
      exec_ = new Exec;
    } else {
      exec_ = pool.idle.back();
      pool.idle.pop_back();
    }
  }
  ~ExecLease() {
    ExecPool &pool = execPool();
    std::lock_guard<std::mutex> lock(pool.mutex);
    pool.idle.push_back(exec_);
  }
  ExecLease(const ExecLease &) = delete;
  ExecLease &operator=(const ExecLease &) = delete;
  Exec &operator*() const { return *exec_; }

private:
  Exec *exec_;
};

bool contiguous(const StridedMemRefType<Half, 2> *m) {
  return (m->sizes[1] <= 1 || m->strides[1] == 1) &&
         (m->sizes[0] <= 1 || m->strides[0] == m->sizes[1]);
}

/// x (or bias) as one dense host block: the memref itself when it is
/// contiguous, else gathered into `staging`.
const Half *denseHost(const StridedMemRefType<Half, 2> *m,
                      std::vector<Half> &staging) {
  if (contiguous(m))
    return m->data + m->offset;
  staging.resize(static_cast<size_t>(m->sizes[0] * m->sizes[1]));
  for (int64_t i = 0; i < m->sizes[0]; ++i)
    for (int64_t j = 0; j < m->sizes[1]; ++j)
      staging[static_cast<size_t>(i * m->sizes[1] + j)] =
          m->data[m->offset + i * m->strides[0] + j * m->strides[1]];
  return staging.data();
}

/// y = x·Wᵀ (+ bias) on the device, through `exec`; y is written only on
/// success.
template <typename Weight>
bool forward(Exec &exec, const Weight &w, LinearPath path,
             const StridedMemRefType<Half, 2> *x,
             const StridedMemRefType<Half, 1> *bias,
             StridedMemRefType<Half, 2> *y, std::string &error) {
  const int64_t m = x->sizes[0], n = w.n, k = w.k;
  const size_t xBytes = static_cast<size_t>(m * k) * sizeof(Half);
  const size_t yBytes = static_cast<size_t>(m * n) * sizeof(Half);
  const bool hasBias = bias->sizes[0] != 0;
  if (!exec.stream &&
      !cudaOk(cudaStreamCreate(&exec.stream), "creating a stream", error))
    return false;
  if (!exec.x.reserve(xBytes, error) || !exec.y.reserve(yBytes, error) ||
      (hasBias &&
       !exec.bias.reserve(static_cast<size_t>(n) * sizeof(Half), error)))
    return false;

  auto run = [&] {
    if (!cudaOk(cudaMemcpyAsync(exec.x.ptr, denseHost(x, exec.xHost), xBytes,
                                cudaMemcpyHostToDevice, exec.stream),
                "copying x to the device", error))
      return false;
    if (hasBias) {
      // The bias [N] as a 1 x N matrix.
      StridedMemRefType<Half, 2> row{bias->basePtr,
                                     bias->data,
                                     bias->offset,
                                     {1, n},
                                     {n * bias->strides[0], bias->strides[0]}};
      if (!cudaOk(cudaMemcpyAsync(exec.bias.ptr, denseHost(&row, exec.biasHost),
                                  static_cast<size_t>(n) * sizeof(Half),
                                  cudaMemcpyHostToDevice, exec.stream),
                  "copying the bias to the device", error))
        return false;
    }
    LaunchConfig config;
    config.path = path;
    if (!linearOn(w, exec.x.ptr, hasBias ? exec.bias.ptr : nullptr,
                  exec.y.ptr, m, exec.ws, exec.stream, config, error))
      return false;
    exec.yHost.resize(static_cast<size_t>(m * n));
    if (!cudaOk(cudaMemcpyAsync(exec.yHost.data(), exec.y.ptr, yBytes,
                                cudaMemcpyDeviceToHost, exec.stream),
                "copying y from the device", error))
      return false;
    return cudaOk(cudaStreamSynchronize(exec.stream), "running the kernel",
                  error);
  };
  if (!run()) {
    // Leave the Exec idle for the next call (errors already reported).
    (void)cudaStreamSynchronize(exec.stream);
    return false;
  }
  if (contiguous(y)) {
    std::memcpy(y->data + y->offset, exec.yHost.data(), yBytes);
  } else {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        y->data[y->offset + i * y->strides[0] + j * y->strides[1]] =
            exec.yHost[static_cast<size_t>(i * n + j)];
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Device-resident activations (the GPU target)
//===----------------------------------------------------------------------===//

/// The stream device-resident calls run on (hfq_cuda_set_stream), and the
/// one workspace they share: every call on it is ordered by the stream.
struct DeviceExec {
  std::mutex mutex;
  cudaStream_t stream = nullptr;
  Workspace ws;
  std::map<std::pair<const void *, int64_t>, void *> biases;
};

DeviceExec &deviceExec() {
  static DeviceExec *exec = new DeviceExec;
  return *exec;
}

/// The bias [N] on the device: as is when it already is, else the host
/// bias (the loader's mapped checkpoint) copied once and kept.
bool deviceBias(DeviceExec &exec, const StridedMemRefType<Half, 1> *bias,
                int64_t n, const void *&out, std::string &error) {
  const Half *data = bias->data + bias->offset;
  if (bias->sizes[0] == 0) {
    out = nullptr;
    return true;
  }
  if (bias->strides[0] != 1 && n > 1) {
    error = "a device-resident call needs a contiguous bias";
    return false;
  }
  if (deviceReadable(data)) {
    out = data;
    return true;
  }
  auto found = exec.biases.find({data, n});
  if (found != exec.biases.end()) {
    out = found->second;
    return true;
  }
  void *copy = nullptr;
  const size_t bytes = static_cast<size_t>(n) * sizeof(Half);
  if (!cudaOk(cudaMalloc(&copy, bytes), "allocating the bias", error) ||
      !cudaOk(cudaMemcpy(copy, data, bytes, cudaMemcpyHostToDevice),
              "copying the bias to the device", error))
    return false;
  exec.biases[{data, n}] = copy;
  out = copy;
  return true;
}

/// y = x·Wᵀ (+ bias) with x and y in device memory: launched on the
/// device stream, no copy, no wait (a decode step can be captured).
template <typename Weight>
bool forwardOnDevice(const Weight &w, LinearPath path,
                     const StridedMemRefType<Half, 2> *x,
                     const StridedMemRefType<Half, 1> *bias,
                     StridedMemRefType<Half, 2> *y, std::string &error) {
  if (!deviceReadable(y->data)) {
    error = "x is in device memory but y is not";
    return false;
  }
  if (!contiguous(x) || !contiguous(y)) {
    error = "device-resident x and y must be row-major and contiguous";
    return false;
  }
  DeviceExec &exec = deviceExec();
  std::lock_guard<std::mutex> lock(exec.mutex);
  const void *b = nullptr;
  if (!deviceBias(exec, bias, w.n, b, error))
    return false;
  LaunchConfig config;
  config.path = path;
  return linearOn(w, x->data + x->offset, b, y->data + y->offset,
                  x->sizes[0], exec.ws, exec.stream, config, error);
}

/// The forward of a built weight: device-resident x and y, or host memory
/// through copies.
template <typename Weight>
int32_t runForward(const KernelInfo &kernel, const Weight &weight,
                   StridedMemRefType<Half, 2> *y, StridedMemRefType<Half, 2> *x,
                   StridedMemRefType<Half, 1> *bias) {
  std::string error;
  if (x->sizes[0] == 0)
    return 0;
  if (deviceReadable(x->data)) {
    if (!forwardOnDevice(weight, kernel.path, x, bias, y, error))
      return failKernel(kernel.name, error);
    return 0;
  }
  ExecLease exec;
  if (!forward(*exec, weight, kernel.path, x, bias, y, error))
    return failKernel(kernel.name, error);
  return 0;
}

/// The body of every f16 / bf16 entry point.
int32_t runCudaLinear(const KernelInfo &kernel, ActType act,
                      StridedMemRefType<Half, 2> *y,
                      StridedMemRefType<Half, 2> *x,
                      StridedMemRefType<Half, 1> *bias,
                      StridedMemRefType<double, 1> *args,
                      StridedMemRefType<int64_t, 2> *table) {
  if (!y || !x || !bias)
    return failKernel(kernel.name, "null memref descriptor");
  const int64_t m = x->sizes[0], k = x->sizes[1], n = y->sizes[1];
  if (m < 0 || k < 0 || n < 0 || y->sizes[0] < 0 || bias->sizes[0] < 0)
    return failKernel(kernel.name, "negative memref size");
  if (y->sizes[0] != m)
    return failKernel(kernel.name, "y has " + std::to_string(y->sizes[0]) +
                                       " rows but x has " + std::to_string(m));
  if (bias->sizes[0] != 0 && bias->sizes[0] != n)
    return failKernel(kernel.name,
                      "bias has " + std::to_string(bias->sizes[0]) +
                          " elements, expected 0 or N = " + std::to_string(n));
  if (m > (int64_t(1) << 30))
    return failKernel(kernel.name, "M (" + std::to_string(m) +
                                       " rows of x) must be at most 2^30");
  std::vector<TensorView> packed;
  std::string error;
  if (!hfq::kernels::decodeTable(table, packed, error))
    return failKernel(kernel.name, error);
  std::vector<double> argv = hfq::kernels::decodeArgs(args);
  if (kernel.format == WeightFormat::Bnb4) {
    std::shared_ptr<const Bnb4Weight> weight;
    if (!findOrBuildWeight(kernel, act, n, k, argv, packed, weight, error))
      return failKernel(kernel.name, error);
    return runForward(kernel, *weight, y, x, bias);
  }
  if (kernel.format == WeightFormat::Fp8) {
    std::shared_ptr<const Fp8Weight> weight;
    if (!findOrBuildWeight(kernel, act, n, k, argv, packed, weight, error))
      return failKernel(kernel.name, error);
    return runForward(kernel, *weight, y, x, bias);
  }
  std::shared_ptr<const DeviceWeight> weight;
  if (!findOrBuildWeight(kernel, act, n, k, argv, packed, weight, error))
    return failKernel(kernel.name, error);
  return runForward(kernel, *weight, y, x, bias);
}

int32_t refuseF32(const KernelInfo &kernel) {
  return failKernel(kernel.name,
                    "the CUDA kernels take f16 or bf16 activations, got f32 "
                    "(the CPU reference serves f32)");
}

} // namespace

extern "C" int64_t hfq_cuda_cached_weights(void) {
  WeightCache &cache = weightCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  return static_cast<int64_t>(cache.weights.size() + cache.bnb4.size() +
                              cache.fp8.size());
}

extern "C" void hfq_cuda_set_stream(void *stream) {
  DeviceExec &exec = deviceExec();
  std::lock_guard<std::mutex> lock(exec.mutex);
  exec.stream = static_cast<cudaStream_t>(stream);
}

extern "C" void hfq_cuda_release_weights(void) {
  {
    DeviceExec &exec = deviceExec();
    std::lock_guard<std::mutex> lock(exec.mutex);
    for (auto &[key, copy] : exec.biases)
      (void)cudaFree(copy);
    exec.biases.clear();
  }
  std::map<CacheKey, std::shared_ptr<const DeviceWeight>> dropped;
  std::map<CacheKey, std::shared_ptr<const Bnb4Weight>> droppedBnb4;
  std::map<CacheKey, std::shared_ptr<const Fp8Weight>> droppedFp8;
  {
    WeightCache &cache = weightCache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    dropped.swap(cache.weights);
    droppedBnb4.swap(cache.bnb4);
    droppedFp8.swap(cache.fp8);
  }
  // Freed here, outside the lock (or by the last call still using one).
}

/// The three entry points of `kernel` (a name of HFQ_CUDA_KERNELS) of method
/// key `key`, served as its name says (kernelShape).
#define HFQ_CUDA_ENTRY(kernel, key)                                            \
  namespace {                                                                  \
  constexpr KernelShape kShape_##kernel = kernelShape(#kernel);                \
  static_assert(kShape_##kernel.known,                                         \
                "a spec names the CUDA kernel " #kernel ", which Entry.cpp "   \
                "cannot serve: kernelShape knows *_w4a16_gemv / _gemm, "       \
                "*_w8a16_gemv / _gemm, *_generic, *_bnb4_gemv / _gemm, "       \
                "*_fp8_block_gemm and *_fp8_scaled_mm "                        \
                "(mark the rule planned, or add the kernel)");                 \
  const KernelInfo kKernel_##kernel = {#kernel, key, kShape_##kernel.bits,     \
                                       kShape_##kernel.path,                   \
                                       kShape_##kernel.format};                \
  }                                                                            \
  extern "C" int32_t _mlir_ciface_##kernel##_f16(                              \
      StridedMemRefType<Half, 2> *y, StridedMemRefType<Half, 2> *x,            \
      StridedMemRefType<Half, 1> *bias, StridedMemRefType<double, 1> *args,    \
      StridedMemRefType<int64_t, 2> *table) {                                  \
    return runCudaLinear(kKernel_##kernel, ActType::F16, y, x, bias, args,     \
                         table);                                               \
  }                                                                            \
  extern "C" int32_t _mlir_ciface_##kernel##_bf16(                             \
      StridedMemRefType<Half, 2> *y, StridedMemRefType<Half, 2> *x,            \
      StridedMemRefType<Half, 1> *bias, StridedMemRefType<double, 1> *args,    \
      StridedMemRefType<int64_t, 2> *table) {                                  \
    return runCudaLinear(kKernel_##kernel, ActType::BF16, y, x, bias, args,    \
                         table);                                               \
  }                                                                            \
  extern "C" int32_t _mlir_ciface_##kernel##_f32(                              \
      StridedMemRefType<float, 2> *, StridedMemRefType<float, 2> *,            \
      StridedMemRefType<float, 1> *, StridedMemRefType<double, 1> *,           \
      StridedMemRefType<int64_t, 2> *) {                                       \
    return refuseF32(kKernel_##kernel);                                        \
  }

// Every CUDA kernel of specs/*.json (their non-planned `kernels` rules, as
// kernels/generated/MethodArgs.h lists them).
HFQ_CUDA_KERNELS(HFQ_CUDA_ENTRY)
