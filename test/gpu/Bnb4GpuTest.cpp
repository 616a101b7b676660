//===- Bnb4GpuTest.cpp - bitsandbytes NF4 / FP4 on the GPU vs the reference
//===//
//
// The CUDA entry points _mlir_ciface_hfq_bnb4_<gemv|gemm>_<f16|bf16>
// (kernels/cuda/Entry.cpp over Bnb4.h) against the CPU reference entry point
// _mlir_ciface_hfq_ref_bnb4_f32 on fresh random data: weights quantized by
// the reference quantizer (quantizeBnb4, bnb's own bytes) as NF4 and FP4,
// nested (double quant, with its offset) and not, blocksizes 32, 64, 128 and
// 4096, codes stored as ui8 and viewed as f32 / bf16
// (bnb_4bit_quant_storage), N and K off the 16 x 128 tiles: K % 32 == 0
// with blocks straddling rows (the decode kernel), K % 32 != 0 and odd N * K
// (dequantize + cuBLAS), layers large enough that warps split tiles
// (stream-K: atomics and the last warp's write). M in {1, 3, 16, 17, 64,
// 300}, both activation types, y poisoned (NaN) before every call, a bias on
// odd M. Host activations (the copying path) and device-resident x and y
// (the GPU target's path: no copies, the stream of hfq_cuda_set_stream).
//
// Pass criteria (test/gpu/EntryChecks.h): status 0, every element finite,
// relative Frobenius error <= 1e-2 (bf16) / 2e-3 (f16), no element off by
// more than 10% of max |ref|. The error paths (bad blocksize, a wrong-shape
// absmax, a missing tensor, a stored quant_map of the other type, a
// non-finite nested offset, an f32 call) must fail with a message naming the
// kernel and what is wrong, y untouched; they run first and need no GPU.
// Without a GPU the test then exits 77 (CTest's skip code). `--seed N`
// repeats a run; `--small` runs a reduced set (compute-sanitizer).
//
// Built by CMake like hfq-entry-gpu-test (linking libhfq_kernels_cuda.so),
// or with nvcc alone by bench/device.sh (the same sources as that test).
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"
#include "kernels/cuda/Entry.h"
#include "kernels/cuda/WeightOnly.h"
#include "kernels/ref/Bitsandbytes.h"
#include "test/gpu/EntryChecks.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace hfq::kernels;
using namespace hfq::kernels::builders;
using namespace hfq::kernels::entrychecks;

namespace {

struct Bnb4Case {
  int64_t n, k;
  Bnb4Type type;
  bool nested;
  int64_t blocksize;
  DType storage; // the codes' storage dtype (bytes unchanged)
};

std::string caseName(const Bnb4Case &c) {
  return std::string(c.type == Bnb4Type::NF4 ? "nf4" : "fp4") +
         (c.nested ? " nested" : "") + " bs" + std::to_string(c.blocksize) +
         " " + std::to_string(c.n) + "x" + std::to_string(c.k) +
         (c.storage == DType::U8 ? ""
                                 : std::string(" as ") + dtypeName(c.storage));
}

/// A random weight quantized as bnb does, in the layout of
/// specs/bitsandbytes.json (args blocksize, quant_type_nf4, double_quant,
/// nested_blocksize; tensors weight, absmax, quant_map and, nested,
/// nested_absmax, nested_quant_map, nested_offset).
Checkpoint bnb4Checkpoint(const Bnb4Case &c, Rng &rng) {
  Checkpoint ck;
  std::vector<float> w(static_cast<size_t>(c.n * c.k));
  for (float &v : w)
    v = rng.uniform(-0.05f, 0.05f) * (rng.range(0, 31) == 0 ? 8.0f : 1.0f);
  Bnb4Params p;
  p.type = c.type;
  p.blocksize = c.blocksize;
  p.doubleQuant = c.nested;
  Bnb4Quantized q;
  if (!quantizeBnb4(w.data(), c.n, c.k, p, q, ck.error))
    return ck;
  ck.args = {double(c.blocksize), c.type == Bnb4Type::NF4 ? 1.0 : 0.0,
             c.nested ? 1.0 : 0.0, 256.0};
  const int64_t s = static_cast<int64_t>(dtypeSize(c.storage));
  StoredTensor &weight = ck.add(c.storage, {(c.n * c.k + 1) / (2 * s), 1});
  if (weight.bytes.size() != q.weight.bytes.size()) {
    ck.error = "the codes do not fill whole " +
               std::string(dtypeName(c.storage)) + " elements";
    return ck;
  }
  weight.bytes = q.weight.bytes;
  ck.tensors.push_back(q.absmax);
  ck.tensors.push_back(q.quantMap);
  if (c.nested) {
    ck.tensors.push_back(q.nestedAbsmax);
    ck.tensors.push_back(q.nestedQuantMap);
    StoredTensor &offset = ck.add(DType::F32, {});
    uint32_t bits;
    std::memcpy(&bits, &q.nestedOffset, 4);
    offset.setBits(0, bits);
  }
  return ck;
}

const CudaKernel kGemv = CUDA_KERNEL(hfq_bnb4_gemv),
                 kGemm = CUDA_KERNEL(hfq_bnb4_gemm);

std::vector<Bnb4Case> cases(bool small) {
  const auto NF4 = Bnb4Type::NF4, FP4 = Bnb4Type::FP4;
  if (small)
    return {{100, 96, NF4, true, 64, DType::U8},
            {300, 1024, FP4, false, 64, DType::U8},
            {37, 75, NF4, true, 64, DType::U8}};
  return {
      // K % 32 == 0, not % 64: blocks of 64 straddle rows (decode kernel).
      {100, 96, NF4, true, 64, DType::U8},
      {100, 96, FP4, false, 64, DType::U8},
      // Warps split tiles (stream-K), nested and not, blocksizes 32 / 128.
      {300, 1024, NF4, true, 64, DType::U8},
      {300, 1024, FP4, true, 32, DType::U8},
      {257, 544, NF4, false, 128, DType::U8},
      {130, 4096, FP4, true, 4096, DType::U8},
      // Codes stored as f32 / bf16 elements (the same bytes).
      {64, 256, NF4, true, 64, DType::F32},
      {48, 160, FP4, false, 64, DType::BF16},
      // K % 32 != 0 (dequantize + cuBLAS), an odd N * K.
      {130, 200, NF4, true, 64, DType::U8},
      {37, 75, FP4, false, 64, DType::U8},
  };
}

/// A reference y for activations `a`; false (and a FAIL line) if it fails.
bool reference(const Checkpoint &ck, const Bnb4Case &c, int64_t m,
               const Activations &a, const std::string &where,
               std::vector<float> &ref) {
  std::string error;
  if (!referenceY(_mlir_ciface_hfq_ref_bnb4_f32, ck, m, c.n, c.k, a.xf, a.biasf,
                  ref, error))
    return report(false, where + ": CPU reference", error);
  return true;
}

void checkCase(const Bnb4Case &c, const std::vector<int64_t> &ms, Rng &rng) {
  const std::string name = caseName(c);
  Checkpoint ck = bnb4Checkpoint(c, rng);
  if (!ck.error.empty()) {
    report(false, name + ": building the checkpoint", ck.error);
    return;
  }
  const int64_t before = hfq_cuda_cached_weights();
  for (Act act : {BF16, F16})
    for (int64_t m : ms) {
      const bool withBias = m % 2 == 1;
      Activations a = randomActivations(act, m, c.n, c.k, withBias, rng);
      const std::string where = name + " " + actName(act) +
                                " M=" + std::to_string(m) +
                                (withBias ? " +bias" : "");
      std::vector<float> ref;
      if (!reference(ck, c, m, a, where, ref))
        continue;
      for (const CudaKernel *kernel : {&kGemv, &kGemm}) {
        std::vector<Half> y;
        const std::string what = where + " " + kernel->name;
        if (callCuda(kernel->half[act], ck, m, c.n, c.k, a.x, a.bias, y) != 0) {
          report(false, what, hfq_kernel_last_error());
          continue;
        }
        compare(what, act, y, ref);
      }
    }
  const int64_t after = hfq_cuda_cached_weights();
  report(after - before == 2,
         name + ": one cached weight per act type, gemv and gemm sharing it",
         std::to_string(after - before) + " new");
}

/// x and y in device memory: the entry point launches on the stream of
/// hfq_cuda_set_stream and returns; y is read back after a synchronize.
void checkDeviceResident(const Bnb4Case &c, int64_t m, Act act, Rng &rng) {
  const std::string what = caseName(c) + " " + actName(act) +
                           " M=" + std::to_string(m) +
                           " device-resident x, y +bias";
  Checkpoint ck = bnb4Checkpoint(c, rng);
  Activations a = randomActivations(act, m, c.n, c.k, true, rng);
  std::vector<float> ref;
  if (!ck.error.empty() || !reference(ck, c, m, a, what, ref))
    return;
  cudaStream_t stream = nullptr;
  Half *x = nullptr, *y = nullptr;
  const size_t xBytes = a.x.size() * sizeof(Half),
               yBytes = ref.size() * sizeof(Half);
  if (cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) !=
          cudaSuccess ||
      cudaMalloc(&x, xBytes) != cudaSuccess ||
      cudaMalloc(&y, yBytes) != cudaSuccess ||
      cudaMemcpy(x, a.x.data(), xBytes, cudaMemcpyHostToDevice) !=
          cudaSuccess ||
      cudaMemset(y, 0xFF, yBytes) != cudaSuccess) {
    report(false, what, "setting up device buffers failed");
    return;
  }
  hfq_cuda_set_stream(stream);
  AbiOperands abi(ck);
  std::vector<Half> bias(a.bias);
  StridedMemRefType<Half, 2> ym = memref2d(y, m, c.n);
  StridedMemRefType<Half, 2> xm = memref2d(x, m, c.k);
  StridedMemRefType<Half, 1> bm = memref1d(bias.data(), c.n);
  std::vector<Half> out(ref.size(), kPoison);
  for (const CudaKernel *kernel : {&kGemv, &kGemm}) {
    cudaMemset(y, 0xFF, yBytes);
    const int32_t status =
        kernel->half[act](&ym, &xm, &bm, &abi.argsRef, &abi.tableRef);
    const std::string message = status ? hfq_kernel_last_error() : "";
    const bool synced = cudaStreamSynchronize(stream) == cudaSuccess &&
                        cudaMemcpy(out.data(), y, yBytes,
                                   cudaMemcpyDeviceToHost) == cudaSuccess;
    if (status != 0 || !synced) {
      report(false, what + " " + kernel->name,
             status ? message : "synchronizing failed");
      continue;
    }
    compare(what + " " + kernel->name, act, out, ref);
  }
  hfq_cuda_set_stream(nullptr);
  hfq_cuda_release_weights();
  cudaFree(x);
  cudaFree(y);
  cudaStreamDestroy(stream);
}

/// One refusal: status non-zero, the message names the kernel and `needle`,
/// y untouched.
void expectRefusal(const std::string &what, const Checkpoint &ck, int64_t n,
                   int64_t k, const std::string &needle) {
  Activations a;
  a.x.assign(static_cast<size_t>(2 * k), 0);
  std::vector<Half> y;
  const int32_t status = callCuda(kGemv.half[BF16], ck, 2, n, k, a.x, {}, y);
  const std::string message = hfq_kernel_last_error();
  report(status != 0 && contains(message, "hfq_bnb4_gemv") &&
             contains(message, needle) && allPoison(y),
         "error path: " + what, message);
}

void checkErrorPaths(Rng &rng) {
  const Bnb4Case c{64, 128, Bnb4Type::NF4, true, 64, DType::U8};
  const Checkpoint good = bnb4Checkpoint(c, rng);
  {
    Checkpoint ck = good;
    ck.args[0] = 48;
    expectRefusal("a blocksize bnb does not have", ck, c.n, c.k, "blocksize");
  }
  {
    Checkpoint ck = good;
    ck.tensors[1].reset(DType::U8, {ck.tensors[1].numel() - 1});
    expectRefusal("a wrong-shape absmax", ck, c.n, c.k, "weight.absmax");
  }
  {
    Checkpoint ck = good;
    ck.tensors.pop_back();
    expectRefusal("a missing nested_offset", ck, c.n, c.k,
                  "expected 6 packed tensors");
  }
  {
    Checkpoint ck = good;
    ck.args[1] = 0; // fp4, but the stored quant_map is nf4's
    expectRefusal("a quant_map of the other type", ck, c.n, c.k,
                  "weight.quant_map");
  }
  {
    Checkpoint ck = good;
    const float inf = INFINITY;
    uint32_t bits;
    std::memcpy(&bits, &inf, 4);
    ck.tensors[5].setBits(0, bits);
    expectRefusal("a non-finite nested offset", ck, c.n, c.k, "nested_offset");
  }
  {
    Checkpoint ck = good;
    expectRefusal("N that does not match the codes", ck, c.n + 1, c.k,
                  "weight");
  }
  expectF32Refused(kGemm, good, c.n, c.k);
}

} // namespace

int main(int argc, char **argv) {
  unsigned seed = std::random_device()();
  bool small = false;
  if (!parseOptions(argc, argv, seed, small))
    return 2;
  std::printf("seed: %u\n", seed);
  Rng rng(seed);

  checkErrorPaths(rng);
  std::string why;
  if (!hfq::cuda::deviceAvailable(why)) {
    // A good weight: refused for want of a device, by name.
    expectRefusal(
        "no CUDA device",
        bnb4Checkpoint({64, 128, Bnb4Type::FP4, false, 64, DType::U8}, rng), 64,
        128, "CUDA device");
    std::printf("%d checks, %d failed\n", checks, failures);
    if (failures)
      return 1;
    std::printf("SKIPPED: %s; the bnb 4-bit entry points were built but not "
                "run on a GPU\n",
                why.c_str());
    return 77;
  }

  const std::vector<int64_t> ms =
      small ? std::vector<int64_t>{1, 17}
            : std::vector<int64_t>{1, 3, 16, 17, 64, 300};
  for (const Bnb4Case &c : cases(small)) {
    checkCase(c, ms, rng);
    hfq_cuda_release_weights();
  }
  checkDeviceResident({300, 1024, Bnb4Type::NF4, true, 64, DType::U8}, 1, BF16,
                      rng);
  checkDeviceResident({130, 200, Bnb4Type::FP4, false, 64, DType::U8}, 5, F16,
                      rng);
  if (!small)
    checkDeviceResident({257, 544, Bnb4Type::NF4, true, 64, DType::U8}, 40,
                        BF16, rng);

  std::printf("%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
