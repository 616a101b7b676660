//===- Fp8GpuTest.cpp - fine-grained FP8 on the GPU vs the reference ------===//
//
// The CUDA entry points _mlir_ciface_hfq_fp8_<block_gemm|scaled_mm>_<f16|bf16>
// (kernels/cuda/Entry.cpp over Fp8.h) against the CPU reference entry point
// _mlir_ciface_hfq_ref_fp8_f32 on fresh random data:
//
//  * weights quantized per 128 x 128 block as transformers does, with
//    scale_fmt "float" and
//    "ue8m0" (5.17's _quantize_one: weight_scale_inv rounded up to a power
//    of two, the forward scale its exact reciprocal; stored as f32, which
//    holds it exactly), dynamic activations; block weights with a static
//    activation_scale; per-tensor weights with a static activation_scale
//    (hfq_fp8_scaled_mm);
//  * K a multiple of 128 and N of 16 (576 and 208: a partial last block of
//    rows, as DeepSeek-V3's kv_a_proj), from one block to several,
//    M in {1, 3, 16, 17, 64, 300, 1024} (the decode kernel up to 16, the
//    wgmma GEMM with one and two warpgroups above), both activation types,
//    y poisoned (NaN) before every call, a bias on odd M;
//  * each path forced on the other's M (fp8Linear with LaunchConfig);
//  * host activations and device-resident x and y;
//  * the activation quantization kernel alone, bit for bit against the
//    reference's (codes and scales), with all-zero groups and outliers.
//
// Pass criteria (test/gpu/EntryChecks.h): status 0, every element finite,
// relative Frobenius error <= 1e-2 (bf16) / 2e-3 (f16), no element off by
// more than 10% of max |ref|. The error paths (N not a multiple of 16, K
// not of 128, a block size other than 128 x 128, dynamic per-tensor, a
// wrong-shape scale, a missing activation_scale, dequantize = true, an f32
// call) must fail with a message naming the kernel and what is wrong, y
// untouched; they run first and need no GPU. Without a GPU the test then exits
// 77 (CTest's skip code). `--seed N` repeats a run; `--small` runs a reduced
// set (compute-sanitizer).
//
// Built by CMake like hfq-bnb4-gpu-test (linking libhfq_kernels_cuda.so),
// or with nvcc alone by bench/device.sh.
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Abi.h"
#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"
#include "kernels/cuda/Entry.h"
#include "kernels/cuda/Fp8.h"
#include "kernels/cuda/WeightOnly.h"
#include "kernels/ref/FineGrainedFp8.h"
#include "test/gpu/EntryChecks.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace hfq::kernels;
using namespace hfq::kernels::builders;
using namespace hfq::kernels::entrychecks;

namespace {

enum class Scheme { Dynamic, DynamicUe8m0, StaticBlock, StaticPerTensor };

const char *schemeName(Scheme s) {
  switch (s) {
  case Scheme::Dynamic:
    return "dynamic, float scales";
  case Scheme::DynamicUe8m0:
    return "dynamic, ue8m0 scales";
  case Scheme::StaticBlock:
    return "static, block";
  case Scheme::StaticPerTensor:
    return "static, per tensor";
  }
  return "?";
}

struct Fp8Case {
  int64_t n, k;
  Scheme scheme;
};

std::string caseName(const Fp8Case &c) {
  return std::string(schemeName(c.scheme)) + " " + std::to_string(c.n) + "x" +
         std::to_string(c.k);
}

const CudaKernel kBlockGemm = CUDA_KERNEL(hfq_fp8_block_gemm),
                 kScaledMm = CUDA_KERNEL(hfq_fp8_scaled_mm);

const CudaKernel &kernelFor(Scheme s) {
  return s == Scheme::StaticPerTensor ? kScaledMm : kBlockGemm;
}

/// transformers' block quantization of one [n, k] weight in 128 x 128
/// blocks (Fp8Quantize; as the reference's quantizeFp8Block, which also
/// checks N % 128 == 0: here the last row block may be partial). ue8m0:
/// 5.17's _quantize_one, weight_scale_inv rounded up to a power of two and
/// the forward scale its exact reciprocal.
void quantizeBlocks(const std::vector<float> &w, int64_t n, int64_t k,
                    bool ue8m0, StoredTensor &weight, StoredTensor &scaleInv) {
  const int64_t rowBlocks = ceilDiv(n, 128), colBlocks = k / 128;
  weight.reset(DType::F8E4M3FN, {n, k});
  scaleInv.reset(DType::F32, {rowBlocks, colBlocks});
  for (int64_t bi = 0; bi < rowBlocks; ++bi)
    for (int64_t bj = 0; bj < colBlocks; ++bj) {
      const int64_t rowEnd = std::min(n, (bi + 1) * 128);
      float amax = 0.0f;
      for (int64_t i = bi * 128; i < rowEnd; ++i)
        for (int64_t j = bj * 128; j < (bj + 1) * 128; ++j)
          amax = std::max(amax, std::fabs(w[i * k + j]));
      float scale = amax > 0.0f ? 448.0f / amax : 1.0f;
      float inv = 1.0f / scale;
      if (ue8m0) {
        inv = std::exp2(std::ceil(std::log2(std::max(inv, FLT_MIN))));
        scale = 1.0f / inv;
      }
      for (int64_t i = bi * 128; i < rowEnd; ++i)
        for (int64_t j = bj * 128; j < (bj + 1) * 128; ++j)
          weight.setBits(i * k + j,
                         floatToFp8e4m3(std::clamp(w[i * k + j] * scale,
                                                   -448.0f, 448.0f)));
      scaleInv.setFloat(bi * colBlocks + bj, inv);
    }
}

/// A random weight in the layout of specs/fp8.json (args block_n, block_k,
/// static_activation, dequantize; tensors weight, weight_scale_inv and,
/// static, activation_scale).
Checkpoint fp8Checkpoint(const Fp8Case &c, Rng &rng) {
  Checkpoint ck;
  std::vector<float> w(static_cast<size_t>(c.n * c.k));
  for (float &v : w)
    v = rng.uniform(-0.05f, 0.05f) * (rng.range(0, 31) == 0 ? 8.0f : 1.0f);
  const bool perTensor = c.scheme == Scheme::StaticPerTensor;
  const bool isStatic =
      c.scheme == Scheme::StaticBlock || c.scheme == Scheme::StaticPerTensor;
  ck.args = {perTensor ? 0.0 : 128.0, perTensor ? 0.0 : 128.0,
             isStatic ? 1.0 : 0.0, 0.0};
  if (!perTensor) {
    ck.tensors.emplace_back();
    ck.tensors.emplace_back();
    quantizeBlocks(w, c.n, c.k, c.scheme == Scheme::DynamicUe8m0, ck.tensors[0],
                   ck.tensors[1]);
  } else {
    Fp8Quantized q;
    if (!quantizeFp8Block(w.data(), c.n, c.k, 0, 0, q, ck.error))
      return ck;
    ck.tensors.push_back(std::move(q.weight));
    ck.tensors.push_back(std::move(q.scaleInv));
  }
  if (isStatic) {
    // A calibrated scale: activations up to 1 map to 448 / 1.25.
    StoredTensor &s = ck.add(DType::F32, {});
    s.setFloat(0, 1.25f / 448.0f);
  }
  return ck;
}

std::vector<Fp8Case> cases(bool small) {
  if (small)
    return {{256, 384, Scheme::Dynamic},
            {128, 256, Scheme::DynamicUe8m0},
            {256, 128, Scheme::StaticPerTensor}};
  return {
      {128, 128, Scheme::Dynamic},
      {256, 384, Scheme::Dynamic},
      {640, 1024, Scheme::Dynamic},
      {384, 256, Scheme::DynamicUe8m0},
      {256, 640, Scheme::StaticBlock},
      {384, 512, Scheme::StaticPerTensor},
      // N % 128 != 0 (DeepSeek-V3's kv_a_proj, 576 x 7168): a partial last
      // scale row and GEMM tile.
      {576, 256, Scheme::Dynamic},
      {208, 384, Scheme::StaticBlock},
  };
}

bool reference(const Checkpoint &ck, const Fp8Case &c, int64_t m,
               const Activations &a, const std::string &where,
               std::vector<float> &ref) {
  std::string error;
  if (!referenceY(_mlir_ciface_hfq_ref_fp8_f32, ck, m, c.n, c.k, a.xf, a.biasf,
                  ref, error))
    return report(false, where + ": CPU reference", error);
  return true;
}

void checkCase(const Fp8Case &c, const std::vector<int64_t> &ms, Rng &rng) {
  const std::string name = caseName(c);
  Checkpoint ck = fp8Checkpoint(c, rng);
  if (!ck.error.empty()) {
    report(false, name + ": building the checkpoint", ck.error);
    return;
  }
  const CudaKernel &kernel = kernelFor(c.scheme);
  const int64_t before = hfq_cuda_cached_weights();
  for (Act act : {BF16, F16})
    for (int64_t m : ms) {
      if (m * c.n * c.k > (int64_t{1} << 28))
        continue; // the CPU reference's time
      const bool withBias = m % 2 == 1;
      Activations a = randomActivations(act, m, c.n, c.k, withBias, rng);
      const std::string where = name + " " + actName(act) +
                                " M=" + std::to_string(m) +
                                (withBias ? " +bias" : "");
      std::vector<float> ref;
      if (!reference(ck, c, m, a, where, ref))
        continue;
      std::vector<Half> y;
      const std::string what = where + " " + kernel.name;
      if (callCuda(kernel.half[act], ck, m, c.n, c.k, a.x, a.bias, y) != 0) {
        report(false, what, hfq_kernel_last_error());
        continue;
      }
      compare(what, act, y, ref);
    }
  const int64_t after = hfq_cuda_cached_weights();
  report(after - before == 2, name + ": one cached weight per act type",
         std::to_string(after - before) + " new");
}

/// The paths forced on the other's M, through the host API on device
/// buffers (Entry.cpp always takes Auto).
void checkForcedPaths(const Fp8Case &c, Rng &rng) {
  Checkpoint ck = fp8Checkpoint(c, rng);
  AbiOperands abi(ck);
  std::vector<TensorView> packed;
  std::string error;
  hfq::cuda::Fp8Operands op;
  if (!ck.error.empty() || !decodeTable(&abi.tableRef, packed, error) ||
      !hfq::cuda::fp8Operands(128, 128, false, false, packed, c.n, c.k, op,
                              error)) {
    report(false, caseName(c) + ": forced paths: operands", ck.error + error);
    return;
  }
  hfq::cuda::Fp8Weight w;
  hfq::cuda::Workspace ws;
  if (!w.upload(op, c.n, c.k, hfq::cuda::ActType::BF16, error)) {
    report(false, caseName(c) + ": forced paths: upload", error);
    return;
  }
  for (auto [m, path] : {std::pair{int64_t{3}, hfq::cuda::LinearPath::Gemm},
                         {int64_t{16}, hfq::cuda::LinearPath::Gemm},
                         {int64_t{40}, hfq::cuda::LinearPath::Gemv},
                         {int64_t{130}, hfq::cuda::LinearPath::Gemm}}) {
    const std::string what = caseName(c) + " bf16 M=" + std::to_string(m) +
                             " forced " + hfq::cuda::linearPathName(path);
    Activations a = randomActivations(BF16, m, c.n, c.k, false, rng);
    std::vector<float> ref;
    if (!reference(ck, c, m, a, what, ref))
      continue;
    void *x = nullptr, *y = nullptr;
    const size_t xBytes = a.x.size() * sizeof(Half),
                 yBytes = ref.size() * sizeof(Half);
    std::vector<Half> out(ref.size(), kPoison);
    hfq::cuda::LaunchConfig config;
    config.path = path;
    bool ok = cudaMalloc(&x, xBytes) == cudaSuccess &&
              cudaMalloc(&y, yBytes) == cudaSuccess &&
              cudaMemcpy(x, a.x.data(), xBytes, cudaMemcpyHostToDevice) ==
                  cudaSuccess &&
              cudaMemset(y, 0xFF, yBytes) == cudaSuccess;
    ok = ok &&
         hfq::cuda::fp8Linear(w, x, nullptr, y, m, ws, nullptr, config, error);
    ok = ok && cudaDeviceSynchronize() == cudaSuccess &&
         cudaMemcpy(out.data(), y, yBytes, cudaMemcpyDeviceToHost) ==
             cudaSuccess;
    if (ok)
      compare(what, BF16, out, ref);
    else
      report(false, what, error.empty() ? "a CUDA call failed" : error);
    cudaFree(x);
    cudaFree(y);
  }
  w.release();
  ws.release();
}

/// The activation quantization kernel alone, bit for bit.
void checkActivationQuantization(int64_t m, int64_t k, Act act,
                                 float staticScale, Rng &rng) {
  const std::string what =
      std::string("activation quantization ") + actName(act) +
      " M=" + std::to_string(m) + " K=" + std::to_string(k) +
      (staticScale > 0.0f ? " static" : " dynamic") + ": bit for bit";
  Activations a = randomActivations(act, m, 0, k, false, rng);
  // An all-zero group, outliers, tiny values (e4m3 subnormals after scaling).
  for (int64_t j = 0; j < 128 && j < k; ++j) {
    a.x[static_cast<size_t>(j)] = to16(act, 0.0f);
    a.xf[static_cast<size_t>(j)] = 0.0f;
  }
  for (int64_t i = 0; i < m * k; i += 97) {
    const float v = rng.range(0, 1) ? rng.uniform(-60.0f, 60.0f)
                                    : rng.uniform(-1e-3f, 1e-3f);
    a.x[static_cast<size_t>(i)] = to16(act, v);
    a.xf[static_cast<size_t>(i)] = from16(act, a.x[static_cast<size_t>(i)]);
  }
  std::vector<uint8_t> want8;
  std::vector<float> wantScales;
  std::string error;
  if (staticScale > 0.0f) {
    want8.resize(static_cast<size_t>(m * k));
    for (int64_t i = 0; i < m * k; ++i)
      want8[i] =
          floatToFp8e4m3(std::clamp(a.xf[i] / staticScale, -448.0f, 448.0f));
    wantScales.assign(static_cast<size_t>(m), staticScale);
  } else if (!quantizeFp8ActivationGroups(a.xf.data(), m, k, 128, want8,
                                          wantScales, error)) {
    report(false, what, "reference: " + error);
    return;
  }
  void *x = nullptr, *x8 = nullptr, *scales = nullptr;
  std::vector<uint8_t> got8(want8.size());
  std::vector<float> gotScales(wantScales.size());
  bool ok =
      cudaMalloc(&x, a.x.size() * sizeof(Half)) == cudaSuccess &&
      cudaMalloc(&x8, got8.size()) == cudaSuccess &&
      cudaMalloc(&scales, gotScales.size() * sizeof(float)) == cudaSuccess &&
      cudaMemcpy(x, a.x.data(), a.x.size() * sizeof(Half),
                 cudaMemcpyHostToDevice) == cudaSuccess;
  ok = ok &&
       hfq::cuda::fp8QuantizeActivations(
           act == BF16 ? hfq::cuda::ActType::BF16 : hfq::cuda::ActType::F16, x,
           m, k, staticScale, static_cast<uint8_t *>(x8),
           static_cast<float *>(scales), nullptr, error);
  ok = ok && cudaDeviceSynchronize() == cudaSuccess &&
       cudaMemcpy(got8.data(), x8, got8.size(), cudaMemcpyDeviceToHost) ==
           cudaSuccess &&
       cudaMemcpy(gotScales.data(), scales, gotScales.size() * sizeof(float),
                  cudaMemcpyDeviceToHost) == cudaSuccess;
  cudaFree(x);
  cudaFree(x8);
  cudaFree(scales);
  if (!ok) {
    report(false, what, error.empty() ? "a CUDA call failed" : error);
    return;
  }
  size_t badCodes = 0, badScales = 0, first = got8.size();
  for (size_t i = 0; i < got8.size(); ++i)
    if (got8[i] != want8[i]) {
      ++badCodes;
      first = std::min(first, i);
    }
  for (size_t i = 0; i < gotScales.size(); ++i)
    if (std::memcmp(&gotScales[i], &wantScales[i], 4) != 0)
      ++badScales;
  std::string detail = std::to_string(badCodes) + " codes and " +
                       std::to_string(badScales) + " scales differ";
  if (badCodes)
    detail += "; first at " + std::to_string(first) + ": got " +
              std::to_string(got8[first]) + ", want " +
              std::to_string(want8[first]);
  report(badCodes == 0 && badScales == 0, what, detail);
}

/// x and y in device memory: the entry point launches on the stream of
/// hfq_cuda_set_stream and returns; y is read back after a synchronize.
void checkDeviceResident(const Fp8Case &c, int64_t m, Act act, Rng &rng) {
  const std::string what = caseName(c) + " " + actName(act) +
                           " M=" + std::to_string(m) +
                           " device-resident x, y +bias";
  Checkpoint ck = fp8Checkpoint(c, rng);
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
  const CudaKernel &kernel = kernelFor(c.scheme);
  const int32_t status =
      kernel.half[act](&ym, &xm, &bm, &abi.argsRef, &abi.tableRef);
  const std::string message = status ? hfq_kernel_last_error() : "";
  const bool synced =
      cudaStreamSynchronize(stream) == cudaSuccess &&
      cudaMemcpy(out.data(), y, yBytes, cudaMemcpyDeviceToHost) == cudaSuccess;
  if (status != 0 || !synced)
    report(false, what + " " + kernel.name,
           status ? message : "synchronizing failed");
  else
    compare(what + " " + kernel.name, act, out, ref);
  hfq_cuda_set_stream(nullptr);
  hfq_cuda_release_weights();
  cudaFree(x);
  cudaFree(y);
  cudaStreamDestroy(stream);
}

/// One refusal: status non-zero, the message names the kernel and `needle`,
/// y untouched.
void expectRefusal(const std::string &what, const CudaKernel &kernel,
                   const Checkpoint &ck, int64_t n, int64_t k,
                   const std::string &needle) {
  Activations a;
  a.x.assign(static_cast<size_t>(2 * k), 0);
  std::vector<Half> y;
  const int32_t status = callCuda(kernel.half[BF16], ck, 2, n, k, a.x, {}, y);
  const std::string message = hfq_kernel_last_error();
  report(status != 0 && contains(message, kernel.name) &&
             contains(message, needle) && allPoison(y),
         "error path: " + what, message);
}

/// A checkpoint whose N is not a multiple of 16 or K not of 128 (the
/// reference takes it: partial edge blocks).
Checkpoint offShape(int64_t n, int64_t k) {
  Checkpoint ck;
  ck.args = {128.0, 128.0, 0.0, 0.0};
  ck.add(DType::F8E4M3FN, {n, k});
  StoredTensor &s = ck.add(DType::F32, {ceilDiv(n, 128), ceilDiv(k, 128)});
  for (int64_t i = 0; i < s.numel(); ++i)
    s.setFloat(i, 1.0f);
  return ck;
}

void checkErrorPaths(Rng &rng) {
  const Fp8Case c{128, 256, Scheme::Dynamic};
  const Checkpoint good = fp8Checkpoint(c, rng);
  expectRefusal("N not a multiple of 16", kBlockGemm, offShape(200, 256), 200,
                256, "N a multiple of 16");
  expectRefusal("K not a multiple of 128", kBlockGemm, offShape(128, 200), 128,
                200, "K a multiple of 128");
  {
    Checkpoint ck = offShape(128, 256);
    ck.args[0] = ck.args[1] = 64;
    ck.tensors[1].reset(DType::F32, {2, 4});
    expectRefusal("64 x 64 blocks", kBlockGemm, ck, 128, 256, "[128, 128]");
  }
  {
    Checkpoint ck = good;
    ck.args[0] = ck.args[1] = 0;
    ck.tensors[1].reset(DType::F32, {});
    expectRefusal("per tensor with dynamic activations", kScaledMm, ck, c.n,
                  c.k, "static");
  }
  {
    Checkpoint ck = good;
    ck.tensors[1].reset(DType::F32, {1, 1});
    expectRefusal("a wrong-shape weight_scale_inv", kBlockGemm, ck, c.n, c.k,
                  "weight_scale_inv");
  }
  {
    Checkpoint ck = good;
    ck.args[2] = 1; // static, but no activation_scale
    expectRefusal("a missing activation_scale", kBlockGemm, ck, c.n, c.k,
                  "expected 3 packed tensors");
  }
  {
    Checkpoint ck = good;
    ck.args[2] = 1;
    ck.add(DType::F32, {}).setFloat(0, -1.0f);
    expectRefusal("a negative activation_scale", kBlockGemm, ck, c.n, c.k,
                  "activation_scale");
  }
  {
    Checkpoint ck = good;
    ck.args[3] = 1;
    expectRefusal("dequantize = true", kBlockGemm, ck, c.n, c.k,
                  "hfq_fp8_dequant_bf16");
  }
  expectF32Refused(kBlockGemm, good, c.n, c.k);
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
    expectRefusal("no CUDA device", kBlockGemm,
                  fp8Checkpoint({128, 128, Scheme::Dynamic}, rng), 128, 128,
                  "CUDA device");
    std::printf("%d checks, %d failed\n", checks, failures);
    if (failures)
      return 1;
    std::printf("SKIPPED: %s; the FP8 entry points were built but not run on "
                "a GPU\n",
                why.c_str());
    return 77;
  }

  for (Act act : {BF16, F16}) {
    checkActivationQuantization(small ? 3 : 37, 384, act, 0.0f, rng);
    checkActivationQuantization(small ? 2 : 5, 256, act, 1.25f / 448.0f, rng);
  }
  const std::vector<int64_t> ms =
      small ? std::vector<int64_t>{1, 17, 130}
            : std::vector<int64_t>{1, 3, 16, 17, 64, 300, 1024};
  for (const Fp8Case &c : cases(small)) {
    checkCase(c, ms, rng);
    hfq_cuda_release_weights();
  }
  checkForcedPaths({256, 384, Scheme::Dynamic}, rng);
  checkDeviceResident({256, 384, Scheme::Dynamic}, 1, BF16, rng);
  checkDeviceResident({384, 512, Scheme::StaticPerTensor}, 5, F16, rng);
  if (!small)
    checkDeviceResident({256, 640, Scheme::DynamicUe8m0}, 200, BF16, rng);

  std::printf("%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
