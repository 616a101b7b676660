//===- ModelOpsInternal.h - What the CUDA model ops' files share -*- C++
//-*-===//
//
// The host side of libhfq_model_ops_cuda.so, between its entry points
// (ModelOpsEntry.cu: descriptors checked, views built) and its launchers
// (ModelOpsElementwise.cu, ModelOpsAttention.cu, ModelOpsLinear.cu): device
// views of the operands, the fault word, and one launcher per op. A
// launcher gets operands already checked; it only launches (and checks the
// launch), on `stream`, never waiting.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_MODELOPSINTERNAL_H
#define HFQ_KERNELS_CUDA_MODELOPSINTERNAL_H

#include <cstddef>
#include <cstdint>
#include <string>

#include <driver_types.h>

namespace hfq::cuda::model_ops {

/// The activation element type of an entry point.
enum class Act { F32, F16, BF16 };

/// A checkpoint tensor's float element type (HfqDType's f32, f16, bf16).
enum class WeightType { F32, F16, BF16 };

/// A strided [rows, cols] activation on the device: element (r, c) at
/// data[r * rowStride + c * colStride] (data already at the descriptor's
/// offset).
struct Matrix {
  void *data = nullptr;
  int64_t rows = 0, cols = 0, rowStride = 0, colStride = 0;
};

/// A strided 1-D int64 vector on the device (ids, positions).
struct Indices {
  const int64_t *data = nullptr;
  int64_t size = 0, stride = 0;
};

/// The first fault a kernel recorded (op 0: none), in device memory; the
/// kernels set it with an atomicCAS on `op`, hfq_cuda_model_ops_check reads
/// and clears it.
enum FaultOp : int32_t {
  kNoFault = 0,
  kEmbeddingId = 1,
  kAttentionPosition = 2,
};
struct DeviceFault {
  int32_t op;
  int32_t unused;
  int64_t index, value, bound;
};

/// What every launcher gets besides its operands.
struct Launch {
  cudaStream_t stream = nullptr;
  DeviceFault *fault = nullptr;
  int multiprocessors = 0;
};

/// True if `status` is cudaSuccess; else false with "<what>: <CUDA's
/// message>".
bool cudaOk(cudaError_t status, const char *what, std::string &error);

/// cudaOk on the last launch ("launching <what>: ...").
bool launched(const char *what, std::string &error);

/// Stream-ordered scratch (cudaMallocAsync on the stream, grow-only; a
/// graph captures the allocation only when it grows, so warm up first).
bool scratch(size_t bytes, const Launch &launch, void *&out,
             std::string &error);

/// The device address of a weight the tensor table (or a bias operand)
/// names: `data` itself when it is device memory; host memory (the run-time
/// loader's mapped checkpoint) copied to the device on first use and kept,
/// keyed by (address, bytes), until releaseResidentWeights
/// (ModelOpsResident.cu). Not callable during stream capture on a miss: the
/// runtime warms up before it captures.
bool residentWeight(const void *data, size_t bytes, const void *&out,
                    std::string &error);
void releaseResidentWeights();

//===----------------------------------------------------------------------===//
// Launchers
//===----------------------------------------------------------------------===//

bool launchEmbedding(Act act, const Matrix &y, const Indices &ids,
                     const void *table, WeightType tableType, int64_t vocab,
                     const Launch &launch, std::string &error);

bool launchRmsNorm(Act act, const Matrix &y, const Matrix &x, float eps,
                   const void *w, WeightType wType, const Launch &launch,
                   std::string &error);

/// inv_freq [headDim / 2] is host memory, passed to the kernel by value.
constexpr int kMaxRotaryHalf = 128;
bool launchRotary(Act act, const Matrix &y, const Matrix &x,
                  const Indices &positions, const float *invFreq,
                  int64_t headDim, float attentionScaling, const Launch &launch,
                  std::string &error);

enum class Elementwise { SiluMul, Add };
bool launchElementwise(Act act, Elementwise op, const Matrix &y,
                       const Matrix &a, const Matrix &b, const Launch &launch,
                       std::string &error);

/// One attention call: q / k / v / out [T, *], the cache (data at
/// [layer][0][0][0][0], unit stride along head_dim), the args.
struct AttentionCall {
  Matrix out, q, k, v;
  Indices positions;
  void *cache = nullptr;        ///< at [layer][0][0][0][0]
  int64_t cacheStrides[4] = {}; ///< k/v select, position, kv head, (dim = 1)
  int64_t capacity = 0;         ///< S
  int64_t numHeads = 0, numKvHeads = 0, headDim = 0, slidingWindow = 0;
  float scaling = 1.0f;
};
/// Whether the attention kernels take head_dim `d` (with a cache whose
/// rows are 16-byte aligned): "" if so, else why not.
std::string attentionShapeProblem(Act act, int64_t d);
bool launchAttention(Act act, const AttentionCall &call, int path,
                     const Launch &launch, std::string &error);

/// y [M, N] = x [M, K] · W [N, K]ᵀ (+ bias [N], strided) through cuBLAS,
/// W converted once to the activation type when it is another float type.
struct LinearCall {
  Matrix y, x;
  const void *bias = nullptr; ///< null: no bias
  int64_t biasStride = 0;
  const void *weight = nullptr;
  WeightType weightType = WeightType::F32;
  int64_t n = 0, k = 0;
};
bool launchLinear(Act act, const LinearCall &call, const Launch &launch,
                  std::string &error);
void releaseLinearWeights();

} // namespace hfq::cuda::model_ops

#endif // HFQ_KERNELS_CUDA_MODELOPSINTERNAL_H
