//===- ModelOpEntries.h - The model ops' C signatures, once -----*- C++ -*-===//
//
// The entry points of kernels/include/hfq_model_ops.h for one activation
// suffix, declared (so every definition is checked against them) and
// defined by forwarding to an implementation: each runtime — the CPU
// reference (kernels/ref/ModelOpsEntry.cpp), the CUDA model ops
// (kernels/cuda/ModelOpsEntry.cu) — writes a struct of static functions
//
//   embedding(y, ids, w)                  rmsNorm(y, x, args, w)
//   rotary(y, x, positions, invFreq, args)
//   attention(out, q, k, v, positions, cache, args)
//   siluMul(y, gate, up)                  add(y, a, b)
//
// and, per activation type, defines HFQ_MODEL_OP_IMPL as that struct and
// expands HFQ_MODEL_OP_SIGNATURES(HFQ_DEFINE_MODEL_OP_ENTRY, f32, float).
// `S` is the element storage: float, or uint16_t for f16 and bf16.
// hfq_linear_<act> has the linear kernels' signature (hfq_kernels.h) and is
// defined as each runtime defines its linear kernels.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_ABI_MODELOPENTRIES_H
#define HFQ_KERNELS_ABI_MODELOPENTRIES_H

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cstdint>

// One signature per op: (name, the parameter list, the argument list).
#define HFQ_MODEL_OP_SIGNATURES(X, act, S)                                     \
  X(embedding, hfq_embedding_##act,                                            \
    (StridedMemRefType<S, 2> * y, StridedMemRefType<int64_t, 1> * ids,         \
     StridedMemRefType<int64_t, 2> * w),                                       \
    (y, ids, w))                                                               \
  X(rmsNorm, hfq_rms_norm_##act,                                               \
    (StridedMemRefType<S, 2> * y, StridedMemRefType<S, 2> * x,                 \
     StridedMemRefType<double, 1> * args, StridedMemRefType<int64_t, 2> * w),  \
    (y, x, args, w))                                                           \
  X(rotary, hfq_rotary_##act,                                                  \
    (StridedMemRefType<S, 2> * y, StridedMemRefType<S, 2> * x,                 \
     StridedMemRefType<int64_t, 1> * positions,                                \
     StridedMemRefType<float, 1> * invFreq,                                    \
     StridedMemRefType<double, 1> * args),                                     \
    (y, x, positions, invFreq, args))                                          \
  X(attention, hfq_attention_##act,                                            \
    (StridedMemRefType<S, 2> * out, StridedMemRefType<S, 2> * q,               \
     StridedMemRefType<S, 2> * k, StridedMemRefType<S, 2> * v,                 \
     StridedMemRefType<int64_t, 1> * positions,                                \
     StridedMemRefType<S, 5> * cache, StridedMemRefType<double, 1> * args),    \
    (out, q, k, v, positions, cache, args))                                    \
  X(siluMul, hfq_silu_mul_##act,                                               \
    (StridedMemRefType<S, 2> * y, StridedMemRefType<S, 2> * gate,              \
     StridedMemRefType<S, 2> * up),                                            \
    (y, gate, up))                                                             \
  X(add, hfq_add_##act,                                                        \
    (StridedMemRefType<S, 2> * y, StridedMemRefType<S, 2> * a,                 \
     StridedMemRefType<S, 2> * b),                                             \
    (y, a, b))

#define HFQ_DECLARE_MODEL_OP_ENTRY(method, symbol, params, args)              \
  extern "C" int32_t _mlir_ciface_##symbol params;

/// hfq_linear_<act>: the linear kernels' signature (hfq_kernels.h).
#define HFQ_DECLARE_LINEAR_ENTRY(act, S)                                       \
  extern "C" int32_t _mlir_ciface_hfq_linear_##act(                            \
      StridedMemRefType<S, 2> *y, StridedMemRefType<S, 2> *x,                  \
      StridedMemRefType<S, 1> *bias, StridedMemRefType<double, 1> *args,       \
      StridedMemRefType<int64_t, 2> *packed);

HFQ_DECLARE_LINEAR_ENTRY(f32, float)
HFQ_DECLARE_LINEAR_ENTRY(f16, uint16_t)
HFQ_DECLARE_LINEAR_ENTRY(bf16, uint16_t)
HFQ_MODEL_OP_SIGNATURES(HFQ_DECLARE_MODEL_OP_ENTRY, f32, float)
HFQ_MODEL_OP_SIGNATURES(HFQ_DECLARE_MODEL_OP_ENTRY, f16, uint16_t)
HFQ_MODEL_OP_SIGNATURES(HFQ_DECLARE_MODEL_OP_ENTRY, bf16, uint16_t)

/// Defines an entry point forwarding to HFQ_MODEL_OP_IMPL::method.
#define HFQ_DEFINE_MODEL_OP_ENTRY(method, symbol, params, args)               \
  extern "C" int32_t _mlir_ciface_##symbol params {                            \
    return HFQ_MODEL_OP_IMPL::method args;                                     \
  }

#endif // HFQ_KERNELS_ABI_MODELOPENTRIES_H
