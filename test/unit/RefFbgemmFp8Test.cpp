//===- RefFbgemmFp8Test.cpp - FBGEMM FP8 reference ------------------------===//
//
// Expected values are worked out by hand from the format (FbgemmFp8.h): e4m3
// codes (0x38 = 1, 0x7e = 448, 0xb8 = -1, 0x40 = 2, 0x3c = 1.5) times one
// scale per output row; then the error cases.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/FbgemmFp8.h"

#include "RefTestSupport.h"

#include <gtest/gtest.h>

using namespace hfq::kernels;
using namespace hfq::kernels::testing;

TEST(RefFbgemmFp8, DequantizePerRowByHand) {
  std::vector<uint8_t> q = {0x38, 0x7e, 0xb8,  // 1, 448, -1
                            0x40, 0x00, 0x3c}; // 2, 0, 1.5
  std::vector<float> s = {0.5f, 4};
  std::vector<float> w;
  std::string error;
  ASSERT_TRUE(dequantizeFbgemmFp8(viewOf(q, DType::F8E4M3FN, {2, 3}),
                                  viewOf(s, DType::F32, {2, 1}), 2, 3, w,
                                  error))
      << error;
  EXPECT_EQ(w, (std::vector<float>{0.5f, 224, -0.5f, 8, 0, 6}));
  // A [N] scale reads the same.
  ASSERT_TRUE(dequantizeFbgemmFp8(viewOf(q, DType::F8E4M3FN, {2, 3}),
                                  viewOf(s, DType::F32, {2}), 2, 3, w, error))
      << error;
  EXPECT_EQ(w[4], 0.0f);
  EXPECT_EQ(w[5], 6.0f);
}

TEST(RefFbgemmFp8, Errors) {
  std::vector<uint8_t> q = {0x38, 0x7f};
  std::vector<float> s = {1};
  std::vector<float> w;
  std::string error;
  EXPECT_FALSE(dequantizeFbgemmFp8(viewOf(q, DType::F8E4M3FN, {1, 2}),
                                   viewOf(s, DType::F32, {1, 1}), 1, 2, w,
                                   error));
  EXPECT_NE(error.find("NaN at [0, 1]"), std::string::npos) << error;
  q[1] = 0x38;
  EXPECT_FALSE(dequantizeFbgemmFp8(viewOf(q, DType::F8E4M3FN, {1, 2}),
                                   viewOf(s, DType::F32, {2, 1}), 1, 2, w,
                                   error));
  EXPECT_FALSE(dequantizeFbgemmFp8(viewOf(q, DType::I8, {1, 2}),
                                   viewOf(s, DType::F32, {1, 1}), 1, 2, w,
                                   error));
}
