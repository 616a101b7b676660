//===- BitNet.h - BitNet b1.58 reference ------------------------*- C++ -*-===//
//
// BitNet b1.58 as transformers' BitLinear loads it (specs/bitnet.json;
// quant-formats-and-kernels.md §2.12).
//
// `weight` ui8 [N/4, K]: the ternary values t in {-1, 0, 1} are stored as
// t + 1 in {0, 1, 2}, four per byte in planes along N: byte row r holds
// output rows r, r + N/4, r + N/2, r + 3N/4 at bits 0-1, 2-3, 4-5, 6-7.
// The code 3 is not a ternary value and is rejected. `weight_scale` is one
// value [1] in the model dtype.
//
// Forward (BitLinear): activations are quantized per token,
// s_x = 127 / max(max|x|, 1e-5), x_q = clamp(round(x * s_x), -128, 127),
// and y = (x_q . W_t^T) / (s_x * weight_scale): in this path the stored
// scale plays the role of s_w = 1 / mean|W|, so the weight the layer
// represents is W = W_t / weight_scale. (The "autobitlinear" offline path
// multiplies by weight_scale instead; see BitnetScaleMode.)
// The reference sums x_q . W_t exactly (integers) and divides in f32;
// transformers runs this under torch.compile in the model dtype.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_BITNET_H
#define HFQ_KERNELS_REF_BITNET_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <string>
#include <vector>

namespace hfq::kernels {

/// Unpacks `weight` ui8 [N/4, K] to ternary values t [N * K] (row-major).
bool unpackBitnetTernary(const TensorView &weight, int64_t n, int64_t k,
                         std::vector<int8_t> &t, std::string &error);

enum class BitnetScaleMode {
  Divide,   // BitLinear: W = t / weight_scale
  Multiply, // AutoBitLinear, offline: W = t * weight_scale
};

/// Dequantizes to W [N, K] row-major. `weightScale` float [1].
bool dequantizeBitnet(const TensorView &weight, const TensorView &weightScale,
                      int64_t n, int64_t k, std::vector<float> &w,
                      std::string &error,
                      BitnetScaleMode mode = BitnetScaleMode::Divide);

/// BitLinear.activation_quant of x [M, K]: codes [M, K] and s_x [M].
bool quantizeBitnetActivations(const float *x, int64_t m, int64_t k,
                               std::vector<int8_t> &xq,
                               std::vector<float> &scales, std::string &error);

/// BitLinear.forward: y [M, N] = (x_q . W_t^T) / (s_x * weight_scale)
/// (+ bias [N] when not null).
bool bitnetLinear(const float *x, int64_t m, const TensorView &weight,
                  const TensorView &weightScale, int64_t n, int64_t k,
                  const float *bias, std::vector<float> &y, std::string &error);

struct BitnetPacked {
  StoredTensor weight;      // ui8 [N/4, K]
  StoredTensor weightScale; // [1] in `dtype`
};

/// The b1.58 training-time weight quantization, packed for BitLinear:
/// s_w = 1 / max(mean|W|, 1e-5), t = clamp(round(W * s_w), -1, 1),
/// weight_scale = s_w stored in `dtype`. N must be a multiple of 4.
bool quantizeBitnet(const float *w, int64_t n, int64_t k, DType dtype,
                    BitnetPacked &out, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_BITNET_H
