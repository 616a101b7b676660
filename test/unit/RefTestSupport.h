//===- RefTestSupport.h - Shared helpers for the Ref*Test units -*- C++ -*-===//
//
// Small helpers every CPU-reference unit test (test/unit/Ref*Test.cpp) used
// to define for itself: wrapping a host vector in a TensorView, converting
// float literals to f16 / bf16 bit patterns, and seeded normal samples for
// the quantize -> dequantize round trips. Header-only; everything is inline.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_TEST_UNIT_REFTESTSUPPORT_H
#define HFQ_TEST_UNIT_REFTESTSUPPORT_H

#include "kernels/abi/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace hfq::kernels::testing {

/// A view of `data` (not owned: it must outlive the view) as a contiguous
/// row-major tensor of `dtype` with `shape`.
template <typename T>
TensorView viewOf(const std::vector<T> &data, DType dtype,
                  std::vector<int64_t> shape) {
  TensorView view;
  view.data = data.data();
  view.dtype = dtype;
  view.shape = std::move(shape);
  return view;
}

/// IEEE half bits of each value (round-to-nearest-even).
inline std::vector<uint16_t> halves(const std::vector<float> &values) {
  std::vector<uint16_t> out;
  out.reserve(values.size());
  for (float v : values)
    out.push_back(floatToHalf(v));
  return out;
}

/// bfloat16 bits of each value (round-to-nearest-even).
inline std::vector<uint16_t> bf16s(const std::vector<float> &values) {
  std::vector<uint16_t> out;
  out.reserve(values.size());
  for (float v : values)
    out.push_back(floatToBf16(v));
  return out;
}

/// `count` samples of N(0, sigma^2) from an mt19937 seeded with `seed`,
/// drawn in order (the same values as an inline generator loop).
inline std::vector<float> randomNormal(size_t count, unsigned seed,
                                       float sigma) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> w(count);
  for (float &x : w)
    x = dist(gen);
  return w;
}

} // namespace hfq::kernels::testing

#endif // HFQ_TEST_UNIT_REFTESTSUPPORT_H
