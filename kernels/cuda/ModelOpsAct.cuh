//===- ModelOpsAct.cuh - Device pieces every model-op kernel uses -*- CUDA
//-*-===//
//
// The activation types on the device (storage, load to f32, store rounding
// to nearest even: the CPU reference's Act::load / Act::store), a float
// weight element of any checkpoint dtype, the fault word, and the dispatch
// of a run-time Act to a kernel template.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_MODELOPSACT_CUH
#define HFQ_KERNELS_CUDA_MODELOPSACT_CUH

#include "kernels/cuda/ModelOpsInternal.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace hfq::cuda::model_ops {

struct F32Act {
  using Storage = float;
  static __device__ __forceinline__ float load(float v) { return v; }
  static __device__ __forceinline__ float store(float v) { return v; }
  static __device__ __forceinline__ float round(float v) { return v; }
};
struct F16Act {
  using Storage = uint16_t;
  static __device__ __forceinline__ float load(uint16_t v) {
    return __half2float(__ushort_as_half(v));
  }
  static __device__ __forceinline__ uint16_t store(float v) {
    return __half_as_ushort(__float2half_rn(v));
  }
  static __device__ __forceinline__ float round(float v) {
    return load(store(v));
  }
};
struct Bf16Act {
  using Storage = uint16_t;
  static __device__ __forceinline__ float load(uint16_t v) {
    return __bfloat162float(__ushort_as_bfloat16(v));
  }
  static __device__ __forceinline__ uint16_t store(float v) {
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
  }
  static __device__ __forceinline__ float round(float v) {
    return load(store(v));
  }
};

/// Calls `f(A{})` with the traits of `act`.
template <typename F> decltype(auto) onAct(Act act, F &&f) {
  switch (act) {
  case Act::F16:
    return f(F16Act{});
  case Act::BF16:
    return f(Bf16Act{});
  default:
    return f(F32Act{});
  }
}

/// Element `i` of a float weight of type `type`, as f32 (exact).
__device__ __forceinline__ float loadWeight(const void *w, WeightType type,
                                            int64_t i) {
  switch (type) {
  case WeightType::F16:
    return F16Act::load(static_cast<const uint16_t *>(w)[i]);
  case WeightType::BF16:
    return Bf16Act::load(static_cast<const uint16_t *>(w)[i]);
  default:
    return static_cast<const float *>(w)[i];
  }
}

/// Records a fault unless one is recorded already (the first one wins).
__device__ __forceinline__ void recordFault(DeviceFault *fault, FaultOp op,
                                            int64_t index, int64_t value,
                                            int64_t bound) {
  if (atomicCAS(&fault->op, int(kNoFault), -1) == int(kNoFault)) {
    fault->index = index;
    fault->value = value;
    fault->bound = bound;
    __threadfence();
    atomicExch(&fault->op, int(op));
  }
}

__device__ __forceinline__ float quietNaN() {
  return __int_as_float(0x7fc00000);
}

/// Blocks of `threads` to cover `count` items (at most 2^31 - 1 blocks).
inline unsigned blocksFor(int64_t count, int threads) {
  int64_t blocks = (count + threads - 1) / threads;
  return static_cast<unsigned>(
      blocks < 1 ? 1 : (blocks > 0x7fffffff ? 0x7fffffff : blocks));
}

} // namespace hfq::cuda::model_ops

#endif // HFQ_KERNELS_CUDA_MODELOPSACT_CUH
