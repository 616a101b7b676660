//===- Fp8.h - transformers' fine-grained FP8 linear on the GPU --*- C++
//-*-===//
//
// Host API of the FP8 kernels (quant_method "fp8", specs/fp8.json; the CPU
// reference is kernels/ref/FineGrainedFp8.h). The weight stays as the
// checkpoint stores it, uploaded byte for byte: e4m3 codes [N, K] and the f32
// multipliers weight_scale_inv, one per 128 x 128 block ([N/128, K/128]) or
// one per tensor ([]). Every forward is FP8Linear's
//
//   x8, sx = quantize(x)         per token per 128 channels: s = amax / 448,
//                                x8 = e4m3(x / s) (Fp8Quantize.cu), or the
//                                static activation_scale for every token;
//   y[m, n] = sum_kb float(x8[m, kb] . W8[n, kb]) * sx[m, kb] * sw[n/128, kb]
//             (+ bias)
//
// with the products of one 128-K block summed on the tensor cores and each
// block's sum scaled and added into a separate f32 accumulator (DeepGEMM's
// promotion), through one of two paths:
//   Gemv  (Fp8Decode.cu) M <= 16: mma.m16n8k32 e4m3 with the weight as the
//         A operand, streamed from HBM into registers (1 byte per weight);
//   Gemm  (Fp8Gemm.cu) larger M: wgmma m64n128k32 e4m3 on 128 x 128-byte
//         tiles in 128-byte-swizzled shared memory, cp.async stages.
// Both need sm_90a (Hopper); the launcher refuses other devices.
//
// Limits (refused with a message; the CPU reference serves the rest):
// weight_block_size [128, 128] or null (per tensor, static activations
// only, as transformers), N a multiple of 16 (DeepSeek-V3's kv_a_proj has
// N = 576: its last scale row covers a partial block), K a multiple of 128,
// x 8-byte and y 4-byte aligned.
// A ue8m0 checkpoint's scales (scale_fmt "ue8m0", powers of two) are served
// once stored as f32, which holds them exactly; the e8m0 dtype itself is
// not in the spec's layout (nor the reference's).
//
// All functions return false with a message; every CUDA call is checked.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_FP8_H
#define HFQ_KERNELS_CUDA_FP8_H

#include "kernels/abi/Tensor.h"
#include "kernels/cuda/WeightOnly.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::cuda {

/// The packed tensors of an fp8 layout, checked (fp8Operands).
struct Fp8Operands {
  kernels::TensorView weight;   // f8E4M3FN [N, K]
  kernels::TensorView scaleInv; // f32 [ceil(N/128), K/128], or [] per tensor
  bool perTensor = false;
  float activationScale = 0.0f; // static scheme: > 0; dynamic: 0
};

/// Checks the fp8 layout of specs/fp8.json against what the CUDA kernels
/// serve: args (block_n, block_k, static_activation, dequantize), packed
/// (weight, weight_scale_inv[, activation_scale]), N and K.
bool fp8Operands(int64_t blockN, int64_t blockK, bool staticActivation,
                 bool dequantize,
                 const std::vector<kernels::TensorView> &packed, int64_t n,
                 int64_t k, Fp8Operands &out, std::string &error);

/// An FP8 weight resident on the device, as the checkpoint stores it.
struct Fp8Weight {
  ActType act = ActType::BF16;
  int64_t n = 0, k = 0;
  bool perTensor = false;
  float activationScale = 0.0f; // > 0: static activations
  uint8_t *codes = nullptr;     // e4m3 [N, K]
  float *scales = nullptr;      // f32 [ceil(N/128), K/128], or [1]

  bool upload(const Fp8Operands &op, int64_t n, int64_t k, ActType act,
              std::string &error);
  void release();
  size_t bytes() const; // device bytes a forward streams (codes + scales)
};

/// The path Auto takes for M rows.
LinearPath chooseFp8Path(const Fp8Weight &w, int64_t m);

/// y = x·Wᵀ (+ bias): device pointers, row-major, `bias` may be null.
/// config.path: Auto, Gemv (the decode kernel, in launches of 16 rows) or
/// Gemm (wgmma); Dequant is refused. The other knobs are not used.
bool fp8Linear(const Fp8Weight &w, const void *x, const void *bias, void *y,
               int64_t m, Workspace &ws, cudaStream_t stream,
               const LaunchConfig &config, std::string &error);

/// The activation quantization alone (the first kernel of every forward):
/// x [M, K] 16-bit of type `act` -> x8 e4m3 [M, K] and f32 scales
/// [M, K/128] (dynamic, activationScale 0) or [M] (static). K % 128 == 0.
bool fp8QuantizeActivations(ActType act, const void *x, int64_t m, int64_t k,
                            float activationScale, uint8_t *x8, float *scales,
                            cudaStream_t stream, std::string &error);

namespace detail {

/// What the two GEMM kernels read. Weight scale of (row n, K-block kb):
/// wScales[(n / 128) * wScaleRow + kb * wScaleCol] (both 0 per tensor);
/// activation scale of (token i, kb): xScales[i * xScaleCols + kb] (xScaleCols
/// K/128) or xScales[i] (xScaleCols 1, static).
struct Fp8GemmArgs {
  const uint8_t *x8;
  const float *xScales;
  const uint8_t *w;
  const float *wScales;
  const void *bias;
  void *y;
  int m, n, k;
  int xScaleCols;
  int wScaleRow, wScaleCol;
  bool bf16;
};

/// Fp8Decode.cu: 1 <= M <= 16.
bool fp8LaunchDecode(const Fp8GemmArgs &a, cudaStream_t stream,
                     std::string &error);
/// Fp8Gemm.cu: any M >= 1.
bool fp8LaunchGemm(const Fp8GemmArgs &a, cudaStream_t stream,
                   std::string &error);

} // namespace detail

} // namespace hfq::cuda

#endif // HFQ_KERNELS_CUDA_FP8_H
