//===- DeviceRuntime.cu - The CUDA device runtime of the GPU target -------===//
//
// libhfq_runtime_cuda.so: what code compiled for sm_<NN> needs besides its
// kernels (runtime/hfq_device.h).
//   - _mlir_memref_to_llvm_alloc / _aligned_alloc / _free: the lowered
//     code's buffers, stream-ordered (cudaMallocAsync on the model ops'
//     stream, from a pool that keeps freed memory), so a decode step
//     allocates nothing from the driver and can be captured;
//   - one stream for everything: the model ops' (libhfq_model_ops_cuda.so),
//     given to the weight-only kernels too (hfq_cuda_set_stream, where
//     libhfq_kernels_cuda.so is loaded);
//   - the host's moves (ids and positions in, logits out), a device argmax,
//     and graph capture of decode steps.
// The compiled code cannot take an allocation failure: the allocation
// functions print one line naming the size and CUDA's reason and exit 1
// (docs/limits.md).
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/DeviceRuntime.h"

#include "kernels/abi/Abi.h"
#include "kernels/cuda/ModelOps.h"
#include "kernels/include/hfq_kernels.h"
#include "runtime/hfq_device.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct State {
  cudaStream_t stream = nullptr;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  int64_t *argmaxOut = nullptr;
  int64_t peak = 0;
  char deviceName[256] = {};
};

State &state() {
  static State *s = new State;
  return *s;
}

int32_t fail(const std::string &what) {
  return hfq::kernels::failKernel("hfq-runtime-cuda", what);
}

int32_t check(cudaError_t status, const char *what) {
  if (status == cudaSuccess)
    return 0;
  (void)cudaGetLastError();
  return fail(std::string(what) + ": " + cudaGetErrorString(status));
}

[[noreturn]] void outOfMemory(size_t bytes, cudaError_t status) {
  std::fprintf(stderr,
               "hfq-runtime-cuda: error: cannot allocate %zu bytes of device "
               "memory for an activation: %s\n",
               bytes, cudaGetErrorString(status));
  std::exit(1);
}

void samplePeak() {
  size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) == cudaSuccess &&
      static_cast<int64_t>(total - free) > state().peak)
    state().peak = static_cast<int64_t>(total - free);
}

/// Waits for the stream and reports what the kernels recorded.
int32_t synchronize() {
  if (int32_t status = check(cudaStreamSynchronize(state().stream),
                             "running the model on the device"))
    return status;
  samplePeak();
  return hfq_cuda_model_ops_check() ? 1 : 0;
}

//===----------------------------------------------------------------------===//
// The argmax
//===----------------------------------------------------------------------===//

template <typename T> __device__ float load(const T *p, int64_t i);
template <> __device__ float load(const float *p, int64_t i) { return p[i]; }
template <> __device__ float load(const uint16_t *p, int64_t i) {
  return __half2float(__ushort_as_half(p[i]));
}

__device__ float loadBf16(const uint16_t *p, int64_t i) {
  return __uint_as_float(static_cast<uint32_t>(p[i]) << 16);
}

/// (value, index) with torch.argmax's order: NaN above everything, then
/// the larger value, then the smaller index.
__device__ bool better(float v, int64_t i, float bv, int64_t bi) {
  bool vn = v != v, bn = bv != bv;
  if (vn != bn)
    return vn;
  if (!vn && v != bv)
    return v > bv;
  return i < bi;
}

template <int Type>
__global__ void argmaxKernel(const void *row, int64_t n, int64_t *out) {
  constexpr int kThreads = 1024;
  __shared__ float values[kThreads];
  __shared__ int64_t indices[kThreads];
  float best = -INFINITY;
  int64_t bestIndex = n;
  for (int64_t i = threadIdx.x; i < n; i += kThreads) {
    float v = Type == HFQ_DEVICE_F32
                  ? load(static_cast<const float *>(row), i)
                  : Type == HFQ_DEVICE_F16
                        ? load(static_cast<const uint16_t *>(row), i)
                        : loadBf16(static_cast<const uint16_t *>(row), i);
    if (bestIndex == n || better(v, i, best, bestIndex)) {
      best = v;
      bestIndex = i;
    }
  }
  values[threadIdx.x] = best;
  indices[threadIdx.x] = bestIndex;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      int other = threadIdx.x + half;
      if (indices[other] != n &&
          (indices[threadIdx.x] == n ||
           better(values[other], indices[other], values[threadIdx.x],
                  indices[threadIdx.x]))) {
        values[threadIdx.x] = values[other];
        indices[threadIdx.x] = indices[other];
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0)
    *out = indices[0];
}

//===----------------------------------------------------------------------===//
// The table's functions
//===----------------------------------------------------------------------===//

const char *deviceName() { return state().deviceName; }

void *alloc(size_t bytes) {
  void *p = nullptr;
  if (check(cudaMallocAsync(&p, bytes ? bytes : 1, state().stream),
            "allocating a device buffer") ||
      check(cudaMemsetAsync(p, 0, bytes, state().stream),
            "clearing a device buffer"))
    return nullptr;
  return p;
}

void release(void *ptr) {
  if (ptr)
    (void)cudaFreeAsync(ptr, state().stream);
}

int32_t toDevice(void *dst, const void *src, size_t bytes) {
  return check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice,
                               state().stream),
               "copying to the device");
}

int32_t toHost(void *dst, const void *src, size_t bytes) {
  if (int32_t status = check(cudaMemcpyAsync(dst, src, bytes,
                                             cudaMemcpyDeviceToHost,
                                             state().stream),
                             "copying from the device"))
    return status;
  return synchronize();
}

int32_t argmax(const void *row, int64_t n, int32_t type, int64_t *out) {
  if (n <= 0)
    return fail("argmax of an empty row");
  auto kernel = type == HFQ_DEVICE_F32   ? argmaxKernel<HFQ_DEVICE_F32>
                : type == HFQ_DEVICE_F16 ? argmaxKernel<HFQ_DEVICE_F16>
                                         : argmaxKernel<HFQ_DEVICE_BF16>;
  kernel<<<1, 1024, 0, state().stream>>>(row, n, state().argmaxOut);
  if (int32_t status = check(cudaGetLastError(), "launching the argmax"))
    return status;
  return toHost(out, state().argmaxOut, sizeof(int64_t));
}

int32_t capturable() { return hfq_runtime_cuda_staged_calls() == 0; }

int32_t captureBegin() {
  // Relaxed: the kernels' host-side checks may call CUDA functions that are
  // not stream operations (pointer attributes) while the stream captures.
  return check(cudaStreamBeginCapture(state().stream,
                                      cudaStreamCaptureModeRelaxed),
               "starting the capture of a decode step");
}

void graphRelease() {
  State &s = state();
  if (s.exec)
    (void)cudaGraphExecDestroy(s.exec);
  if (s.graph)
    (void)cudaGraphDestroy(s.graph);
  s.exec = nullptr;
  s.graph = nullptr;
}

int32_t captureEnd() {
  State &s = state();
  graphRelease();
  if (int32_t status = check(cudaStreamEndCapture(s.stream, &s.graph),
                             "ending the capture of a decode step"))
    return status;
  // Auto-free: the logits the captured step allocates (and the host frees
  // after reading) are allocated again, at the same address, by each replay.
  return check(cudaGraphInstantiateWithFlags(
                   &s.exec, s.graph, cudaGraphInstantiateFlagAutoFreeOnLaunch),
               "instantiating the decode graph");
}

int32_t replay() {
  if (!state().exec)
    return fail("no decode graph was captured");
  return check(cudaGraphLaunch(state().exec, state().stream),
               "launching the decode graph");
}

int64_t peakBytes() { return state().peak; }

const hfq_device_runtime kRuntime = {
    "cuda",  deviceName,   alloc,        release,    toDevice,
    toHost,  argmax,       capturable,   captureBegin, captureEnd,
    replay,  graphRelease, peakBytes};

/// Sets up the stream and the pool once; false with the error set.
bool initialize() {
  State &s = state();
  if (s.stream)
    return true;
  int device = 0, count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    fail("no CUDA device");
    return false;
  }
  cudaDeviceProp prop{};
  cudaMemPool_t pool = nullptr;
  uint64_t keep = UINT64_MAX;
  if (check(cudaGetDevice(&device), "cudaGetDevice") ||
      check(cudaGetDeviceProperties(&prop, device), "reading the device") ||
      check(cudaDeviceGetDefaultMemPool(&pool, device), "the memory pool") ||
      check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold,
                                    &keep),
            "keeping freed memory in the pool") ||
      check(cudaMalloc(&s.argmaxOut, sizeof(int64_t)), "the argmax word"))
    return false;
  std::snprintf(s.deviceName, sizeof s.deviceName, "%s", prop.name);
  s.stream = static_cast<cudaStream_t>(hfq_cuda_model_ops_stream());
  if (!s.stream) {
    fail("the model ops' stream is unavailable: " +
         std::string(hfq_kernel_last_error()));
    return false;
  }
  // The weight-only kernels, where their library is loaded, on the same
  // stream (it is optional: a dense model needs only the model ops).
  using SetStream = void (*)(void *);
  if (auto set = reinterpret_cast<SetStream>(
          dlsym(RTLD_DEFAULT, "hfq_cuda_set_stream")))
    set(s.stream);
  return true;
}

} // namespace

extern "C" const hfq_device_runtime *hfq_device_runtime_get(void) {
  return initialize() ? &kRuntime : nullptr;
}

extern "C" void *_mlir_memref_to_llvm_alloc(size_t size) {
  void *p = nullptr;
  cudaError_t status = cudaMallocAsync(&p, size ? size : 1, state().stream);
  if (status != cudaSuccess)
    outOfMemory(size, status);
  return p;
}

extern "C" void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment,
                                                    size_t size) {
  // cudaMallocAsync aligns to 256 bytes; the lowering asks for less.
  if (alignment > 256) {
    std::fprintf(stderr,
                 "hfq-runtime-cuda: error: the compiled code asks for "
                 "%zu-byte aligned device memory; at most 256 is served\n",
                 alignment);
    std::exit(1);
  }
  return _mlir_memref_to_llvm_alloc(size);
}

extern "C" void _mlir_memref_to_llvm_free(void *ptr) {
  if (ptr)
    (void)cudaFreeAsync(ptr, state().stream);
}
