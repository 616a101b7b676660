//===- RefEetqTest.cpp - EETQ int8 reference ------------------------------===//
//
// The closed-form byte map is checked against a step-by-step transcription
// of FasterTransformer's four preprocessing passes (row permutation,
// transpose, column interleave, bias + byte swap, §2.7), and against byte
// offsets worked out by hand.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Eetq.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

namespace {

/// FasterTransformer's preprocess_weights_for_mixed_gemm for int8 on sm80,
/// one pass at a time over byte buffers (rows = K, cols = N).
std::vector<uint8_t> fasterTransformerPasses(const std::vector<int8_t> &q,
                                             int64_t rows, int64_t cols) {
  // 1. permute_B_rows_for_mixed_gemm: B_ROWS_PER_MMA = 16, ELTS_PER_REG = 4.
  std::vector<uint8_t> a(q.size());
  for (int64_t base = 0; base < rows; base += 16)
    for (int64_t tileRow = 0; tileRow < 16; ++tileRow) {
      const int64_t tileReadRow =
          8 * ((tileRow % 4) / 2) + tileRow % 2 + 2 * (tileRow / 4);
      for (int64_t c = 0; c < cols; ++c)
        a[(base + tileRow) * cols + c] =
            static_cast<uint8_t>(q[(base + tileReadRow) * cols + c]);
    }
  // 2. subbyte_transpose (int8): [rows, cols] -> [cols, rows].
  std::vector<uint8_t> b(q.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      b[c * rows + r] = a[r * cols + c];
  // 3. interleave_column_major_tensor in 32-bit words: rows_per_tile = 64,
  // columns_interleaved = 2.
  const int64_t numVecRows = rows / 4, vecRowsPerTile = 64 / 4, interleave = 2;
  std::vector<uint8_t> d(q.size());
  for (int64_t readCol = 0; readCol < cols; ++readCol) {
    const int64_t writeCol = readCol / interleave;
    for (int64_t baseVecRow = 0; baseVecRow < numVecRows;
         baseVecRow += vecRowsPerTile)
      for (int64_t vecReadRow = baseVecRow;
           vecReadRow < std::min(numVecRows, baseVecRow + vecRowsPerTile);
           ++vecReadRow) {
        const int64_t vecWriteRow = interleave * baseVecRow +
                                    vecRowsPerTile * (readCol % interleave) +
                                    vecReadRow % vecRowsPerTile;
        const int64_t readOffset = readCol * numVecRows + vecReadRow;
        const int64_t writeOffset =
            writeCol * numVecRows * interleave + vecWriteRow;
        for (int byte = 0; byte < 4; ++byte)
          d[writeOffset * 4 + byte] = b[readOffset * 4 + byte];
      }
  }
  // 4. add_bias_and_interleave_int8s_inplace.
  for (uint8_t &v : d)
    v = static_cast<uint8_t>(v + 128);
  for (size_t base = 0; base < d.size(); base += 4)
    std::swap(d[base + 1], d[base + 2]);
  return d;
}

std::vector<int8_t> randomInt8(size_t count, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> v(count);
  for (int8_t &x : v)
    x = static_cast<int8_t>(dist(gen));
  return v;
}

TEST(RefEetq, RowPermutationIsFasterTransformers) {
  for (int t = 0; t < 16; ++t)
    EXPECT_EQ(kEetqRowPermutation[t], 8 * ((t % 4) / 2) + t % 2 + 2 * (t / 4))
        << t;
  const int expected[16] = {0, 1, 8,  9,  2, 3, 10, 11,
                            4, 5, 12, 13, 6, 7, 14, 15};
  for (int t = 0; t < 16; ++t)
    EXPECT_EQ(kEetqRowPermutation[t], expected[t]);
}

TEST(RefEetq, MatchesFasterTransformerPasses) {
  for (auto [k, n] : {std::pair<int64_t, int64_t>{64, 64},
                      {128, 64},
                      {192, 128},
                      {64, 256}}) {
    const auto q = randomInt8(static_cast<size_t>(k * n), 3);
    std::vector<int8_t> ours;
    std::string error;
    ASSERT_TRUE(preprocessEetqWeight(q.data(), k, n, ours, error)) << error;
    const auto theirs = fasterTransformerPasses(q, k, n);
    ASSERT_EQ(ours.size(), theirs.size());
    for (size_t i = 0; i < ours.size(); ++i)
      ASSERT_EQ(static_cast<uint8_t>(ours[i]), theirs[i])
          << "K " << k << " N " << n << " byte " << i;
  }
}

TEST(RefEetq, OffsetsByHand) {
  // K = 128. (k=2, n=0): permuted row 4 -> byte 4 (position 0 of word 1).
  EXPECT_EQ(eetqStoredOffset(2, 0, 128), 4);
  // (k=8, n=1): permuted row 2, odd column -> 64 + 2 = 66, position 2 of its
  // word -> swapped to 65.
  EXPECT_EQ(eetqStoredOffset(8, 1, 128), 65);
  // (k=70, n=3): row 64 + inverse(6) = 76; pair 1 at 2K = 256, tile 1 at
  // +128, odd column +64, 76 % 64 = 12 -> 460.
  EXPECT_EQ(eetqStoredOffset(70, 3, 128), 460);
  // (k=1, n=0): row 1 -> byte 1 -> swapped to 2.
  EXPECT_EQ(eetqStoredOffset(1, 0, 128), 2);
}

TEST(RefEetq, DequantByHand) {
  const int64_t k = 128, n = 64;
  std::vector<int8_t> stored(static_cast<size_t>(k * n),
                             static_cast<int8_t>(-128)); // q = 0 everywhere
  stored[4] = static_cast<int8_t>(133);                  // q[2, 0] = 5
  stored[65] = static_cast<int8_t>(127);                 // q[8, 1] = -1
  stored[460] = static_cast<int8_t>(228);                // q[70, 3] = 100
  std::vector<uint16_t> scales(static_cast<size_t>(n), floatToHalf(1.0f));
  scales[0] = floatToHalf(0.5f);
  scales[1] = floatToHalf(2.0f);
  scales[3] = floatToHalf(0.25f);
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeEetq(viewOf(stored, DType::I8, {k, n}),
                             viewOf(scales, DType::F16, {n}), n, k, w, error))
      << error;
  // W[n, k] = q[k, n] * s[n].
  EXPECT_EQ(w[0 * k + 2], 2.5f);
  EXPECT_EQ(w[1 * k + 8], -2.0f);
  EXPECT_EQ(w[3 * k + 70], 25.0f);
  int nonzero = 0;
  for (float v : w)
    nonzero += v != 0.0f;
  EXPECT_EQ(nonzero, 3);
}

TEST(RefEetq, QuantizeByHand) {
  const int64_t n = 64, k = 64;
  std::vector<float> w(static_cast<size_t>(n * k), 0.0f);
  w[0] = 1.0f;           // the absmax of row 0: scale 1/128, q -> 128 -> 127
  w[1] = -1.0f;          // -128
  w[2] = 0.5f;           // 64
  w[3] = 1.0f / 256.0f;  // 0.5 -> rounds away from zero -> 1
  w[4] = -1.0f / 256.0f; // -1
  // Row 1 stays zero: scale 0 and 0 / 0 clipped to 127 as EETQ does.
  w[2 * k] = 0.25f; // row 2: q[0] = 127, others 0
  StoredTensor weight, scales;
  std::string error;
  ASSERT_TRUE(quantizeEetq(w.data(), n, k, weight, scales, error)) << error;
  ASSERT_EQ(weight.shape, (std::vector<int64_t>{k, n}));
  EXPECT_EQ(scales.view().at(0), 1.0f / 128.0f);
  EXPECT_EQ(scales.view().at(1), 0.0f);
  EXPECT_EQ(scales.view().at(2), 0.25f / 128.0f);
  std::vector<int8_t> q;
  ASSERT_TRUE(unpreprocessEetqWeight(weight.view(), k, n, q, error)) << error;
  // q is Wᵀ [K, N]: q[k * N + n].
  EXPECT_EQ(q[0 * n + 0], 127);
  EXPECT_EQ(q[1 * n + 0], -128);
  EXPECT_EQ(q[2 * n + 0], 64);
  EXPECT_EQ(q[3 * n + 0], 1);
  EXPECT_EQ(q[4 * n + 0], -1);
  EXPECT_EQ(q[5 * n + 0], 0);
  EXPECT_EQ(q[0 * n + 1], 127);
  EXPECT_EQ(q[9 * n + 1], 127);
  EXPECT_EQ(q[0 * n + 2], 127);
  EXPECT_EQ(q[1 * n + 2], 0);
  std::vector<float> back;
  ASSERT_TRUE(dequantizeEetq(weight.view(), scales.view(), n, k, back, error))
      << error;
  EXPECT_EQ(back[0], 127.0f / 128.0f);
  EXPECT_EQ(back[1], -1.0f);
  EXPECT_EQ(back[k + 5], 0.0f); // the zero row comes back zero
}

TEST(RefEetq, PreprocessInverts) {
  const int64_t k = 192, n = 128;
  const auto q = randomInt8(static_cast<size_t>(k * n), 9);
  std::vector<int8_t> stored, back;
  std::string error;
  ASSERT_TRUE(preprocessEetqWeight(q.data(), k, n, stored, error)) << error;
  ASSERT_TRUE(unpreprocessEetqWeight(viewOf(stored, DType::I8, {k, n}), k, n,
                                     back, error))
      << error;
  EXPECT_EQ(back, q);
}

TEST(RefEetq, RoundTrip) {
  const int64_t n = 128, k = 256;
  auto w = randomNormal(static_cast<size_t>(n * k), 21, 0.05f);
  StoredTensor weight, scales;
  std::string error;
  ASSERT_TRUE(quantizeEetq(w.data(), n, k, weight, scales, error)) << error;
  std::vector<float> back;
  ASSERT_TRUE(dequantizeEetq(weight.view(), scales.view(), n, k, back, error))
      << error;
  for (int64_t r = 0; r < n; ++r) {
    const float s = scales.view().at(r);
    for (int64_t c = 0; c < k; ++c) {
      const float w16 = halfToFloat(floatToHalf(w[r * k + c]));
      // Half a step, except +absmax which is clipped from 128 to 127 (one
      // step), plus the fp16 rounding of the scale over 128 steps.
      ASSERT_LE(std::fabs(back[r * k + c] - w16), s * (1.0f + 128.0f / 1024.0f))
          << r << ", " << c;
    }
  }
}

TEST(RefEetq, Errors) {
  std::vector<int8_t> q(64 * 64, 0);
  std::vector<uint16_t> scales(64, 0);
  std::vector<float> scalesF32(64, 0.0f);
  std::vector<float> w;
  std::vector<int8_t> out;
  std::string error;
  EXPECT_FALSE(preprocessEetqWeight(q.data(), 32, 128, out, error));
  EXPECT_NE(error.find("K (32) must be a multiple of 64"), std::string::npos)
      << error;
  EXPECT_FALSE(preprocessEetqWeight(q.data(), 128, 32, out, error));
  EXPECT_NE(error.find("N (32) must be a multiple of 64"), std::string::npos)
      << error;
  EXPECT_FALSE(preprocessEetqWeight(nullptr, 64, 64, out, error));
  EXPECT_FALSE(dequantizeEetq(viewOf(q, DType::U8, {64, 64}),
                              viewOf(scales, DType::F16, {64}), 64, 64, w,
                              error));
  EXPECT_NE(error.find("weight must be i8[64, 64]"), std::string::npos)
      << error;
  EXPECT_FALSE(dequantizeEetq(viewOf(q, DType::I8, {64, 64}),
                              viewOf(scalesF32, DType::F32, {64}), 64, 64, w,
                              error));
  EXPECT_NE(error.find("weight_scales must be f16[64]"), std::string::npos)
      << error;
  StoredTensor weight, s;
  std::vector<float> dense(64 * 64, 1.0f);
  EXPECT_FALSE(quantizeEetq(dense.data(), 64, 48, weight, s, error));
  EXPECT_FALSE(quantizeEetq(nullptr, 64, 64, weight, s, error));
}

} // namespace
