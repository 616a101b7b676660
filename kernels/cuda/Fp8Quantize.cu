//===- Fp8Quantize.cu - FP8 activation quantization, 1 x 128 groups -------===//
//
// The first kernel of every FP8 forward (Fp8.h): x [M, K] in f16 / bf16 to
// e4m3 codes and f32 scales, bit for bit as the CPU reference
// (kernels/ref/FineGrainedFp8.cpp: quantizeFp8ActivationGroups, and the
// static branch of fp8Linear), which follows transformers'
// fp8_act_quant_kernel:
//
//   dynamic  per token per 128 channels: amax = max |x| (f32, exact),
//            s = amax / 448 (IEEE division), x8 = e4m3(x / s) rounded to
//            nearest even with saturation (cvt.rn.satfinite); an all-zero
//            group gets s = 0 and codes 0 (the reference's choice; the
//            Triton kernel would make NaN there);
//   static   s = activation_scale for every token, x8 = e4m3(clamp(x / s,
//            +-448)): the clamp is the saturation of the same conversion.
//
// One warp per (token, group): lane l holds channels 4l .. 4l + 3 (one
// 8-byte load, one 4-byte store), the amax is a butterfly of shuffles.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Fp8.h"
#include "kernels/cuda/Internal.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <algorithm>

namespace hfq::cuda {

namespace {

constexpr int kGroup = 128;
constexpr int kWarpsPerBlock = 8;

template <bool Bf16> __device__ float widen(uint16_t h) {
  if constexpr (Bf16)
    return __uint_as_float(static_cast<uint32_t>(h) << 16);
  else
    return __half2float(__ushort_as_half(h));
}

/// Two floats to two e4m3 bytes (a in the low byte), RNE, saturating.
__device__ uint32_t toE4m3x2(float a, float b) {
  return static_cast<uint32_t>(
      __nv_cvt_float2_to_fp8x2(make_float2(a, b), __NV_SATFINITE, __NV_E4M3));
}

template <bool Bf16>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    fp8QuantizeKernel(const uint16_t *__restrict__ x, int64_t m, int64_t k,
                      float staticScale, uint8_t *__restrict__ x8,
                      float *__restrict__ scales) {
  const int lane = threadIdx.x % 32;
  const int64_t groups = k / kGroup;
  const int64_t total = m * groups;
  for (int64_t item = (int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32);
       item < total; item += int64_t(gridDim.x) * kWarpsPerBlock) {
    const int64_t row = item / groups, group = item % groups;
    const size_t base =
        static_cast<size_t>(row * k + group * kGroup + 4 * lane);
    const uint2 raw = *reinterpret_cast<const uint2 *>(x + base);
    const float v[4] = {widen<Bf16>(raw.x & 0xffff), widen<Bf16>(raw.x >> 16),
                        widen<Bf16>(raw.y & 0xffff), widen<Bf16>(raw.y >> 16)};
    float s = staticScale;
    if (s == 0.0f) {
      float amax = fmaxf(fmaxf(fabsf(v[0]), fabsf(v[1])),
                         fmaxf(fabsf(v[2]), fabsf(v[3])));
      for (int offset = 16; offset > 0; offset /= 2)
        amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, offset));
      s = __fdiv_rn(amax, 448.0f);
      if (lane == 0)
        scales[row * groups + group] = s;
    } else if (lane == 0 && group == 0) {
      scales[row] = s;
    }
    uint32_t codes = 0;
    if (s != 0.0f)
      codes = toE4m3x2(__fdiv_rn(v[0], s), __fdiv_rn(v[1], s)) |
              toE4m3x2(__fdiv_rn(v[2], s), __fdiv_rn(v[3], s)) << 16;
    *reinterpret_cast<uint32_t *>(x8 + base) = codes;
  }
}

} // namespace

bool fp8QuantizeActivations(ActType act, const void *x, int64_t m, int64_t k,
                            float activationScale, uint8_t *x8, float *scales,
                            cudaStream_t stream, std::string &error) {
  if (m < 1 || k < kGroup || k % kGroup != 0) {
    error = "fp8 activation quantization needs M >= 1 and K a multiple of "
            "128, got M = " +
            std::to_string(m) + ", K = " + std::to_string(k);
    return false;
  }
  if (reinterpret_cast<uintptr_t>(x) % 8 != 0) {
    error = "x must be 8-byte aligned for the FP8 activation quantization";
    return false;
  }
  const int64_t warps = m * (k / kGroup);
  const int64_t blocks = std::min<int64_t>(
      (warps + kWarpsPerBlock - 1) / kWarpsPerBlock, int64_t{1} << 20);
  const auto *xs = static_cast<const uint16_t *>(x);
  if (act == ActType::BF16)
    fp8QuantizeKernel<true>
        <<<static_cast<unsigned>(blocks), kWarpsPerBlock * 32, 0, stream>>>(
            xs, m, k, activationScale, x8, scales);
  else
    fp8QuantizeKernel<false>
        <<<static_cast<unsigned>(blocks), kWarpsPerBlock * 32, 0, stream>>>(
            xs, m, k, activationScale, x8, scales);
  HFQ_LAUNCH_CHECK("the FP8 activation quantization");
  return true;
}

} // namespace hfq::cuda
