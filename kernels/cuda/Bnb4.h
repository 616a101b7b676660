//===- Bnb4.h - bitsandbytes NF4 / FP4 linear on the GPU --------*- C++ -*-===//
//
// Host API of the bitsandbytes 4-bit kernels (Bnb4Decode.cu, Bnb4Dequant.cu).
// Unlike the integer formats (WeightOnly.h), NF4 and FP4 codes index a
// 16-entry table of non-uniform values, so they are not repacked into the
// integer tile layout: the weight stays in the checkpoint's own layout
// (kernels/ref/Bitsandbytes.h), uploaded byte for byte,
//
//   W.flat[i] = table[code(i)] * A[i / blocksize]     (W row-major [N, K])
//   A[b] = absmax[b], or with double quant
//   A[b] = nested_quant_map[absmax[b]] * nested_absmax[b / 256] + offset,
//
// codes two per byte (element 2j in the high nibble), blocks over the flat
// index (a block may straddle two rows when K is not a multiple of it).
// Every forward is y[M, N] = x[M, K] · Wᵀ (+ bias), x, y, bias fp16 or bf16:
//
//   Gemv     (Bnb4Decode.cu) M <= 64, K % 32 == 0: the codes stream from
//            HBM into registers, a byte-pair lookup table in shared memory
//            turns each byte into the two 16-bit table values, one 16-bit
//            multiply by the block's scale, and mma.m16n8k16 with the
//            weight as the A operand; warps take equal contiguous shares of
//            all (16-row tile, 128-K chunk) pairs (stream-K), tiles split
//            between warps are summed with f32 atomics;
//   Dequant  (Bnb4Dequant.cu) W to a 16-bit [N, K] scratch (each element
//            table * A in f32, rounded once, as bnb's dequantize_4bit), then
//            cuBLAS: large M, and every M when K % 32 != 0.
//
// All functions return false with a message; every CUDA call is checked.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_BNB4_H
#define HFQ_KERNELS_CUDA_BNB4_H

#include "kernels/cuda/WeightOnly.h"
#include "kernels/ref/Bitsandbytes.h"

#include <cstdint>
#include <string>

namespace hfq::cuda {

/// A bitsandbytes 4-bit weight resident on the device, as the checkpoint
/// stores it.
struct Bnb4Weight {
  ActType act = ActType::BF16;
  bool nf4 = true;
  bool nested = false;
  int64_t n = 0, k = 0;
  int64_t blocksize = 64;          // 32 .. 4096, a power of two
  int64_t nestedBlocksize = 256;   // nested only
  float nestedOffset = 0.0f;       // nested only
  void *codes = nullptr;           // (n k + 1) / 2 bytes, zero-padded to 16
  void *absmax = nullptr;          // f32[blocks], or u8[blocks] when nested
  float *nestedAbsmax = nullptr;   // f32[ceil(blocks / nestedBlocksize)]
  float *nestedQuantMap = nullptr; // f32[256]

  int64_t blocks() const { return (n * k + blocksize - 1) / blocksize; }
  /// Copies the operands (checked by kernels::bnb4Operands) to the device.
  bool upload(const kernels::Bnb4Operands &op, int64_t n, int64_t k,
              ActType act, std::string &error);
  void release();
  size_t bytes() const; // device bytes a forward streams (codes + absmax)
};

/// The path Auto takes for M rows.
LinearPath chooseBnb4Path(const Bnb4Weight &w, int64_t m);

/// y = x·Wᵀ (+ bias): device pointers, row-major, `bias` may be null.
/// config.path: Auto, Gemv (the decode kernel, in launches of 64 rows; the
/// Dequant path where K % 32 != 0) or Dequant; Gemm is taken as Gemv. The
/// other knobs of LaunchConfig are not used.
bool bnb4Linear(const Bnb4Weight &w, const void *x, const void *bias, void *y,
                int64_t m, Workspace &ws, cudaStream_t stream,
                const LaunchConfig &config, std::string &error);

/// W as a 16-bit row-major [N, K] matrix (the Dequant path's first half).
bool bnb4DequantizeToDense(const Bnb4Weight &w, void *dense,
                           cudaStream_t stream, std::string &error);

} // namespace hfq::cuda

#endif // HFQ_KERNELS_CUDA_BNB4_H
