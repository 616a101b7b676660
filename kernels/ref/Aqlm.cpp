//===- Aqlm.cpp - AQLM checkpoint reference -------------------------------===//

#include "kernels/ref/Aqlm.h"

namespace hfq::kernels {

int32_t aqlmStoredCode(uint32_t code, int nbits) {
  const int64_t size = int64_t(1) << nbits;
  const int64_t c = static_cast<int64_t>(code) % size;
  return static_cast<int32_t>(c >= size / 2 ? c - size : c);
}

uint32_t aqlmCodeIndex(int32_t stored, int nbits) {
  // Python's `%` (floor modulo): -1 % 2^16 is 65535.
  const int64_t size = int64_t(1) << nbits;
  int64_t r = static_cast<int64_t>(stored) % size;
  if (r < 0)
    r += size;
  return static_cast<uint32_t>(r);
}

bool dequantizeAqlm(const TensorView &codes, const TensorView &codebooks,
                    const TensorView &scales, int64_t n, int64_t k,
                    const AqlmParams &p, std::vector<float> &w,
                    std::string &error) {
  if (!checkMatrixShape("AQLM", n, k, error))
    return false;
  if (p.inGroupSize < 1 || p.outGroupSize < 1 || p.numCodebooks < 1) {
    error = "AQLM group sizes and codebook count must be positive "
            "(in_group_size=" +
            std::to_string(p.inGroupSize) +
            ", out_group_size=" + std::to_string(p.outGroupSize) +
            ", num_codebooks=" + std::to_string(p.numCodebooks) + ")";
    return false;
  }
  if (p.nbitsPerCodebook < 1 || p.nbitsPerCodebook > 16) {
    error = "nbits_per_codebook (" + std::to_string(p.nbitsPerCodebook) +
            ") must be between 1 and 16";
    return false;
  }
  if (k % p.inGroupSize != 0) {
    error = "K (" + std::to_string(k) +
            ") must be a multiple of in_group_size (" +
            std::to_string(p.inGroupSize) + ")";
    return false;
  }
  if (n % p.outGroupSize != 0) {
    error = "N (" + std::to_string(n) +
            ") must be a multiple of out_group_size (" +
            std::to_string(p.outGroupSize) + ")";
    return false;
  }
  // Bound the codebook count before multiplying shapes with it.
  if (p.numCodebooks > 4096) {
    error = "AQLM num_codebooks (" + std::to_string(p.numCodebooks) +
            ") is implausibly large";
    return false;
  }
  const int64_t outGroups = n / p.outGroupSize;
  const int64_t inGroups = k / p.inGroupSize;
  const int64_t og = p.outGroupSize, ig = p.inGroupSize;
  const int64_t ncb = p.numCodebooks;
  const int64_t size = int64_t(1) << p.nbitsPerCodebook;
  // Every element count below must fit int64 (the shapes are products of
  // four factors); a real layer is far below this bound.
  const double limit = 4611686018427387904.0; // 2^62
  if (static_cast<double>(outGroups) * static_cast<double>(inGroups) *
              static_cast<double>(ncb) >=
          limit ||
      static_cast<double>(ncb) * static_cast<double>(size) *
              static_cast<double>(og) * static_cast<double>(ig) >=
          limit) {
    error = "AQLM codes or codebooks would have more than 2^62 elements";
    return false;
  }
  const DType codeType = p.nbitsPerCodebook <= 8 ? DType::I8 : DType::I16;
  if (!expectView(codes, "codes", codeType, {outGroups, inGroups, ncb},
                  error) ||
      !expectFloatView(codebooks, "codebooks", {ncb, size, og, ig}, error) ||
      !expectFloatView(scales, "scales", {outGroups, 1, 1, 1}, error))
    return false;

  // The signed range pack_int_data produces; for 8 and 16 bits it is the
  // whole storage type.
  const int64_t lo = -size / 2, hi = size / 2 - 1;
  const int64_t numCodes = outGroups * inGroups * ncb;
  std::vector<uint32_t> index(static_cast<size_t>(numCodes));
  for (int64_t i = 0; i < numCodes; ++i) {
    const int32_t stored = static_cast<int32_t>(codes.at(i));
    if (stored < lo || stored > hi) {
      error = "codes[" + std::to_string(i) + "] = " + std::to_string(stored) +
              " is outside the signed " + std::to_string(p.nbitsPerCodebook) +
              "-bit range [" + std::to_string(lo) + ", " + std::to_string(hi) +
              "]";
      return false;
    }
    index[static_cast<size_t>(i)] = aqlmCodeIndex(stored, p.nbitsPerCodebook);
  }

  w.assign(static_cast<size_t>(n * k), 0.0f);
  for (int64_t o = 0; o < outGroups; ++o) {
    const double scale = scales.at(o);
    for (int64_t i = 0; i < inGroups; ++i)
      for (int64_t r = 0; r < og; ++r)
        for (int64_t j = 0; j < ig; ++j) {
          double sum = 0.0;
          for (int64_t c = 0; c < ncb; ++c) {
            const int64_t code =
                index[static_cast<size_t>((o * inGroups + i) * ncb + c)];
            sum += codebooks.at(((c * size + code) * og + r) * ig + j);
          }
          // Output row o*og + r, input column i*ig + j: the groupwise
          // [outGroups, inGroups, og, ig] block swapped to [outGroups, og,
          // inGroups, ig] and flattened, as aqlm's _dequantize_weight does.
          w[static_cast<size_t>((o * og + r) * k + i * ig + j)] =
              static_cast<float>(sum * scale);
        }
  }
  return true;
}

} // namespace hfq::kernels
