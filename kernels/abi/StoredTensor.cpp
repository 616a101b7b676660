//===- StoredTensor.cpp - Owned checkpoint tensors ------------------------===//

#include "kernels/abi/StoredTensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace hfq::kernels {

void StoredTensor::reset(DType newDtype, std::vector<int64_t> newShape) {
  dtype = newDtype;
  shape = std::move(newShape);
  bytes.assign(static_cast<size_t>(numel()) * dtypeSize(dtype), 0);
}

int64_t StoredTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

TensorView StoredTensor::view() const {
  TensorView v;
  v.data = bytes.data();
  v.dtype = dtype;
  v.shape = shape;
  return v;
}

void StoredTensor::setBits(int64_t i, uint32_t bits) {
  uint8_t *p = bytes.data() + static_cast<size_t>(i) * dtypeSize(dtype);
  switch (dtypeSize(dtype)) {
  case 1:
    *p = static_cast<uint8_t>(bits);
    return;
  case 2: {
    uint16_t v = static_cast<uint16_t>(bits);
    std::memcpy(p, &v, 2);
    return;
  }
  case 4:
    std::memcpy(p, &bits, 4);
    return;
  default: {
    uint64_t v = bits;
    std::memcpy(p, &v, 8);
    return;
  }
  }
}

uint32_t StoredTensor::bitsAt(int64_t i) const {
  const uint8_t *p = bytes.data() + static_cast<size_t>(i) * dtypeSize(dtype);
  uint32_t v = 0;
  // The low bytes of the element (little-endian host): all of it but an I64.
  std::memcpy(&v, p, std::min<size_t>(dtypeSize(dtype), 4));
  return v;
}

void StoredTensor::setFloat(int64_t i, float v) {
  switch (dtype) {
  case DType::F16:
    setBits(i, floatToHalf(v));
    return;
  case DType::BF16:
    setBits(i, floatToBf16(v));
    return;
  case DType::F8E4M3FN:
    setBits(i, floatToFp8e4m3(v));
    return;
  case DType::F32: {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    setBits(i, b);
    return;
  }
  case DType::I8:
  case DType::U8:
  case DType::I16:
  case DType::I32:
  case DType::I64:
  case DType::F8E5M2:
    // Not a float storage type for the quantizers; store the truncated
    // integer (0 for NaN, saturated) so that misuse is visible rather than
    // undefined.
    if (std::isnan(v))
      v = 0.0f;
    v = std::fmin(std::fmax(v, -2147483648.0f), 2147483520.0f);
    setBits(i, static_cast<uint32_t>(static_cast<int32_t>(v)));
    return;
  }
}

bool isFloatDType(DType dtype) {
  return dtype == DType::F16 || dtype == DType::BF16 || dtype == DType::F32;
}

float roundToDType(DType dtype, float v) {
  switch (dtype) {
  case DType::F16:
    return halfToFloat(floatToHalf(v));
  case DType::BF16:
    return bf16ToFloat(floatToBf16(v));
  case DType::F8E4M3FN:
    return fp8e4m3ToFloat(floatToFp8e4m3(v));
  case DType::F32:
  case DType::I8:
  case DType::U8:
  case DType::I16:
  case DType::I32:
  case DType::I64:
  case DType::F8E5M2:
    return v;
  }
  return v;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

static bool expectShapeAndData(const TensorView &view, const char *name,
                               bool dtypeOk, const std::string &expected,
                               const std::vector<int64_t> &shape,
                               std::string &error) {
  // Compare first: the view's own shape may be anything (negative, huge), so
  // nothing is computed from it until it is known to equal `shape`.
  if (!dtypeOk || view.shape != shape) {
    error = std::string(name) + " must be " + expected + shapeString(shape) +
            ", got " + dtypeName(view.dtype) + shapeString(view.shape);
    return false;
  }
  int64_t numel = 1;
  for (int64_t d : shape)
    numel *= d;
  if (view.data == nullptr && numel != 0) {
    error = std::string(name) + " has no data";
    return false;
  }
  return true;
}

bool expectView(const TensorView &view, const char *name, DType dtype,
                const std::vector<int64_t> &shape, std::string &error) {
  return expectShapeAndData(view, name, view.dtype == dtype, dtypeName(dtype),
                            shape, error);
}

bool expectFloatView(const TensorView &view, const char *name,
                     const std::vector<int64_t> &shape, std::string &error) {
  return expectShapeAndData(view, name, isFloatDType(view.dtype),
                            "f16, bf16 or f32", shape, error);
}

bool checkFinite(const float *x, int64_t count, const char *what,
                 std::string &error) {
  if (x == nullptr && count > 0) {
    error = std::string(what) + " has no data";
    return false;
  }
  for (int64_t i = 0; i < count; ++i)
    if (!std::isfinite(x[i])) {
      error =
          std::string(what) + " has a non-finite value at " + std::to_string(i);
      return false;
    }
  return true;
}

bool checkMatrixShape(const char *what, int64_t n, int64_t k,
                      std::string &error) {
  constexpr int64_t kLimit = int64_t(1) << 31;
  if (n < 1 || k < 1 || n >= kLimit || k >= kLimit) {
    error = std::string(what) +
            ": N and K must be in [1, 2^31), got N=" + std::to_string(n) +
            ", K=" + std::to_string(k);
    return false;
  }
  return true;
}

} // namespace hfq::kernels
