//===- StoredTensor.h - Owned checkpoint tensors ----------------*- C++ -*-===//
//
// The reference quantizers (quanto, HQQ, FineGrainedFP8, torchao, BitNet)
// produce tensors in exactly the layout a checkpoint stores them, so that the
// reference dequantizers can read them back through a TensorView. A
// StoredTensor owns such bytes (host byte order, which is little-endian on
// every machine hfq targets, as safetensors is).
//
// The helpers below check views against an expected layout: the shape is
// compared before anything is computed from the view's own (possibly absurd)
// shape, and a scale or zero tensor may be stored in any of the three float
// dtypes (f16 / bf16 / f32) since checkpoints carry the model's dtype there.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_ABI_STOREDTENSOR_H
#define HFQ_KERNELS_ABI_STOREDTENSOR_H

#include "kernels/abi/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels {

struct StoredTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  /// Allocates zero-filled storage for `shape` elements of `dtype`.
  void reset(DType newDtype, std::vector<int64_t> newShape);
  int64_t numel() const;
  TensorView view() const;
  /// Stores `v` rounded to the element type (round-to-nearest-even; f8E4M3FN
  /// saturates). Only for float dtypes.
  void setFloat(int64_t i, float v);
  /// Stores the low bits of `bits` (the element's width; zero-extended into
  /// an I64) as raw integer bits.
  void setBits(int64_t i, uint32_t bits);
  /// Raw bits of element `i`, zero-extended (as TensorView::bits: the low 32
  /// bits of an I64).
  uint32_t bitsAt(int64_t i) const;
};

/// True for the float dtypes a scale / zero tensor may be stored in.
bool isFloatDType(DType dtype);

/// `v` after a round trip through `dtype` (f32, f16, bf16, f8E4M3FN).
/// This is how the quantizers emulate torch's per-operation rounding in a
/// 16-bit dtype.
float roundToDType(DType dtype, float v);

/// "[a, b, c]".
std::string shapeString(const std::vector<int64_t> &shape);

/// Checks dtype, shape and data of `view`; on failure sets `error` to
/// "<name> must be <dtype>[<shape>], got <dtype>[<shape>]" (or
/// "<name> has no data").
bool expectView(const TensorView &view, const char *name, DType dtype,
                const std::vector<int64_t> &shape, std::string &error);

/// As expectView, accepting any of f16 / bf16 / f32.
bool expectFloatView(const TensorView &view, const char *name,
                     const std::vector<int64_t> &shape, std::string &error);

/// Checks 1 <= n, k < 2^31 so that every index product below fits int64.
bool checkMatrixShape(const char *what, int64_t n, int64_t k,
                      std::string &error);

/// Checks that x[0, count) exists ("<what> has no data" otherwise) and is
/// all finite (the quantizers turn scaled values into integers, which C++
/// leaves undefined for NaN and infinities); on failure names `what` and the
/// first bad index.
bool checkFinite(const float *x, int64_t count, const char *what,
                 std::string &error);

/// std::clamp for values about to become integer codes, except that NaN
/// (which overflowing intermediate arithmetic can produce even from finite
/// inputs) maps to `lo` instead of passing through to an undefined cast.
inline float clampCode(float v, float lo, float hi) {
  return v >= lo ? (v <= hi ? v : hi) : lo;
}

/// ceil(a / b) for a >= 0, b > 0.
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

} // namespace hfq::kernels

#endif // HFQ_KERNELS_ABI_STOREDTENSOR_H
