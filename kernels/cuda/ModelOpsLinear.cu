//===- ModelOpsLinear.cu - The unquantized linear through cuBLAS ----------===//
//
// hfq_linear_<act>: y [M, N] = x [M, K] · W [N, K]ᵀ (+ bias), accumulated in
// f32 and rounded once to Act, as cublasGemmEx with CUBLAS_COMPUTE_32F (no
// TF32: f32 activations run a true SGEMM). The bias is broadcast into y
// first and the product added with beta = 1, so bias + x·Wᵀ is one f32 sum
// rounded once, as in the reference. A weight of the activation type is used
// in place; one of another float type is converted once (cached by address,
// like the weight-only kernels' repack cache) and reused.
//
// cuBLAS gets a workspace of its own (cublasSetWorkspace), so it allocates
// nothing per call and a captured graph holds no allocation.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/ModelOpsAct.cuh"

#include <cublas_v2.h>

#include <map>
#include <mutex>
#include <tuple>

namespace hfq::cuda::model_ops {
namespace {

constexpr size_t kBlasWorkspaceBytes = size_t(32) << 20;

template <typename A>
__global__ void convertWeightKernel(typename A::Storage *out, const void *w,
                                    WeightType type, int64_t count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = A::store(loadWeight(w, type, i));
}

/// y[r] = bias (the bits as given: the bias is of type Act).
template <typename A>
__global__ void broadcastBiasKernel(Matrix y, const typename A::Storage *bias,
                                    int64_t biasStride) {
  using S = typename A::Storage;
  const int64_t count = y.rows * y.cols;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / y.cols, c = i - r * y.cols;
    static_cast<S *>(y.data)[r * y.rowStride + c] = bias[c * biasStride];
  }
}

struct ConvertedKey {
  const void *weight;
  WeightType type;
  int64_t n, k;
  Act act;
  bool operator<(const ConvertedKey &o) const {
    return std::tie(weight, type, n, k, act) <
           std::tie(o.weight, o.type, o.n, o.k, o.act);
  }
};

/// The cuBLAS handle, its workspace and the converted weights. Never
/// destroyed: nothing runs after the CUDA runtime has shut down.
struct Blas {
  std::mutex mutex;
  cublasHandle_t handle = nullptr;
  void *workspace = nullptr;
  std::map<ConvertedKey, void *> converted;
};

Blas &blas() {
  static Blas *state = new Blas;
  return *state;
}

bool blasOk(cublasStatus_t status, const char *what, std::string &error) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return true;
  error = std::string(what) + ": cuBLAS status " + std::to_string(int(status));
  return false;
}

cudaDataType_t dataType(Act act) {
  switch (act) {
  case Act::F16:
    return CUDA_R_16F;
  case Act::BF16:
    return CUDA_R_16BF;
  default:
    return CUDA_R_32F;
  }
}

bool sameType(Act act, WeightType type) {
  return (act == Act::F32 && type == WeightType::F32) ||
         (act == Act::F16 && type == WeightType::F16) ||
         (act == Act::BF16 && type == WeightType::BF16);
}

/// The weight as Act on the device: in place, or converted once (under the
/// lock).
bool weightOfAct(Blas &state, Act act, const LinearCall &call,
                 const Launch &launch, const void *&out, std::string &error) {
  if (sameType(act, call.weightType)) {
    out = call.weight;
    return true;
  }
  const ConvertedKey key{call.weight, call.weightType, call.n, call.k, act};
  auto found = state.converted.find(key);
  if (found != state.converted.end()) {
    out = found->second;
    return true;
  }
  const int64_t count = call.n * call.k;
  const size_t bytes = static_cast<size_t>(count) * (act == Act::F32 ? 4 : 2);
  void *buffer = nullptr;
  if (!cudaOk(cudaMalloc(&buffer, bytes), "allocating the converted weight",
              error))
    return false;
  onAct(act, [&](auto a) {
    using A = decltype(a);
    convertWeightKernel<A>
        <<<std::min<unsigned>(blocksFor(count, 256), 4096), 256, 0,
           launch.stream>>>(static_cast<typename A::Storage *>(buffer),
                            call.weight, call.weightType, count);
  });
  if (!cudaOk(cudaGetLastError(), "launching the weight conversion", error)) {
    cudaFree(buffer);
    return false;
  }
  state.converted.emplace(key, buffer);
  out = buffer;
  return true;
}

} // namespace

bool launchLinear(Act act, const LinearCall &call, const Launch &launch,
                  std::string &error) {
  Blas &state = blas();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!state.handle) {
    if (!blasOk(cublasCreate(&state.handle), "creating the cuBLAS handle",
                error) ||
        !cudaOk(cudaMalloc(&state.workspace, kBlasWorkspaceBytes),
                "allocating the cuBLAS workspace", error))
      return false;
  }
  const void *weight = nullptr;
  if (!weightOfAct(state, act, call, launch, weight, error))
    return false;
  const int64_t m = call.x.rows;
  if (call.bias) {
    onAct(act, [&](auto a) {
      using A = decltype(a);
      broadcastBiasKernel<A>
          <<<std::min<unsigned>(blocksFor(m * call.n, 256), 4096), 256, 0,
             launch.stream>>>(
              call.y, static_cast<const typename A::Storage *>(call.bias),
              call.biasStride);
    });
    if (!cudaOk(cudaGetLastError(), "launching the bias broadcast", error))
      return false;
  }
  // Row-major y = x·Wᵀ is column-major yᵀ (N x M) = W (K x N, transposed)
  // · xᵀ (K x M).
  const float alpha = 1.0f, beta = call.bias ? 1.0f : 0.0f;
  const int64_t ldx = std::max(call.x.rowStride, call.k);
  const int64_t ldy = std::max(call.y.rowStride, call.n);
  const cudaDataType_t type = dataType(act);
  // cublasSetStream resets the workspace to cuBLAS's own pool: set ours
  // again after it.
  return blasOk(cublasSetStream(state.handle, launch.stream),
                "setting the cuBLAS stream", error) &&
         blasOk(cublasSetWorkspace(state.handle, state.workspace,
                                   kBlasWorkspaceBytes),
                "setting the cuBLAS workspace", error) &&
         blasOk(cublasGemmEx(state.handle, CUBLAS_OP_T, CUBLAS_OP_N,
                             static_cast<int>(call.n), static_cast<int>(m),
                             static_cast<int>(call.k), &alpha, weight, type,
                             static_cast<int>(call.k), call.x.data, type,
                             static_cast<int>(ldx), &beta, call.y.data, type,
                             static_cast<int>(ldy), CUBLAS_COMPUTE_32F,
                             CUBLAS_GEMM_DEFAULT),
                "cublasGemmEx", error);
}

void releaseLinearWeights() {
  Blas &state = blas();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!state.converted.empty())
    cudaDeviceSynchronize(); // a call in flight may still read one
  for (auto &entry : state.converted)
    cudaFree(entry.second);
  state.converted.clear();
}

} // namespace hfq::cuda::model_ops
