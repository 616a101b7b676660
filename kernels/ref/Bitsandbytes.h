//===- Bitsandbytes.h - bitsandbytes 4-bit and LLM.int8() -------*- C++ -*-===//
//
// Exact CPU reference of the two bitsandbytes weight formats transformers
// loads (quant_method "bitsandbytes"):
//
//  * 4-bit NF4 / FP4 (Linear4bit, Params4bit): codes of the [N, K] weight in
//    row-major order, two per byte (element 2i in the high nibble), one fp32
//    absmax per `blocksize` consecutive elements; with double quantization
//    ("nested", compress_statistics) the absmax itself is stored as uint8
//    codes into bnb's signed dynamic map, one fp32 nested absmax per 256
//    blocks, plus the scalar nested_offset (the mean of the absmax).
//  * LLM.int8() (Linear8bitLt, Int8Params): CB int8 [N, K] with the per-row
//    absmax SCB fp32 [N]; CB = round(W * 127 / SCB).
//
// Both are quantized by transformers at load, so the quantizers are here too.
// They mirror bitsandbytes' CUDA kernels operation by operation (same float
// operations, same decision trees and binary search), so that they produce
// the bytes a GPU load produces (compared with bitsandbytes 0.50.2 on an
// H200); where a result can still differ (a mean reduced in another order,
// __fdividef), the function says so.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_BITSANDBYTES_H
#define HFQ_KERNELS_REF_BITSANDBYTES_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

//===----------------------------------------------------------------------===//
// 4-bit NF4 / FP4
//===----------------------------------------------------------------------===//

enum class Bnb4Type { NF4, FP4 };

/// The 16 normalised values of a 4-bit code (index = code), exactly the
/// float constants of bnb's dequantization lookup tables. NF4 is sorted;
/// FP4 is in bit-pattern order (sign bit 3, then bnb's 2-exponent/1-mantissa
/// magnitude table divided by 12), code 8 is -0.
const std::array<float, 16> &bnb4CodeTable(Bnb4Type type);

/// The 4-bit code bnb's CUDA quantizer (dQuantizeNF4 / dQuantizeFP4) gives a
/// value already scaled into [-1, 1]: a decision tree with strict `>`
/// comparisons against fixed midpoints, so a value exactly on a midpoint goes
/// to the lower code, and NaN (what 0 * (1 / 0) gives for an all-zero block)
/// goes to code 0.
uint8_t bnb4QuantizeValue(Bnb4Type type, float x);

/// bnb's create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
/// the sorted 256-entry code of the 8-bit blockwise quantizer that stores the
/// nested absmax. torch builds it with torch.linspace in float32, whose
/// CPU kernel is contracted to fused multiply-adds in torch's AVX2 / AVX512
/// builds (every x86 machine with those) but not in its generic build; 42 of
/// the 256 entries differ by one ulp between the two. `fusedLinspace` picks
/// the former (the default: what a Hub checkpoint quantized on such a
/// machine stores as nested_quant_map) or the latter.
std::array<float, 256> bnbDynamicMap(bool fusedLinspace = true);

/// bnb's dQuantize<0>: the code of `x` (in [-1, 1]) in the sorted 256-entry
/// `code`, found with the kernel's 7-step binary search and its midpoint
/// rounding (not always the nearest entry when `code` is not the dynamic
/// map, since the search assumes a sorted code).
uint8_t bnbQuantizeDynamic(const std::array<float, 256> &code, float x);

/// bnb's quantize_blockwise (8-bit) as its CUDA kernel computes it: per
/// block of `blocksize` values, absmax = max |a| and code =
/// bnbQuantizeDynamic(code, a * (1 / absmax)); an all-zero block gets
/// absmax 0 and code 0 (NaN in the search). Fails on blocksize < 1.
bool bnbQuantizeBlockwise8(const float *a, int64_t count, int64_t blocksize,
                           const std::array<float, 256> &code,
                           std::vector<uint8_t> &codes,
                           std::vector<float> &absmax, std::string &error);

/// torch's float32 mean of `count` values: a float sum taken as a pairwise
/// tree, times the float factor 1 / count (NaN when count < 1). torch's GPU
/// reduction combines in its own order, so the last bit can differ.
float bnbFloatMean(const float *a, int64_t count);

struct Bnb4Params {
  Bnb4Type type = Bnb4Type::NF4;
  /// Elements per absmax block: 32, 64 (bnb's default), ..., 4096.
  int64_t blocksize = 64;
  /// Double quantization (bnb_4bit_use_double_quant, nested absmax).
  bool doubleQuant = false;
  /// quant_state's nested_offset; used only with doubleQuant.
  float nestedOffset = 0.0f;
  /// quant_state's nested_blocksize (always 256 in bnb).
  int64_t nestedBlocksize = 256;
};

/// Dequantizes Params4bit to W[N, K] (row-major floats):
///   W.flat[i] = table[code(i)] * A[i / blocksize], with
///   A[b] = absmax[b] without double quant, else (in float, as bnb)
///   A[b] = nested_quant_map[absmax[b]] * nested_absmax[b / 256] + offset.
/// `weight` is the packed tensor as stored: [(N*K + 1) / (2 * s), 1] of ui8
/// (bnb's default), i8, f16, bf16 or f32 storage (s bytes per element; the
/// bytes are the same, only viewed as another dtype). `absmax` is f32[blocks]
/// (ui8[blocks] with double quant); `nestedAbsmax` f32[ceil(blocks / 256)] and
/// `nestedQuantMap` f32[256] are read only with double quant. The stored
/// quant_map is not an input: bnb's kernels use their own tables
/// (bnb4CodeTable); checkBnb4QuantMap validates a stored one.
bool dequantizeBnb4(const TensorView &weight, const TensorView &absmax,
                    const TensorView &nestedAbsmax,
                    const TensorView &nestedQuantMap, int64_t n, int64_t k,
                    const Bnb4Params &p, std::vector<float> &w,
                    std::string &error);

/// The checks of dequantizeBnb4 alone (shapes, dtypes, blocksize, nested
/// parameters), for readers of the packed tensors that do not dequantize
/// on the CPU (the CUDA kernels' upload).
bool checkBnb4Layout(const TensorView &weight, const TensorView &absmax,
                     const TensorView &nestedAbsmax,
                     const TensorView &nestedQuantMap, int64_t n, int64_t k,
                     const Bnb4Params &p, std::string &error);

/// Checks a stored weight.quant_map: f32[16] equal to bnb4CodeTable(type).
bool checkBnb4QuantMap(const TensorView &quantMap, Bnb4Type type,
                       std::string &error);

struct Bitsandbytes4bitArgs; // kernels/generated/MethodArgs.h

/// One 4-bit weight as the kernel ABI passes it (the bitsandbytes_4bit
/// layout's args and tensors: weight, weight.absmax, weight.quant_map, and
/// with double quant weight.nested_absmax, weight.nested_quant_map,
/// weight.nested_offset), every check of the reference done: the tensor
/// count, the stored quant_map, the offset scalar and checkBnb4Layout. The
/// reference entry point and the CUDA kernels' upload both read a weight
/// through it. nestedAbsmax / nestedQuantMap are empty views without double
/// quant.
struct Bnb4Operands {
  Bnb4Params params;
  TensorView weight, absmax, nestedAbsmax, nestedQuantMap;
};
bool bnb4Operands(const Bitsandbytes4bitArgs &args,
                  const std::vector<TensorView> &packed, int64_t n, int64_t k,
                  Bnb4Operands &out, std::string &error);

/// What quantize_4bit stores for one weight.
struct Bnb4Quantized {
  StoredTensor weight;         ///< ui8[(N*K + 1) / 2, 1]
  StoredTensor absmax;         ///< f32[blocks], or ui8[blocks] nested
  StoredTensor quantMap;       ///< f32[16]
  StoredTensor nestedAbsmax;   ///< f32[ceil(blocks / 256)] (nested only)
  StoredTensor nestedQuantMap; ///< f32[256] (nested only)
  float nestedOffset = 0.0f;   ///< (nested only)
};

/// Quantizes W[N, K] as bnb's CUDA quantize_4bit does: per block,
/// absmax = max |w| and code = bnb4QuantizeValue(w * (1 / absmax)) in float.
/// With p.doubleQuant, offset = bnbFloatMean(absmax) and absmax - offset goes
/// through bnbQuantizeBlockwise8 in blocks of p.nestedBlocksize (256) with
/// bnbDynamicMap() (the fused variant). Checked against bitsandbytes 0.50.2
/// on an H200 (NF4 and FP4, with and without double quant, an all-zero
/// block, an odd element count): identical bytes and offset. The one part
/// not guaranteed is the offset's summation order (see bnbFloatMean); an
/// offset one ulp off moves a few nested codes by one.
/// p.nestedOffset is ignored.
bool quantizeBnb4(const float *w, int64_t n, int64_t k, const Bnb4Params &p,
                  Bnb4Quantized &out, std::string &error);

//===----------------------------------------------------------------------===//
// LLM.int8()
//===----------------------------------------------------------------------===//

struct Bitsandbytes8bitArgs; // kernels/generated/MethodArgs.h

/// The LLM.int8() threshold of the layout args, which must be non-negative
/// (the reference entry points and the CUDA repack share it).
bool bnb8Threshold(const Bitsandbytes8bitArgs &args, float &threshold,
                   std::string &error);

/// W[N, K] = CB * SCB[:, None] / 127 (each element the exact value rounded
/// once to float; bnb's int8_vectorwise_dequant multiplies by a float 1/127
/// and can differ in the last bit). `cb` is i8[N, K], `scb` f32[N].
bool dequantizeBnbInt8(const TensorView &cb, const TensorView &scb, int64_t n,
                       int64_t k, std::vector<float> &w, std::string &error);

/// Int8Params' quantization at load: W is cast to fp16 (bnb quantizes the
/// fp16 copy), SCB[r] = max |W16[r, :]|, CB = rint(W16 * (127 / SCB)) with
/// round-half-even as __float2int_rn; an all-zero row gives SCB 0 and CB 0.
/// bnb's kernel divides with __fdividef, whose approximate reciprocal can
/// make 127 / SCB one ulp off and move a value lying within an ulp of a
/// half-way point to the other code (1 of 20480 codes against bitsandbytes
/// 0.50.2 on an H200); this divides exactly. Outputs cb i8[N, K] and
/// scb f32[N].
bool quantizeBnbInt8(const float *w, int64_t n, int64_t k, StoredTensor &cb,
                     StoredTensor &scb, std::string &error);

/// The activation side of MatMul8bitLt (int8_vectorwise_quant on x cast to
/// fp16). With threshold t > 0, an element with |x16| >= t is an outlier: it
/// is left out of its row's absmax, and every column holding one is an
/// outlier column whose int8 codes are all zero. SCA[i] = max |x16[i, j]|
/// over the non-outliers; CA = rint(x16 * (127 / SCA)). x is [M, K].
bool quantizeBnbInt8Activations(const float *x, int64_t m, int64_t k,
                                float threshold, std::vector<int8_t> &ca,
                                std::vector<float> &sca,
                                std::vector<int64_t> &outlierCols,
                                std::string &error);

/// The mixed-decomposition forward of Linear8bitLt, y[M, N] (§2.2):
///   y = (CA · CBᵀ) ⊙ (SCA · SCBᵀ) / 127² + x[:, O] · (CB[:, O] · SCB / 127)ᵀ
///       + bias
/// with CA, SCA, O from quantizeBnbInt8Activations (O empty when t = 0) and
/// x[:, O] the activations as given. Accumulated in double; bnb rounds the
/// int8 part and the outlier product to the activation dtype on the way.
/// `bias` may be null.
bool bnbInt8Linear(const float *x, int64_t m, const TensorView &cb,
                   const TensorView &scb, int64_t n, int64_t k, float threshold,
                   const float *bias, std::vector<float> &y,
                   std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_BITSANDBYTES_H
