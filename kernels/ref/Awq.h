//===- Awq.h - AWQ checkpoint reference (AutoAWQ GEMM / GEMV) ---*- C++ -*-===//
//
// Exact CPU reference of the two AutoAWQ layouts transformers loads as
// quant_method "awq" (4-bit, zero point stored as is, no "+1"):
//
//  version "gemm" (WQLinear_GEMM):
//    qweight i32 [K, N / 8]    nibbles along N, interleaved
//    qzeros  i32 [K / g, N / 8] same packing
//    scales  f16 [K / g, N]
//    In word c of a row, nibble i (bits 4i..4i+3) holds column
//    8c + kAwqGemmOrder[i], order [0, 2, 4, 6, 1, 3, 5, 7]: the
//    FasterTransformer interleave that lets one lop3 with mask 0x000f000f
//    turn columns (0, 1) into a half2, the next mask (2, 3), and so on.
//
//  version "gemv" (WQLinear_GEMV):
//    qweight i32 [N, K / 8]    nibbles along K in natural order
//    qzeros  i32 [N, W]        group zeros along the row, natural order
//    scales  f16 [N, 8 * W]    scales[n, g]
//    W = ceil(ceil((K / g) / 8) / m) * m, m = 1 for g >= 128, 2 for g = 64,
//    4 for g = 32 (the per-row group vectors are zero-padded).
//
//   W[n, k] = (q[k, n] - z[k / g, n]) * s[k / g, n]
//
// "gemv_fast" (TinyChat's int16 interleave) is not covered here.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_AWQ_H
#define HFQ_KERNELS_REF_AWQ_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

enum class AwqVersion { Gemm, Gemv };

/// Column (8c + kAwqGemmOrder[i]) held by nibble i of a gemm word.
extern const int kAwqGemmOrder[8];

struct AwqParams {
  AwqVersion version = AwqVersion::Gemm;
  int bits = 4;            ///< must be 4
  int64_t groupSize = 128; ///< -1: K
};

/// The group geometry of one AWQ layer, validated.
struct AwqShape {
  int64_t g = 0;      ///< group size
  int64_t groups = 0; ///< K / g
  int64_t width = 0;  ///< gemv: W, the padded zero words per row
};

/// Validates N, K, bits, the group size and the packing constraints of the
/// layout `p.version`; fills `s`.
bool checkAwqParams(int64_t n, int64_t k, const AwqParams &p, AwqShape &s,
                    std::string &error);

/// Checks the dtype and shape of a gemm layout's tensors.
bool checkAwqGemmTensors(const TensorView &qweight, const TensorView &qzeros,
                         const TensorView &scales, int64_t n, int64_t k,
                         const AwqShape &s, std::string &error);

/// Dequantizes to W[N, K] row-major floats ((q - z) * s, exact in float).
/// Returns false and sets error on any shape / dtype / parameter problem.
bool dequantizeAwq(const TensorView &qweight, const TensorView &qzeros,
                   const TensorView &scales, int64_t n, int64_t k,
                   const AwqParams &p, std::vector<float> &w,
                   std::string &error);

/// An AWQ checkpoint's tensors.
struct AwqQuantized {
  StoredTensor qweight; ///< i32
  StoredTensor qzeros;  ///< i32
  StoredTensor scales;  ///< f16
};

/// Round-to-nearest min/max quantization of W[N, K] as AutoAWQ's
/// pseudo_quantize_tensor does it (per group and output row: scale =
/// max(max - min, 1e-5) / 15, zero = clamp(-round(min / scale), 0, 15)),
/// without AWQ's activation-aware rescaling search, packed exactly as the
/// chosen version's checkpoint. Codes are computed against the fp16-rounded
/// scale, so each value is within half a stored step unless clamped.
bool quantizeAwqRtn(const float *w, int64_t n, int64_t k, const AwqParams &p,
                    AwqQuantized &out, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_AWQ_H
