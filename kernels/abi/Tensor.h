//===- Tensor.h - Views of checkpoint tensors for the CPU reference -*- C++ -*-===//
//
// The CPU reference kernels read checkpoint tensors exactly as they are
// published (no repacking): a TensorView is a contiguous row-major buffer
// with its element type and shape. Every reference dequantizer checks the
// views it gets against the layout it expects (StoredTensor.h) and reports a
// mismatch as an error string — never undefined behaviour.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_ABI_TENSOR_H
#define HFQ_KERNELS_ABI_TENSOR_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

/// Element types of checkpoint tensors (MLIR spellings in comments).
enum class DType {
  I8,       // i8
  U8,       // ui8 (also bnb's packed bytes)
  I16,      // i16
  I32,      // i32
  F16,      // f16
  BF16,     // bf16
  F32,      // f32
  F8E4M3FN, // f8E4M3FN
  F8E5M2,   // f8E5M2
  I64,      // i64 (compressed-tensors' weight_shape)
};

const char *dtypeName(DType dtype);
size_t dtypeSize(DType dtype);

struct TensorView {
  const void *data = nullptr;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;

  /// The element count; -1 where the product of the sizes overflows int64
  /// (decodeTable refuses such a view, so a decoded one never has it).
  int64_t numel() const;
  /// Element `i` (row-major linear index) converted to float; integers are
  /// converted by value (signed for I8/I16/I32/I64, unsigned for U8).
  float at(int64_t i) const;
  /// Raw integer bits of element `i` (for packed words), zero-extended from
  /// the element's width; the low 32 bits of an I64.
  uint32_t bits(int64_t i) const;
  /// Element `i` of an integer dtype by value (signed for I8/I16/I32/I64,
  /// unsigned for U8): what a float could not hold exactly, such as a shape.
  int64_t integer(int64_t i) const;
};

/// IEEE half / bfloat16 / float8 conversions (round-to-nearest-even on the
/// way down; float8 e4m3fn saturates to ±448 and has no infinities).
float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bf16ToFloat(uint16_t h);
uint16_t floatToBf16(float f);
float fp8e4m3ToFloat(uint8_t v);
uint8_t floatToFp8e4m3(float f);
float fp8e5m2ToFloat(uint8_t v);

/// The dense reference product every kernel family ends with:
/// y[M, N] = x[M, K] · W[N, K]ᵀ (+ bias[N]), accumulated in double.
void referenceLinear(const float *x, const float *w, const float *bias,
                     int64_t m, int64_t n, int64_t k, float *y);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_ABI_TENSOR_H
