//===- AbiHardeningTest.cpp - Malformed calls of the kernel ABI -----------===//
//
// Every malformed descriptor, tensor-table row and argument the hardening
// issue (#14) found crashing or misbehaving in the CPU reference's entry
// points is a non-zero status with a message naming the kernel and what is
// wrong, and y is left untouched: negative sizes (once std::length_error
// thrown across the C ABI), an M x N that overflows (once a segfault),
// NaN / inf / 1e300 / 4.5 in int args (once an undefined conversion), null
// descriptors, table rows of rank > 4 or unknown dtype codes, and strides
// whose indices overflow. docs/limits.md ("The kernel ABI") lists the checks.
//
//===----------------------------------------------------------------------===//

#include "CheckpointBuilders.h"

#include "kernels/abi/Abi.h"
#include "tools/hfq-spec-compile/ArgTypes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace hfq::kernels;
using namespace hfq::kernels::builders;

#define HFQ_DECLARE_LINEAR(kernel, act, Storage)                               \
  extern "C" int32_t _mlir_ciface_##kernel##_##act(                            \
      StridedMemRefType<Storage, 2> *, StridedMemRefType<Storage, 2> *,        \
      StridedMemRefType<Storage, 1> *, StridedMemRefType<double, 1> *,         \
      StridedMemRefType<int64_t, 2> *);
HFQ_DECLARE_LINEAR(hfq_ref_gptq, f32, float)
HFQ_DECLARE_LINEAR(hfq_ref_gptq, bf16, uint16_t)
HFQ_DECLARE_LINEAR(hfq_ref_aqlm, f32, float)
extern "C" int32_t
_mlir_ciface_hfq_ref_eetq_quantize_f32(StridedMemRefType<float, 2> *,
                                       StridedMemRefType<double, 1> *,
                                       StridedMemRefType<int64_t, 2> *);

namespace {

constexpr int64_t kBig = int64_t(1) << 40;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// A small valid GPTQ call (M=2, N=16, K=64) whose pieces a test breaks
/// one at a time.
struct GptqCall {
  Rng rng{14};
  std::vector<uint8_t> codes;
  std::vector<int> zeros;
  Checkpoint ck = gptqCheckpoint({4, true, false, 16, 64, 32, false}, rng,
                                 codes, zeros);
  AbiOperands abi{ck};
  std::vector<float> x = std::vector<float>(2 * 64, 0.5f),
                     y = std::vector<float>(2 * 16, 7.0f), bias;
  StridedMemRefType<float, 2> xm = memref2d(x.data(), 2, 64),
                              ym = memref2d(y.data(), 2, 16);
  StridedMemRefType<float, 1> bm = memref1d(bias.data(), 0);

  int32_t run() {
    return _mlir_ciface_hfq_ref_gptq_f32(&ym, &xm, &bm, &abi.argsRef,
                                         &abi.tableRef);
  }
  int64_t *row(int64_t r) { return abi.table.data() + r * HFQ_TABLE_COLUMNS; }
};

/// The call fails with a message containing `expected`, and y is untouched.
void expectRefused(GptqCall &call, const std::string &expected) {
  const std::vector<float> before = call.y;
  EXPECT_EQ(call.run(), 1);
  const std::string message = hfq_kernel_last_error();
  EXPECT_EQ(message.rfind("hfq_ref_gptq: ", 0), 0u) << message;
  EXPECT_NE(message.find(expected), std::string::npos) << message;
  EXPECT_EQ(call.y, before);
}

TEST(AbiHardening, TheValidCallRuns) {
  GptqCall call;
  ASSERT_TRUE(call.ck.error.empty()) << call.ck.error;
  EXPECT_EQ(call.run(), 0) << hfq_kernel_last_error();
}

TEST(AbiHardening, NegativeSizesAreAnErrorNotAnException) {
  {
    GptqCall call;
    call.xm.sizes[0] = call.ym.sizes[0] = -1;
    expectRefused(call, "y has a negative size in [-1, 16]");
  }
  {
    GptqCall call;
    call.xm.sizes[1] = -64;
    expectRefused(call, "x has a negative size in [2, -64]");
  }
  {
    GptqCall call;
    call.bm.sizes[0] = -3;
    expectRefused(call, "bias has a negative size");
  }
  {
    GptqCall call;
    call.row(1)[3] = -2;
    expectRefused(call, "packed tensor #1 has a negative size in [-2, 2]");
  }
  {
    GptqCall call;
    call.abi.argsRef.sizes[0] = -1;
    expectRefused(call, "args has a negative size in [-1]");
  }
  {
    GptqCall call;
    call.abi.tableRef.sizes[0] = -4;
    expectRefused(call, "the tensor table has a negative size in [-4, 8]");
  }
  // The bf16 entry points share the runner.
  std::vector<uint16_t> x(2 * 64), y(2 * 16, 0x1234);
  auto xm = memref2d(x.data(), -2, 64), ym = memref2d(y.data(), -2, 16);
  auto bm = memref1d<uint16_t>(nullptr, 0);
  GptqCall call;
  EXPECT_EQ(_mlir_ciface_hfq_ref_gptq_bf16(&ym, &xm, &bm, &call.abi.argsRef,
                                           &call.abi.tableRef),
            1);
  EXPECT_STREQ(hfq_kernel_last_error(),
               "hfq_ref_gptq: y has a negative size in [-2, 16]");
}

TEST(AbiHardening, OverflowingProductsAreRefusedBeforeAllocation) {
  {
    // M x N = 2^80: once a segfault (UBSan: signed overflow, then a write
    // through a short buffer).
    GptqCall call;
    call.xm.sizes[0] = call.ym.sizes[0] = kBig;
    call.xm.sizes[1] = 1;
    call.ym.sizes[1] = kBig;
    expectRefused(call, "y has sizes [1099511627776, 1099511627776] whose "
                        "element count overflows 64 bits");
  }
  {
    // M x K fits int64 but not its byte size.
    GptqCall call;
    call.xm.sizes[0] = call.ym.sizes[0] = int64_t(1) << 31;
    call.xm.sizes[1] = int64_t(1) << 31;
    expectRefused(call, "x has 4611686018427387904 elements, whose byte size "
                        "overflows 64 bits");
  }
  {
    // No rows, so x and y are empty, but N x K floats overflow.
    GptqCall call;
    call.xm.sizes[0] = call.ym.sizes[0] = 0;
    call.xm.sizes[1] = call.ym.sizes[1] = kMaxKernelDim;
    expectRefused(call, "N*K = 2147483647*2147483647 floats overflow 64 bits");
  }
  {
    GptqCall call;
    call.xm.sizes[0] = call.ym.sizes[0] = 1;
    call.ym.sizes[1] = int64_t(1) << 32;
    call.xm.sizes[1] = 1;
    expectRefused(call, "N = 4294967296 is over the kernels' limit of "
                        "2147483647 (kMaxKernelDim in kernels/abi/Abi.h)");
  }
  {
    GptqCall call;
    call.row(0)[2] = 3;
    call.row(0)[3] = call.row(0)[4] = call.row(0)[5] = int64_t(1) << 30;
    expectRefused(call, "packed tensor #0 has sizes [1073741824, 1073741824, "
                        "1073741824] whose element count overflows 64 bits");
  }
  {
    // 2^62 i32 elements: the count fits, the bytes do not.
    GptqCall call;
    call.row(0)[3] = int64_t(1) << 31;
    call.row(0)[4] = int64_t(1) << 31;
    expectRefused(call, "packed tensor #0 has 4611686018427387904 elements, "
                        "whose byte size overflows 64 bits");
  }
}

TEST(AbiHardening, StridesAndOffsetsStayInRange) {
  {
    GptqCall call;
    call.xm.strides[0] = std::numeric_limits<int64_t>::max();
    expectRefused(call, "x has offset 0 and strides [9223372036854775807, 1] "
                        "whose element indices overflow 64 bits");
  }
  {
    GptqCall call;
    call.ym.offset = -1;
    expectRefused(call, "y has offset -1 and strides [16, 1] that reach "
                        "before its data");
  }
  {
    GptqCall call;
    call.xm.strides[1] = -1; // reversed rows with no offset to cover them
    expectRefused(call, "x has offset 0 and strides [64, -1] that reach "
                        "before its data");
  }
  {
    GptqCall call;
    call.abi.tableRef.strides[0] = std::numeric_limits<int64_t>::min();
    expectRefused(call, "the tensor table has offset 0 and strides "
                        "[-9223372036854775808, 1] whose element indices "
                        "overflow 64 bits");
  }
  {
    GptqCall call;
    call.row(3)[0] = -64; // an address whose bytes wrap
    expectRefused(call,
                  "packed tensor #3 reaches past the end of the address space");
  }
}

TEST(AbiHardening, NullDescriptorsAndData) {
  {
    GptqCall call;
    EXPECT_EQ(_mlir_ciface_hfq_ref_gptq_f32(&call.ym, &call.xm, &call.bm,
                                            &call.abi.argsRef, nullptr),
              1);
    EXPECT_STREQ(hfq_kernel_last_error(),
                 "hfq_ref_gptq: the tensor table must have 8 columns, not a "
                 "null memref descriptor");
  }
  {
    GptqCall call;
    call.xm.data = nullptr;
    expectRefused(call, "x has no data");
  }
  {
    GptqCall call;
    call.abi.tableRef.data = nullptr;
    expectRefused(call, "the tensor table has no data");
  }
  {
    GptqCall call;
    call.abi.argsRef.data = nullptr;
    expectRefused(call, "args has no data");
  }
  {
    GptqCall call;
    call.row(2)[0] = 0;
    expectRefused(call, "packed tensor #2 has no data");
  }
  {
    // No args descriptor at all: no arguments, refused by count.
    GptqCall call;
    EXPECT_EQ(_mlir_ciface_hfq_ref_gptq_f32(&call.ym, &call.xm, &call.bm,
                                            nullptr, &call.abi.tableRef),
              1);
    EXPECT_NE(std::string(hfq_kernel_last_error()).find("expected 3 arguments"),
              std::string::npos)
        << hfq_kernel_last_error();
  }
}

TEST(AbiHardening, TableRows) {
  {
    GptqCall call;
    call.row(0)[2] = 5;
    expectRefused(call, "packed tensor #0 has rank 5 (at most 4)");
  }
  {
    GptqCall call;
    call.row(0)[2] = -1;
    expectRefused(call, "packed tensor #0 has rank -1 (at most 4)");
  }
  for (int64_t code : {int64_t(0), int64_t(11), int64_t(-7), kBig}) {
    GptqCall call;
    call.row(1)[1] = code;
    expectRefused(call, "packed tensor #1 has unknown element type code " +
                            std::to_string(code));
  }
  {
    GptqCall call;
    call.abi.tableRef.sizes[1] = 7;
    expectRefused(call, "the tensor table must have 8 columns, got 7");
  }
  {
    GptqCall call;
    call.abi.tableRef.sizes[0] = kMaxTableRows + 1;
    expectRefused(call, "the tensor table has 65 rows (limit: 64, "
                        "kMaxTableRows in kernels/abi/Abi.h)");
  }
  {
    GptqCall call;
    call.abi.argsRef.sizes[0] = kMaxKernelArgs + 1;
    expectRefused(call, "args has 65 values (limit: 64, kMaxKernelArgs in "
                        "kernels/abi/Abi.h)");
  }
}

TEST(AbiHardening, IntArgsRefuseNonIntegers) {
  // Once converted to int with undefined behaviour (GptqEntry.cpp,
  // AqlmEntry.cpp), and bits = 4.5 accepted.
  const double bad[] = {NAN, kInf, -kInf, 1e300, -1e300, 4.5, 3.0e9};
  for (double v : bad) {
    SCOPED_TRACE(v);
    GptqCall call;
    call.abi.args[0] = v;
    expectRefused(call, "bits must be an integer in [-2147483648, "
                        "2147483647], got ");
  }
  // AQLM: the args are decoded before any tensor is read, so an empty table
  // reaches them.
  for (double v : bad) {
    SCOPED_TRACE(v);
    std::vector<double> args = {8, 1, 1, v};
    std::vector<int64_t> table(HFQ_TABLE_COLUMNS, 0);
    std::vector<float> x(2 * 8, 1.0f), y(2 * 8, 7.0f);
    auto xm = memref2d(x.data(), 2, 8), ym = memref2d(y.data(), 2, 8);
    auto bm = memref1d<float>(nullptr, 0);
    auto am = memref1d(args.data(), 4);
    auto tm = memref2d(table.data(), 0, int64_t(HFQ_TABLE_COLUMNS));
    EXPECT_EQ(_mlir_ciface_hfq_ref_aqlm_f32(&ym, &xm, &bm, &am, &tm), 1);
    EXPECT_NE(std::string(hfq_kernel_last_error())
                  .find("hfq_ref_aqlm: nbits_per_codebook must be an integer"),
              std::string::npos)
        << hfq_kernel_last_error();
    EXPECT_EQ(y, std::vector<float>(2 * 8, 7.0f));
  }
  // In range and integral but not a GPTQ width: the reference says so.
  GptqCall call;
  call.abi.args[0] = 5;
  expectRefused(call, "GPTQ bits must be 2, 3, 4 or 8, got 5");
}

TEST(AbiHardening, QuantizeDescriptors) {
  std::vector<int64_t> table(HFQ_TABLE_COLUMNS, 0);
  auto tm = memref2d(table.data(), 0, int64_t(HFQ_TABLE_COLUMNS));
  std::vector<float> w(4, 1.0f);
  auto run = [&](StridedMemRefType<float, 2> wm) {
    EXPECT_EQ(_mlir_ciface_hfq_ref_eetq_quantize_f32(&wm, nullptr, &tm), 1);
    return std::string(hfq_kernel_last_error());
  };
  EXPECT_EQ(run(memref2d(w.data(), -1, 4)),
            "hfq_ref_eetq: w has a negative size in [-1, 4]");
  EXPECT_EQ(run(memref2d(w.data(), kBig, kBig)),
            "hfq_ref_eetq: w has sizes [1099511627776, 1099511627776] whose "
            "element count overflows 64 bits");
  EXPECT_EQ(run(memref2d<float>(nullptr, 2, 2)), "hfq_ref_eetq: w has no data");
  EXPECT_EQ(_mlir_ciface_hfq_ref_eetq_quantize_f32(nullptr, nullptr, &tm), 1);
  EXPECT_STREQ(hfq_kernel_last_error(), "hfq_ref_eetq: null memref descriptor");
}

TEST(AbiHardening, TheDecoderGeneratorTypesAListElement) {
  // Indexing a list the expression built (its element owned by nothing
  // else) assigned the element over the list that owned it: a heap
  // use-after-free in hfq-spec-compile (ArgTypes.cpp) that the sanitizer
  // build hit while generating kernels/generated/MethodArgs.h.
  using hfq::speccompile::ArgType;
  ArgType type;
  std::string error;
  ASSERT_TRUE(hfq::speccompile::inferArgType("-[64, 128][0]", {}, type, error))
      << error;
  EXPECT_EQ(type.kind, ArgType::Kind::Int);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HFQ_UNDER_ASAN 1
#endif
#endif

TEST(AbiHardening, AnUnallocatableScratchBufferIsAnError) {
#ifdef HFQ_UNDER_ASAN
  GTEST_SKIP() << "ASan reports an allocation this large instead of failing "
                  "it";
#else
  // y [2^22, 2^24] floats: 256 TiB, more than the address space, so the
  // allocation fails whatever the overcommit policy; x [2^22, 1] is real.
  GptqCall call;
  const int64_t m = int64_t(1) << 22, n = int64_t(1) << 24;
  std::vector<float> x(static_cast<size_t>(m), 1.0f);
  call.xm = memref2d(x.data(), m, 1);
  call.ym.sizes[0] = m;
  call.ym.sizes[1] = n;
  call.ym.strides[0] = n;
  expectRefused(call, "out of memory for the scratch buffers of M=4194304, "
                      "N=16777216, K=1");
#endif
}

} // namespace
