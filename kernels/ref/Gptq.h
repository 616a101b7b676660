//===- Gptq.h - GPTQ checkpoint reference (AutoGPTQ/GPTQModel) --*- C++ -*-===//
//
// Exact CPU reference of the GPTQ tensor layout that transformers loads
// (AutoGPTQ's "cuda-old" / exllama layout, checkpoint_format "gptq" and
// "gptq_v2"):
//
//   qweight i32 [K * bits / 32, N]   codes packed along K
//   qzeros  i32 [G, N * bits / 32]   zero points packed along N
//   scales  f16 [G, N]
//   g_idx   i32 [K]                  group of each input channel
//
// with G = ceil(K / group_size) (group_size -1: G = 1). Both packed tensors
// are little-endian, LSB-first bit streams: along K for one column of
// qweight, along N for one row of qzeros, value i at bits [b*i, b*i + b) of
// the stream. For 2/4/8 bits a word holds 32/b whole values; for 3 bits, 32
// values fill three words and values 10 and 21 straddle word boundaries.
//
//   W[n, k] = scales[g, n] * (q[k, n] - z[g, n]),  g = g_idx[k]
//
// where z is the stored field + 1 for format "gptq" (the packer stores
// zero - 1; a true zero of 0 wraps to 2^b - 1 and reads back as 2^b, the
// asymmetric-quantization overflow bug, reproduced here as the kernels do)
// and the stored field itself for "gptq_v2".
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_GPTQ_H
#define HFQ_KERNELS_REF_GPTQ_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

struct GptqParams {
  int bits = 4;            ///< 2, 3, 4 or 8
  int64_t groupSize = 128; ///< -1: one group over all of K
  /// Format "gptq" (v1): the stored zero is zero - 1. False: "gptq_v2".
  bool zeroStoredMinusOne = true;
};

struct GptqArgs; // kernels/generated/MethodArgs.h

/// The layout args (specs/gptq.json) as parameters (GptqEntry.cpp).
GptqParams gptqParams(const GptqArgs &args);

/// Validates N, K, bits, group size and the packing constraints; sets the
/// group size g (K for -1) and the group count G.
bool checkGptqParams(int64_t n, int64_t k, const GptqParams &p, int64_t &g,
                     int64_t &groups, std::string &error);

/// Whether a checkpoint has act-order indices: a g_idx with neither data
/// nor shape means g_idx[k] = k / group_size.
inline bool gptqHasGIdx(const TensorView &gIdx) {
  return !(gIdx.data == nullptr && gIdx.shape.empty());
}

/// Checks the dtype and shape of every tensor for `groups` groups, and that
/// each g_idx entry (when present) is a group in [0, G).
bool checkGptqTensors(const TensorView &qweight, const TensorView &qzeros,
                      const TensorView &scales, const TensorView &gIdx,
                      int64_t n, int64_t k, const GptqParams &p, int64_t groups,
                      std::string &error);

/// Dequantizes to W[N, K] row-major floats (each value s * (q - z), exact in
/// float since s is f16 and q - z a small integer; the CUDA kernels round it
/// to fp16). `gIdx` may be left empty (data null, no shape) for
/// g_idx[k] = k / group_size, as checkpoints without act-order imply.
/// Returns false and sets error on any shape / dtype / parameter problem or
/// a g_idx entry outside [0, G).
bool dequantizeGptq(const TensorView &qweight, const TensorView &qzeros,
                    const TensorView &scales, const TensorView &gIdx, int64_t n,
                    int64_t k, const GptqParams &p, std::vector<float> &w,
                    std::string &error);

/// Field `i` (b bits) of the LSB-first bit stream held in the 32-bit words
/// words[0], words[stride], words[2 * stride], ... The caller guarantees the
/// field lies inside the stream.
uint32_t gptqUnpackField(const TensorView &words, int64_t first, int64_t stride,
                         int bits, int64_t i);

/// A GPTQ checkpoint's tensors.
struct GptqQuantized {
  StoredTensor qweight; ///< i32 [K * bits / 32, N]
  StoredTensor qzeros;  ///< i32 [G, N * bits / 32]
  StoredTensor scales;  ///< f16 [G, N]
  StoredTensor gIdx;    ///< i32 [K], k / group_size
};

/// Round-to-nearest quantization of W[N, K] onto GPTQ's grid (the
/// Quantizer.find_params of GPTQ / AutoGPTQ, per group and output column:
/// the range is widened to include 0; sym uses zero (2^b) / 2 and a range
/// symmetric about 0, asym zero = round(-min / scale)), without GPTQ's
/// Hessian error feedback, packed exactly as a checkpoint. The codes are
/// computed against the fp16-rounded scale, so each dequantized value is
/// within half a (stored) step of w unless clamped at the grid's ends. For
/// format "gptq" an asymmetric zero of 0 is stored as 2^b - 1 and reads back
/// as 2^b, so such a group comes back 2^b steps too low (the format's bug,
/// kept on purpose: it is what a v1 checkpoint holds).
bool quantizeGptqRtn(const float *w, int64_t n, int64_t k, const GptqParams &p,
                     bool sym, GptqQuantized &out, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_GPTQ_H
