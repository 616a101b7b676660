//===- QuantWeight.h - Integer weights in one canonical form ----*- C++ -*-===//
//
// The load-time repacking step between a checkpoint and the CUDA kernels
// runs in two stages:
//
//   checkpoint tensors --(FromCheckpoint.h, one converter per method)-->
//   QuantWeight (this file: unpacked codes, float scales and zeros) --
//   (KernelLayout.h)--> the tile layout the CUDA kernels read.
//
// QuantWeight is deliberately plain: every W4A16/W8A16 format hfq serves
// (GPTQ, AWQ, compressed-tensors, HQQ, torchao, quanto, EETQ, bnb int8)
// is, once unpacked, "an unsigned code per weight, and per (group, column)
// a scale and a zero", possibly with an act-order permutation of K.
//
//   W[n][k] = (q[n][k] - zero[g][n]) * scale[g][n]      ZeroKind::Integer,
//                                                       ZeroKind::Symmetric
//   W[n][k] =  q[n][k] * scale[g][n] + zero[g][n]       ZeroKind::Offset
//
// with g = group(k) = k / groupSize when perm is empty; with act order,
// g = gIdx[k] and the converter has checked that sorting K by gIdx gives
// contiguous groups of groupSize (the kernels permute K once at load).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REPACK_QUANTWEIGHT_H
#define HFQ_KERNELS_REPACK_QUANTWEIGHT_H

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

enum class ZeroKind {
  /// zero = 2^(bits-1) for every group; `zero` is empty.
  Symmetric,
  /// zero[g][n] is an integer code in [0, 2^bits) (GPTQ, AWQ, CT asym).
  Integer,
  /// zero[g][n] is a float added after scaling: w = q*s + zero (HQQ's
  /// -zero*scale, torchao's z - 8s, quanto's -shift*scale).
  Offset,
};

struct QuantWeight {
  int bits = 4;          // 2 .. 8 (the kernels take 4; other widths are
                         // widened to the 8-bit layout by packForKernel)
  int64_t n = 0, k = 0;  // W is [n, k] (out_features, in_features)
  int64_t groupSize = 0; // divides k; == k for one group per column
  ZeroKind zeroKind = ZeroKind::Symmetric;
  std::vector<uint8_t> q;    // [n * k] codes in [0, 2^bits), row-major [n][k]
  std::vector<float> scale;  // [groups() * n], row-major [g][n]
  std::vector<float> zero;   // [groups() * n] (empty for Symmetric)
  std::vector<int32_t> gIdx; // [k] act-order group of each k, or empty

  int64_t groups() const { return groupSize > 0 ? k / groupSize : 0; }
  int64_t groupOf(int64_t kk) const {
    return gIdx.empty() ? kk / groupSize : gIdx[kk];
  }
  /// W[n][k] as the formula above gives it, in float (Offset: product then
  /// sum, never fused into an fma). weight() and dequantize() index
  /// without checks: call them on a QuantWeight that verify()s.
  float weight(int64_t nn, int64_t kk) const;
  /// Every invariant above; false with a message naming the broken one.
  bool verify(std::string &error) const;
  /// The full [n, k] float weight.
  std::vector<float> dequantize() const;
};

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REPACK_QUANTWEIGHT_H
