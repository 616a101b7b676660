//===- Fp8.cu - host API of the fine-grained FP8 kernels ------------------===//
//
// The host side of Fp8.h: the layout check, the device-resident weight (the
// checkpoint's bytes), the path choice and fp8Linear. The kernels live in
// Fp8Quantize.cu, Fp8Decode.cu and Fp8Gemm.cu.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Fp8.h"
#include "kernels/cuda/Internal.h"

#include "kernels/abi/StoredTensor.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

namespace hfq::cuda {

using kernels::ceilDiv;
using kernels::DType;
using kernels::TensorView;

namespace {

constexpr int64_t kBlock = 128; // the one weight block the kernels take

/// Whether the current device runs sm_90a code (compute capability 9.0).
bool hopper(std::string &error) {
  int device = 0, major = 0, minor = 0;
  HFQ_CUDA_TRY(cudaGetDevice(&device));
  HFQ_CUDA_TRY(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor,
                                      device));
  HFQ_CUDA_TRY(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor,
                                      device));
  if (major != 9 || minor != 0) {
    error = "the FP8 kernels are built for sm_90a (Hopper, compute capability "
            "9.0); this device is " +
            std::to_string(major) + "." + std::to_string(minor);
    return false;
  }
  return true;
}

} // namespace

bool fp8Operands(int64_t blockN, int64_t blockK, bool staticActivation,
                 bool dequantize, const std::vector<TensorView> &packed,
                 int64_t n, int64_t k, Fp8Operands &out, std::string &error) {
  if (dequantize) {
    error = "dequantize = true is served by hfq_fp8_dequant_bf16, not the FP8 "
            "GEMM";
    return false;
  }
  const bool perTensor = blockN == 0 && blockK == 0;
  if (!perTensor && (blockN != kBlock || blockK != kBlock)) {
    error = "the CUDA FP8 kernels take weight_block_size [128, 128] or null "
            "(per tensor), got [" +
            std::to_string(blockN) + ", " + std::to_string(blockK) + "]";
    return false;
  }
  if (perTensor && !staticActivation) {
    error = "per-tensor FP8 weights need activation_scheme 'static' (as "
            "transformers: the dynamic per-token groups come from "
            "weight_block_size)";
    return false;
  }
  const size_t expected = staticActivation ? 3 : 2;
  if (packed.size() != expected) {
    error = "expected " + std::to_string(expected) +
            " packed tensors (weight, weight_scale_inv" +
            (staticActivation ? ", activation_scale" : "") + "), got " +
            std::to_string(packed.size());
    return false;
  }
  if (!kernels::checkMatrixShape("FineGrainedFP8", n, k, error))
    return false;
  if (n % 16 != 0 || k % kBlock != 0) {
    error = "the CUDA FP8 kernels need N a multiple of 16 and K a multiple "
            "of 128, got N = " +
            std::to_string(n) + ", K = " + std::to_string(k);
    return false;
  }
  if (!kernels::expectView(packed[0], "weight", DType::F8E4M3FN, {n, k},
                           error) ||
      !kernels::expectView(
          packed[1], "weight_scale_inv", DType::F32,
          perTensor ? std::vector<int64_t>{}
                    : std::vector<int64_t>{ceilDiv(n, kBlock), k / kBlock},
          error))
    return false;
  out = Fp8Operands();
  out.weight = packed[0];
  out.scaleInv = packed[1];
  out.perTensor = perTensor;
  if (staticActivation) {
    if (!kernels::expectView(packed[2], "activation_scale", DType::F32, {},
                             error))
      return false;
    const float s = packed[2].at(0);
    if (!(s > 0.0f) || !std::isfinite(s)) {
      error = "activation_scale must be positive and finite, got " +
              std::to_string(s);
      return false;
    }
    out.activationScale = s;
  }
  return true;
}

bool Fp8Weight::upload(const Fp8Operands &op, int64_t rows, int64_t cols,
                       ActType activations, std::string &error) {
  release();
  act = activations;
  n = rows;
  k = cols;
  perTensor = op.perTensor;
  activationScale = op.activationScale;
  const size_t codeBytes = static_cast<size_t>(n * k);
  const size_t scaleBytes =
      (perTensor ? 1 : static_cast<size_t>(ceilDiv(n, kBlock) * (k / kBlock))) *
      sizeof(float);
  void *c = nullptr, *s = nullptr;
  bool ok = true;
  auto put = [&](void *&dst, const void *src, size_t bytes) {
    HFQ_CUDA_TRY(cudaMalloc(&dst, bytes));
    HFQ_CUDA_TRY(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
    return true;
  };
  ok =
      put(c, op.weight.data, codeBytes) && put(s, op.scaleInv.data, scaleBytes);
  codes = static_cast<uint8_t *>(c);
  scales = static_cast<float *>(s);
  if (!ok)
    release();
  return ok;
}

void Fp8Weight::release() {
  if (codes)
    cudaFree(codes);
  if (scales)
    cudaFree(scales);
  codes = nullptr;
  scales = nullptr;
}

size_t Fp8Weight::bytes() const {
  return static_cast<size_t>(n * k) +
         (perTensor ? 1
                    : static_cast<size_t>(ceilDiv(n, kBlock) * (k / kBlock))) *
             sizeof(float);
}

LinearPath chooseFp8Path(const Fp8Weight &, int64_t m) {
  // The decode kernel reads every weight byte once per 16 rows of x; the
  // wgmma kernel once per 64 or 128 rows and at tensor-core speed.
  return m <= 16 ? LinearPath::Gemv : LinearPath::Gemm;
}

bool fp8Linear(const Fp8Weight &w, const void *x, const void *bias, void *y,
               int64_t m, Workspace &ws, cudaStream_t stream,
               const LaunchConfig &config, std::string &error) {
  if (!w.codes) {
    error = "the weight is not on the device";
    return false;
  }
  if (m <= 0 || m > (1 << 30)) {
    error = "M must be in [1, 2^30], got " + std::to_string(m);
    return false;
  }
  if (m * w.k > (int64_t{1} << 40)) {
    error = "M * K is too large for the FP8 kernels' workspace";
    return false;
  }
  if (reinterpret_cast<uintptr_t>(x) % 8 != 0 ||
      reinterpret_cast<uintptr_t>(y) % 4 != 0) {
    error = "the FP8 kernels need x 8-byte and y 4-byte aligned";
    return false;
  }
  const LinearPath path =
      config.path == LinearPath::Auto ? chooseFp8Path(w, m) : config.path;
  if (path != LinearPath::Gemv && path != LinearPath::Gemm) {
    error = std::string("the FP8 kernels have no ") + linearPathName(path) +
            " path";
    return false;
  }
  if (!hopper(error))
    return false;
  // Workspace: x8 [M, K] bytes, then the scales [M, K/128] f32.
  const bool isStatic = w.activationScale > 0.0f;
  const size_t codeBytes = static_cast<size_t>(m * w.k);
  const size_t scaleCols = isStatic ? 1 : static_cast<size_t>(w.k / kBlock);
  const size_t scaleOffset = (codeBytes + 255) / 256 * 256;
  if (!detail::growBuffer(ws.xperm, ws.xpermBytes,
                          scaleOffset + static_cast<size_t>(m) * scaleCols *
                                            sizeof(float),
                          error))
    return false;
  uint8_t *x8 = static_cast<uint8_t *>(ws.xperm);
  float *xScales = reinterpret_cast<float *>(x8 + scaleOffset);
  if (!fp8QuantizeActivations(w.act, x, m, w.k, w.activationScale, x8, xScales,
                              stream, error))
    return false;
  detail::Fp8GemmArgs a{};
  a.x8 = x8;
  a.xScales = xScales;
  a.w = w.codes;
  a.wScales = w.scales;
  a.bias = bias;
  a.n = static_cast<int>(w.n);
  a.k = static_cast<int>(w.k);
  a.xScaleCols = static_cast<int>(scaleCols);
  a.wScaleRow = w.perTensor ? 0 : static_cast<int>(w.k / kBlock);
  a.wScaleCol = w.perTensor ? 0 : 1;
  a.bf16 = w.act == ActType::BF16;
  const size_t elem = 2;
  if (path == LinearPath::Gemm) {
    a.y = y;
    a.m = static_cast<int>(m);
    return detail::fp8LaunchGemm(a, stream, error);
  }
  for (int64_t m0 = 0; m0 < m; m0 += 16) {
    a.x8 = x8 + m0 * w.k;
    a.xScales = xScales + m0 * scaleCols;
    a.y = static_cast<char *>(y) + m0 * w.n * elem;
    a.m = static_cast<int>(std::min<int64_t>(16, m - m0));
    if (!detail::fp8LaunchDecode(a, stream, error))
      return false;
  }
  return true;
}

} // namespace hfq::cuda
