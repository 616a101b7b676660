//===- EntryGpuTest.cpp - The CUDA kernels through the kernel ABI ---------===//
//
// What lowered IR calls on the GPU: the entry points
// _mlir_ciface_hfq_<m>_w<b>a16_<gemv|gemm>_<f16|bf16> and
// _mlir_ciface_hfq_gptq_generic_<f16|bf16> (kernels/cuda/Entry.cpp), fed one
// random checkpoint per method variant in the exact
// layout of its spec (test/unit/CheckpointBuilders.h, shared with the repack
// unit test), against the method's CPU reference entry point
// _mlir_ciface_hfq_ref_<m>_f32 on the same activations (rounded to 16 bits,
// then widened back). M in {1, 3, 16, 100}, N and K not multiples of the
// kernels' 64 / 128 tiles wherever the format allows; a bias on odd M. y is
// poisoned (all bits set: NaN in f16 and bf16) before every call.
//
// Pass criteria per call: status 0; every element finite; relative
// Frobenius error ‖y − ref‖ / ‖ref‖ ≤ 1e-2 (bf16) / 2e-3 (f16); no element
// off by more than 10% of max |ref|. Also checked: the error paths (a
// wrong-shape table row, an f32 call, a bias of the wrong size, a 4-bit
// weight sent to a w8a16 kernel: non-zero status, a message naming the
// kernel and the tensor, y untouched), the weight cache (a second call
// reuses the weight; gemv and gemm share it), strided descriptors. The
// error paths run first and need no GPU; without one the test then checks
// the "no CUDA device" message and exits 77 (CTest's skip code) printing
// "SKIPPED: <reason>". Exit status 1 on any failure. One line per check,
// then a summary. `--seed N` repeats a run (the seed is printed).
//
// Building it with nvcc alone (no MLIR/LLVM on the GPU machine: only the
// header mlir/ExecutionEngine/CRunnerUtils.h, copied to $INC/mlir/
// ExecutionEngine/, and the generated kernels/generated/MethodArgs.h under
// $GEN, which hfq-spec-compile writes from specs/*.json; it builds with the
// host compiler and nlohmann-json), from the repository root, as
// bench/device.sh does:
//
//   g++ -std=c++17 -O1 -I. spec/*.cpp spec/expr/*.cpp \
//     tools/hfq-spec-compile/*.cpp -o hfq-spec-compile
//   ./hfq-spec-compile --root . --kernel-contract \
//     $GEN/kernels/generated/MethodArgs.h specs/*.json
//   nvcc -std=c++17 -O2 -I. -I$INC -I$GEN -gencode=arch=compute_90a,code=sm_90a
//   \
//     test/gpu/EntryGpuTest.cpp kernels/cuda/Entry.cpp kernels/cuda/*.cu \
//     kernels/repack/*.cpp kernels/abi/*.cpp kernels/ref/*.cpp \
//     -lcublas -o hfq-entry-gpu-test
//
// (nvcc compiles the .cpp files with the host compiler, g++ or clang++. One
// executable holds what CMake builds as libhfq_kernel_abi.so,
// libhfq_kernels_ref.so and libhfq_kernels_cuda.so.)
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"
#include "kernels/cuda/Entry.h"
#include "kernels/cuda/WeightOnly.h"
#include "kernels/generated/MethodArgs.h"
#include "kernels/include/hfq_kernels.h"
#include "test/gpu/EntryChecks.h"
#include "test/unit/CheckpointBuilders.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace hfq::kernels;
using namespace hfq::kernels::builders;
using namespace hfq::kernels::entrychecks;

namespace {

/// A method variant: its checkpoint builder, shape, and entry points.
struct Variant {
  std::string name;
  int64_t n, k;
  RefEntry ref;
  CudaKernel gemv, gemm;
  std::function<Checkpoint(Rng &)> build;
};

std::vector<Variant> variants() {
  auto gptq = [](int bits, bool v1, int64_t n, int64_t k, int64_t g,
                 bool actOrder) {
    return [=](Rng &rng) {
      std::vector<uint8_t> c;
      std::vector<int> z;
      return gptqCheckpoint({bits, v1, false, n, k, g, actOrder}, rng, c, z);
    };
  };
  auto ct = [](CtCase c) {
    return [=](Rng &rng) {
      std::vector<uint8_t> codes;
      return ctCheckpoint(c, rng, codes);
    };
  };
  const CudaKernel gptq4v = CUDA_KERNEL(hfq_gptq_w4a16_gemv),
                   gptq4m = CUDA_KERNEL(hfq_gptq_w4a16_gemm);
  return {
      {"gptq 4-bit g128 zero points", 200, 384, _mlir_ciface_hfq_ref_gptq_f32,
       gptq4v, gptq4m, gptq(4, true, 200, 384, 128, false)},
      {"gptq 4-bit g128 act-order g_idx", 136, 384,
       _mlir_ciface_hfq_ref_gptq_f32, gptq4v, gptq4m,
       gptq(4, false, 136, 384, 128, true)},
      {"gptq 8-bit g64", 100, 320, _mlir_ciface_hfq_ref_gptq_f32,
       CUDA_KERNEL(hfq_gptq_w8a16_gemv), CUDA_KERNEL(hfq_gptq_w8a16_gemm),
       gptq(8, true, 100, 320, 64, false)},
      // 2/3-bit through the generic kernel (widened to the 8-bit layout);
      // 3-bit fields straddle words, so N and K are multiples of 32.
      {"gptq 3-bit g128 act-order (generic)", 96, 384, _mlir_ciface_hfq_ref_gptq_f32,
       CUDA_KERNEL(hfq_gptq_generic), CUDA_KERNEL(hfq_gptq_generic),
       gptq(3, false, 96, 384, 128, true)},
      {"gptq 2-bit g64 (generic)", 80, 256, _mlir_ciface_hfq_ref_gptq_f32,
       CUDA_KERNEL(hfq_gptq_generic), CUDA_KERNEL(hfq_gptq_generic),
       gptq(2, true, 80, 256, 64, false)},
      {"awq gemm 4-bit g64", 200, 448, _mlir_ciface_hfq_ref_awq_f32,
       CUDA_KERNEL(hfq_awq_w4a16_gemv), CUDA_KERNEL(hfq_awq_w4a16_gemm),
       [](Rng &rng) {
         std::vector<uint8_t> codes;
         return awqCheckpoint(200, 448, 64, rng, codes);
       }},
      {"compressed-tensors pack-quantized int4 group32 sym", 100, 224,
       _mlir_ciface_hfq_ref_compressed_tensors_f32,
       CUDA_KERNEL(hfq_ct_w4a16_gemv), CUDA_KERNEL(hfq_ct_w4a16_gemm),
       ct({CtPacked, 4, CtGroup, false, 100, 224, 32, false})},
      {"compressed-tensors pack-quantized int4 group64 asym", 150, 320,
       _mlir_ciface_hfq_ref_compressed_tensors_f32,
       CUDA_KERNEL(hfq_ct_w4a16_gemv), CUDA_KERNEL(hfq_ct_w4a16_gemm),
       ct({CtPacked, 4, CtGroup, true, 150, 320, 64, false})},
      {"compressed-tensors pack-quantized int8 channel", 97, 264,
       _mlir_ciface_hfq_ref_compressed_tensors_f32,
       CUDA_KERNEL(hfq_ct_w8a16_gemv), CUDA_KERNEL(hfq_ct_w8a16_gemm),
       ct({CtPacked, 8, CtChannel, false, 97, 264, 0, false})},
      {"hqq 4-bit g64 axis 1", 98, 320, _mlir_ciface_hfq_ref_hqq_f32,
       CUDA_KERNEL(hfq_hqq_w4a16_gemv), CUDA_KERNEL(hfq_hqq_w4a16_gemm),
       [](Rng &rng) {
         std::vector<uint8_t> codes;
         return hqqCheckpoint(4, 98, 320, 64, false, rng, codes);
       }},
      {"torchao int4 tinygemm g64", 100, 320, _mlir_ciface_hfq_ref_torchao_f32,
       CUDA_KERNEL(hfq_torchao_w4a16_gemv), CUDA_KERNEL(hfq_torchao_w4a16_gemm),
       [](Rng &rng) {
         std::vector<uint8_t> codes;
         return torchaoInt4TilePacked(100, 320, 64, rng, codes);
       }},
      {"torchao int8 weight-only per row", 97, 200,
       _mlir_ciface_hfq_ref_torchao_f32, CUDA_KERNEL(hfq_torchao_w8a16_gemv),
       CUDA_KERNEL(hfq_torchao_w8a16_gemm),
       [](Rng &rng) {
         std::vector<uint8_t> codes;
         return torchaoInt8(97, 200, false, rng, codes);
       }},
      {"quanto int8", 97, 200, _mlir_ciface_hfq_ref_quanto_f32,
       CUDA_KERNEL(hfq_quanto_w8a16_gemv), CUDA_KERNEL(hfq_quanto_w8a16_gemm),
       [](Rng &rng) {
         std::vector<uint8_t> codes;
         return quantoInt8(97, 200, rng, codes);
       }},
      {"quanto int4 (group 64, float shift)", 100, 320,
       _mlir_ciface_hfq_ref_quanto_f32, CUDA_KERNEL(hfq_quanto_w4a16_gemv),
       CUDA_KERNEL(hfq_quanto_w4a16_gemm),
       [](Rng &rng) {
         std::vector<uint8_t> codes;
         return quantoInt4(100, 320, DType::F16, rng, codes);
       }},
      {"eetq int8", 192, 320, _mlir_ciface_hfq_ref_eetq_f32,
       CUDA_KERNEL(hfq_eetq_w8a16_gemv), CUDA_KERNEL(hfq_eetq_w8a16_gemm),
       [](Rng &rng) {
         std::vector<uint8_t> codes;
         return eetqCheckpoint(192, 320, rng, codes);
       }},
      // bitsandbytes 8-bit: the W8A16 kernels keep every activation column
      // in 16 bits, which is LLM.int8() with every column an outlier: the
      // reference runs with a threshold (1e-6) that makes it so.
      {"bnb int8 (all columns 16-bit)", 136, 200, _mlir_ciface_hfq_ref_bnb8_f32,
       CUDA_KERNEL(hfq_bnb8_w8a16_gemv), CUDA_KERNEL(hfq_bnb8_w8a16_gemm),
       [](Rng &rng) {
         std::vector<uint8_t> codes;
         return bnb8Checkpoint(136, 200, 1e-6, rng, codes);
       }},
  };
}

//===----------------------------------------------------------------------===//
// The checks
//===----------------------------------------------------------------------===//

/// The refusals: no GPU needed (they happen before the weight is uploaded).
void checkErrorPaths(Rng &rng) {
  const int64_t n = 64, k = 256, m = 2;
  std::vector<uint8_t> codes;
  std::vector<int> zeros;
  Checkpoint ck =
      gptqCheckpoint({4, true, false, n, k, 128, false}, rng, codes, zeros);
  Activations a = randomActivations(BF16, m, n, k, false, rng);

  // An f32 call.
  {
    std::vector<float> x(a.xf), y(static_cast<size_t>(m * n), 7.0f);
    float none = 0.0f;
    AbiOperands abi(ck);
    StridedMemRefType<float, 2> ym = memref2d(y.data(), m, n);
    StridedMemRefType<float, 2> xm = memref2d(x.data(), m, k);
    StridedMemRefType<float, 1> bm = memref1d(&none, 0);
    const int32_t status = _mlir_ciface_hfq_gptq_w4a16_gemv_f32(
        &ym, &xm, &bm, &abi.argsRef, &abi.tableRef);
    const std::string message = hfq_kernel_last_error();
    report(
        status != 0 && contains(message, "hfq_gptq_w4a16_gemv") &&
            contains(message, "f16 or bf16") &&
            std::all_of(y.begin(), y.end(), [](float v) { return v == 7.0f; }),
        "error path: an f32 call is refused", message);
  }

  // A wrong-shape table row: qzeros [G, N/8 + 1].
  {
    AbiOperands abi(ck);
    abi.table[1 * HFQ_TABLE_COLUMNS + 4] += 1;
    std::vector<Half> y(static_cast<size_t>(m * n), kPoison), x(a.x);
    Half none = 0;
    StridedMemRefType<Half, 2> ym = memref2d(y.data(), m, n);
    StridedMemRefType<Half, 2> xm = memref2d(x.data(), m, k);
    StridedMemRefType<Half, 1> bm = memref1d(&none, 0);
    const int32_t status = _mlir_ciface_hfq_gptq_w4a16_gemv_bf16(
        &ym, &xm, &bm, &abi.argsRef, &abi.tableRef);
    const std::string message = hfq_kernel_last_error();
    report(status != 0 && contains(message, "hfq_gptq_w4a16_gemv") &&
               contains(message, "qzeros") && allPoison(y),
           "error path: a wrong-shape table row names the tensor", message);
  }

  // An unknown element type code.
  {
    AbiOperands abi(ck);
    abi.table[2 * HFQ_TABLE_COLUMNS + 1] = 42;
    std::vector<Half> y(static_cast<size_t>(m * n), kPoison), x(a.x);
    Half none = 0;
    StridedMemRefType<Half, 2> ym = memref2d(y.data(), m, n);
    StridedMemRefType<Half, 2> xm = memref2d(x.data(), m, k);
    StridedMemRefType<Half, 1> bm = memref1d(&none, 0);
    const int32_t status = _mlir_ciface_hfq_gptq_w4a16_gemm_f16(
        &ym, &xm, &bm, &abi.argsRef, &abi.tableRef);
    const std::string message = hfq_kernel_last_error();
    report(status != 0 && contains(message, "hfq_gptq_w4a16_gemm") &&
               contains(message, "packed tensor #2") && allPoison(y),
           "error path: an unknown dtype code names the table row", message);
  }

  // A bias of the wrong size.
  {
    std::vector<Half> y, bias(static_cast<size_t>(n - 1), 0);
    AbiOperands abi(ck);
    std::vector<Half> x(a.x);
    y.assign(static_cast<size_t>(m * n), kPoison);
    StridedMemRefType<Half, 2> ym = memref2d(y.data(), m, n);
    StridedMemRefType<Half, 2> xm = memref2d(x.data(), m, k);
    StridedMemRefType<Half, 1> bm = memref1d(bias.data(), n - 1);
    const int32_t status = _mlir_ciface_hfq_gptq_w4a16_gemv_bf16(
        &ym, &xm, &bm, &abi.argsRef, &abi.tableRef);
    const std::string message = hfq_kernel_last_error();
    report(status != 0 && contains(message, "bias has 63 elements") &&
               allPoison(y),
           "error path: a bias of the wrong size", message);
  }

  // A 4-bit weight sent to a w8a16 kernel.
  {
    std::vector<Half> y;
    const int32_t status = callCuda(_mlir_ciface_hfq_gptq_w8a16_gemv_bf16, ck,
                                    m, n, k, a.x, {}, y);
    const std::string message = hfq_kernel_last_error();
    report(status != 0 && contains(message, "hfq_gptq_w8a16_gemv") &&
               contains(message, "4-bit") && allPoison(y),
           "error path: a 4-bit weight on an 8-bit kernel", message);
  }

  // A 4-bit weight sent to the generic kernel (it takes 2/3-bit codes).
  {
    std::vector<Half> y;
    const int32_t status = callCuda(_mlir_ciface_hfq_gptq_generic_bf16, ck, m, n, k, a.x, {}, y);
    const std::string message = hfq_kernel_last_error();
    report(status != 0 && contains(message, "hfq_gptq_generic") &&
               contains(message, "2 or 3 bits") && allPoison(y),
           "error path: a 4-bit weight on the generic kernel", message);
  }
}

/// Without a GPU: the message names the kernel and says why.
void checkNoDevice(Rng &rng) {
  const int64_t n = 64, k = 128;
  std::vector<uint8_t> codes;
  Checkpoint ck = eetqCheckpoint(n, k, rng, codes);
  Activations a = randomActivations(F16, 1, n, k, false, rng);
  std::vector<Half> y;
  const int32_t status =
      callCuda(_mlir_ciface_hfq_eetq_w8a16_gemv_f16, ck, 1, n, k, a.x, {}, y);
  const std::string message = hfq_kernel_last_error();
  report(status != 0 && contains(message, "hfq_eetq_w8a16_gemv") &&
             contains(message, "CUDA device") && allPoison(y),
         "error path: no CUDA device", message);
}

void checkVariant(const Variant &v, Rng &rng) {
  Checkpoint ck = v.build(rng);
  if (!ck.error.empty()) {
    report(false, v.name + ": building the checkpoint", ck.error);
    return;
  }
  const int64_t before = hfq_cuda_cached_weights();
  for (Act act : {BF16, F16})
    for (int64_t m : {1, 3, 16, 100}) {
      const bool withBias = m % 2 == 1 || m == 100;
      Activations a = randomActivations(act, m, v.n, v.k, withBias, rng);
      std::vector<float> ref;
      std::string error;
      const std::string where = v.name + " " + actName(act) +
                                " M=" + std::to_string(m) +
                                (withBias ? " +bias" : "");
      if (!referenceY(v.ref, ck, m, v.n, v.k, a.xf, a.biasf, ref, error)) {
        report(false, where + ": CPU reference", error);
        continue;
      }
      for (const CudaKernel *kernel : {&v.gemv, &v.gemm}) {
        std::vector<Half> y;
        const std::string what = where + " " + kernel->name;
        if (callCuda(kernel->half[act], ck, m, v.n, v.k, a.x, a.bias, y) != 0) {
          report(false, what, hfq_kernel_last_error());
          continue;
        }
        compare(what, act, y, ref);
      }
    }
  // One repacked weight per activation type, shared by gemv and gemm.
  const int64_t after = hfq_cuda_cached_weights();
  report(after - before == 2, v.name + ": one cached weight per act type",
         std::to_string(after - before) + " new");
}

/// A second call reuses the cached weight; strided descriptors.
void checkCacheAndStrides(const Variant &v, Rng &rng) {
  Checkpoint ck = v.build(rng);
  const Act act = BF16;
  const int64_t m = 5, n = v.n, k = v.k;
  Activations a = randomActivations(act, m, n, k, true, rng);
  std::vector<float> ref;
  std::string error;
  if (!ck.error.empty() ||
      !referenceY(v.ref, ck, m, n, k, a.xf, a.biasf, ref, error)) {
    report(false, v.name + ": CPU reference (cache check)", ck.error + error);
    return;
  }
  HalfEntry entry = v.gemv.half[act];
  std::vector<Half> first, second;
  const int64_t c0 = hfq_cuda_cached_weights();
  const bool ok1 = callCuda(entry, ck, m, n, k, a.x, a.bias, first) == 0;
  const int64_t c1 = hfq_cuda_cached_weights();
  const bool ok2 = callCuda(entry, ck, m, n, k, a.x, a.bias, second) == 0;
  const int64_t c2 = hfq_cuda_cached_weights();
  report(ok1 && ok2 && c1 == c0 + 1 && c2 == c1,
         v.name + ": a second call reuses the cached weight",
         "cached " + std::to_string(c0) + " -> " + std::to_string(c1) + " -> " +
             std::to_string(c2));
  if (ok2)
    compare(v.name + ": the second call's result", act, second, ref);

  // x with a row stride of K + 8 at offset 3, y with N + 5 at offset 2, the
  // bias with stride 2.
  const int64_t xs = k + 8, ys = n + 5;
  std::vector<Half> xbuf(static_cast<size_t>(3 + m * xs), 0),
      ybuf(static_cast<size_t>(2 + m * ys), kPoison),
      bbuf(static_cast<size_t>(2 * n), 0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j)
      xbuf[static_cast<size_t>(3 + i * xs + j)] =
          a.x[static_cast<size_t>(i * k + j)];
  for (int64_t j = 0; j < n; ++j)
    bbuf[static_cast<size_t>(2 * j)] = a.bias[static_cast<size_t>(j)];
  AbiOperands abi(ck);
  StridedMemRefType<Half, 2> ym{ybuf.data(), ybuf.data(), 2, {m, n}, {ys, 1}};
  StridedMemRefType<Half, 2> xm{xbuf.data(), xbuf.data(), 3, {m, k}, {xs, 1}};
  StridedMemRefType<Half, 1> bm{bbuf.data(), bbuf.data(), 0, {n}, {2}};
  if (v.gemm.half[act](&ym, &xm, &bm, &abi.argsRef, &abi.tableRef) != 0) {
    report(false, v.name + ": strided x, y and bias", hfq_kernel_last_error());
    return;
  }
  std::vector<Half> y(static_cast<size_t>(m * n));
  bool paddingKept = ybuf[0] == kPoison && ybuf[1] == kPoison;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j)
      y[static_cast<size_t>(i * n + j)] =
          ybuf[static_cast<size_t>(2 + i * ys + j)];
    for (int64_t j = n; j < ys && 2 + i * ys + j < int64_t(ybuf.size()); ++j)
      paddingKept =
          paddingKept && ybuf[static_cast<size_t>(2 + i * ys + j)] == kPoison;
  }
  report(paddingKept, v.name + ": strided y leaves the gaps alone");
  compare(v.name + ": strided x, y and bias", act, y, ref);
}

} // namespace

int main(int argc, char **argv) {
  unsigned seed = std::random_device()();
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--seed" && i + 1 < argc) {
      seed = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else {
      std::fprintf(stderr, "usage: %s [--seed N]\n", argv[0]);
      return 2;
    }
  }
  std::printf("seed: %u\n", seed);
  Rng rng(seed);

  checkErrorPaths(rng);
  std::string why;
  if (!hfq::cuda::deviceAvailable(why)) {
    checkNoDevice(rng);
    std::printf("%d checks, %d failed\n", checks, failures);
    if (failures)
      return 1;
    std::printf("SKIPPED: %s; the entry points were built but not run on a "
                "GPU\n",
                why.c_str());
    return 77;
  }

  const std::vector<Variant> all = variants();
  for (const Variant &v : all) {
    checkVariant(v, rng);
    hfq_cuda_release_weights();
    report(hfq_cuda_cached_weights() == 0,
           v.name + ": hfq_cuda_release_weights empties the cache");
  }
  checkCacheAndStrides(all.front(), rng);
  checkCacheAndStrides(all[1], rng); // act order: x gathered through perm
  hfq_cuda_release_weights();

  std::printf("%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
