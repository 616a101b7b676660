//===- Tensor.cpp - Views of checkpoint tensors ----------------------------===//

#include "kernels/abi/Tensor.h"

#include <cmath>
#include <cstring>

namespace hfq::kernels {

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::I8:
    return "i8";
  case DType::U8:
    return "ui8";
  case DType::I16:
    return "i16";
  case DType::I32:
    return "i32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F32:
    return "f32";
  case DType::F8E4M3FN:
    return "f8E4M3FN";
  case DType::F8E5M2:
    return "f8E5M2";
  case DType::I64:
    return "i64";
  }
  return "?";
}

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::I8:
  case DType::U8:
  case DType::F8E4M3FN:
  case DType::F8E5M2:
    return 1;
  case DType::I16:
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::I32:
  case DType::F32:
    return 4;
  case DType::I64:
    return 8;
  }
  return 1;
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n))
      return -1;
  return n;
}

uint32_t TensorView::bits(int64_t i) const {
  const auto *bytes = static_cast<const uint8_t *>(data);
  switch (dtypeSize(dtype)) {
  case 1:
    return bytes[i];
  case 2: {
    uint16_t v;
    std::memcpy(&v, bytes + 2 * i, 2);
    return v;
  }
  case 4: {
    uint32_t v;
    std::memcpy(&v, bytes + 4 * i, 4);
    return v;
  }
  default: {
    uint64_t v;
    std::memcpy(&v, bytes + 8 * i, 8);
    return static_cast<uint32_t>(v);
  }
  }
}

int64_t TensorView::integer(int64_t i) const {
  if (dtype == DType::I64) {
    int64_t v;
    std::memcpy(&v, static_cast<const uint8_t *>(data) + 8 * i, 8);
    return v;
  }
  uint32_t raw = bits(i);
  switch (dtype) {
  case DType::I8:
    return static_cast<int8_t>(raw);
  case DType::I16:
    return static_cast<int16_t>(raw);
  case DType::I32:
    return static_cast<int32_t>(raw);
  default:
    return raw;
  }
}

float TensorView::at(int64_t i) const {
  uint32_t raw = bits(i);
  switch (dtype) {
  case DType::I8:
    return static_cast<float>(static_cast<int8_t>(raw));
  case DType::U8:
    return static_cast<float>(raw);
  case DType::I16:
    return static_cast<float>(static_cast<int16_t>(raw));
  case DType::I32:
    return static_cast<float>(static_cast<int32_t>(raw));
  case DType::I64:
    return static_cast<float>(integer(i));
  case DType::F16:
    return halfToFloat(static_cast<uint16_t>(raw));
  case DType::BF16:
    return bf16ToFloat(static_cast<uint16_t>(raw));
  case DType::F32: {
    float f;
    std::memcpy(&f, &raw, 4);
    return f;
  }
  case DType::F8E4M3FN:
    return fp8e4m3ToFloat(static_cast<uint8_t>(raw));
  case DType::F8E5M2:
    return fp8e5m2ToFloat(static_cast<uint8_t>(raw));
  }
  return 0.0f;
}

//===----------------------------------------------------------------------===//
// Floating-point formats
//===----------------------------------------------------------------------===//

static float fromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

static uint32_t toBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float value;
  if (exp == 0)
    value = std::ldexp(static_cast<float>(man), -24);
  else if (exp == 31)
    value = man ? NAN : INFINITY;
  else
    value = std::ldexp(static_cast<float>(man | 0x400), static_cast<int>(exp) - 25);
  return sign ? -value : value;
}

uint16_t floatToHalf(float f) {
  uint32_t b = toBits(f);
  uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000);
  float a = std::fabs(f);
  if (std::isnan(f))
    return sign | 0x7e00;
  if (a >= 65520.0f) // rounds to infinity
    return sign | 0x7c00;
  if (a < std::ldexp(1.0f, -14)) {
    // Subnormal: a multiple of 2^-24, rounded to nearest even.
    float q = std::nearbyint(std::ldexp(a, 24));
    return sign | static_cast<uint16_t>(q);
  }
  int exp;
  float frac = std::frexp(a, &exp); // a = frac * 2^exp, frac in [0.5, 1)
  float scaled = std::nearbyint(std::ldexp(frac, 11)); // 11 significant bits
  if (scaled >= 2048.0f) {
    scaled /= 2;
    ++exp;
  }
  int biased = exp - 1 + 15;
  if (biased >= 31)
    return sign | 0x7c00;
  return sign | static_cast<uint16_t>((biased << 10) |
                                      (static_cast<uint32_t>(scaled) & 0x3ff));
}

float bf16ToFloat(uint16_t h) { return fromBits(static_cast<uint32_t>(h) << 16); }

uint16_t floatToBf16(float f) {
  uint32_t b = toBits(f);
  if (std::isnan(f))
    return static_cast<uint16_t>((b >> 16) | 0x40);
  uint32_t rounding = 0x7fff + ((b >> 16) & 1);
  return static_cast<uint16_t>((b + rounding) >> 16);
}

float fp8e4m3ToFloat(uint8_t v) {
  uint32_t sign = v >> 7, exp = (v >> 3) & 0xf, man = v & 0x7;
  if (exp == 0xf && man == 0x7)
    return NAN;
  float value = exp == 0 ? std::ldexp(static_cast<float>(man), -9)
                         : std::ldexp(static_cast<float>(man | 8),
                                      static_cast<int>(exp) - 10);
  return sign ? -value : value;
}

uint8_t floatToFp8e4m3(float f) {
  if (std::isnan(f))
    return 0x7f;
  uint8_t sign = std::signbit(f) ? 0x80 : 0;
  float a = std::fmin(std::fabs(f), 448.0f); // saturate: e4m3fn has no inf
  // Pick the nearest representable value (ties to even code) by search over
  // the 127 non-negative finite codes: exact and simple for a reference.
  uint8_t best = 0;
  float bestErr = INFINITY;
  for (uint8_t code = 0; code < 0x7f; ++code) {
    float err = std::fabs(fp8e4m3ToFloat(code) - a);
    if (err < bestErr || (err == bestErr && (code & 1) == 0 && (best & 1))) {
      best = code;
      bestErr = err;
    }
  }
  return sign | best;
}

float fp8e5m2ToFloat(uint8_t v) {
  return halfToFloat(static_cast<uint16_t>(v) << 8);
}

void referenceLinear(const float *x, const float *w, const float *bias,
                     int64_t m, int64_t n, int64_t k, float *y) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = bias ? bias[j] : 0.0;
      for (int64_t l = 0; l < k; ++l)
        acc += static_cast<double>(x[i * k + l]) * w[j * k + l];
      y[i * n + j] = static_cast<float>(acc);
    }
}

} // namespace hfq::kernels
