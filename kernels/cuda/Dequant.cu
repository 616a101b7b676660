//===- Dequant.cu - the prefill path: dequantize W, then cuBLAS ------------===//
//
// LinearPath::Dequant (large M, where the GEMM is compute-bound): the
// weight is dequantized once into a 16-bit [N, K] scratch (dequantKernel)
// and cuBLAS does the GEMM (detail::dequantLinear); dequantizeToDense runs
// the kernel alone. Beside it, the two element-wise kernels that path needs:
// the act-order gather of x's columns (gatherColumns, which the decode loop
// uses too, for its permuted or aligned copy) and the bias broadcast that
// cuBLAS's beta = 1 then adds to.
//
// The layout trick is on the write side: a warp dequantizes one 64-column x
// 128-deep tile into its own shared-memory tile (8-byte stores, K-major per
// column, padded rows: no bank conflicts), then streams it out as whole
// 256-byte row segments (16-byte stores, full cache lines), so the write
// runs at HBM speed (NOTES.md: ~590 -> ~130 us on 28672 x 8192).
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Dispatch.cuh"
#include "kernels/cuda/Fragments.cuh"
#include "kernels/cuda/Internal.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>

namespace hfq::cuda {

namespace {
using namespace frag;
using detail::Params;
using tile::Codes;
using tile::Groups;

/// Dequantize one 64-column tile x 128-deep P-block per warp into a dense
/// [N, K] matrix (kernel K order, or original order through perm), in f32
/// and rounded once: w = s * (q - z) or q * s + o. The warp reads its 4 KB
/// of codes at once, writes the 64 x 128 tile into its own shared-memory
/// tile, then streams it out as whole 256-byte row segments.
constexpr int kDequantRow = 128 + 8; // elements per tile row (padded: no bank conflicts)

template <typename T, int BITS, int ZK>
__global__ void __launch_bounds__(128) dequantKernel(const Params p, T *dense, bool originalOrder) {
  constexpr int U = Codes<BITS>::kVecsPerLane;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t = lane & 3, r = lane >> 2;
  const int nt = blockIdx.x * 4 + warp, pb = blockIdx.y;
  if (nt >= p.ntiles)
    return;
  extern __shared__ uint4 dequantSmem[];
  T *tile = reinterpret_cast<T *>(dequantSmem) + warp * 64 * kDequantRow;
  const uint4 *qTile = p.q + Codes<BITS>::template block<size_t>(pb, nt, p.ntiles) + lane;
  const unsigned short *scales = reinterpret_cast<const unsigned short *>(p.scales);
  const unsigned short *zeros = reinterpret_cast<const unsigned short *>(p.zeros);
  uint4 wq[kStepsPerBlock][U];
#pragma unroll
  for (int i = 0; i < kStepsPerBlock; ++i)
#pragma unroll
    for (int h = 0; h < U; ++h)
      wq[i][h] = loadStreaming<false>(qTile + Codes<BITS>::step(i, h));
  float s[8], b[8]; // w = q * s + b for column 8 j + r of the current group
  int groupLoaded = -1;
#pragma unroll
  for (int i = 0; i < kStepsPerBlock; ++i) {
    const int g = (pb * kStepsPerBlock + i) * 16 / p.groupSize;
    if (g != groupLoaded) {
      groupLoaded = g;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        // Column 8 j + r of the tile sits at [t' = r / 2][j][e = r % 2]:
        // Groups::entry(g, nt, ntiles, r / 2, j, r % 2), spelled out here
        // (through the call the scale addresses compile to other code; the
        // PTX was compared).
        const size_t at =
            ((static_cast<size_t>(g) * p.ntiles + nt) * 4 + r / 2) * 16 + j * 2 + r % 2;
        s[j] = half16ToFloat<T>(__ldg(scales + at));
        const float z =
            ZK == kSym ? static_cast<float>(1 << (BITS - 1)) : half16ToFloat<T>(__ldg(zeros + at));
        b[j] = ZK == kOff ? z : -s[j] * z;
      }
    }
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      float w[4];
#pragma unroll
      for (int off = 0; off < 4; ++off) {
        const uint32_t code = (wordOf(wq[i][Codes<BITS>::vecOf(j)], Codes<BITS>::wordOf(j)) >>
                               Codes<BITS>::shiftOf(j, off)) &
                              Codes<BITS>::kMask;
        w[off] = fmaf(static_cast<float>(code), s[j], b[j]);
      }
      const T v[4] = {fromFloat<T>(w[0]), fromFloat<T>(w[1]), fromFloat<T>(w[2]),
                      fromFloat<T>(w[3])};
      *reinterpret_cast<uint2 *>(tile + (j * 8 + r) * kDequantRow + i * 16 + 4 * t) =
          *reinterpret_cast<const uint2 *>(v);
    }
  }
  __syncwarp();
  const int k0 = pb * kStepsPerBlock * 16;
  if (originalOrder && p.perm) {
    // dequantizeToDense with act order: scattered to the original K index.
    for (int e = lane; e < 64 * 128; e += 32) {
      const int row = e >> 7, kk = k0 + (e & 127), n = nt * 64 + row;
      if (n < p.n && kk < p.k)
        dense[static_cast<size_t>(n) * p.k + p.perm[kk]] = tile[row * kDequantRow + (e & 127)];
    }
    return;
  }
  // Two rows per pass: lanes 0-15 and 16-31 each write 16 x 16 bytes.
#pragma unroll 4
  for (int pass = 0; pass < 32; ++pass) {
    const int row = pass * 2 + (lane >> 4), chunk = lane & 15;
    const int n = nt * 64 + row, kk = k0 + chunk * 8;
    if (n < p.n && kk < p.k) // K % 8 == 0: a chunk is in or out whole
      *reinterpret_cast<uint4 *>(dense + static_cast<size_t>(n) * p.k + kk) =
          *reinterpret_cast<const uint4 *>(tile + row * kDequantRow + chunk * 8);
  }
}

/// out[:, j] = x[:, perm[j]] (act order; perm null: x[:, j]) for j < width,
/// zero where the source index is past K: the Dequant path's x[:, perm]
/// (width K) and the decode loop's permuted or aligned copy (width Kp).
template <typename T>
__global__ void gatherColumns(const T *x, const int *perm, T *out, int m, int k, int width) {
  const size_t total = static_cast<size_t>(m) * width;
  for (size_t e = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t row = e / width;
    const int col = static_cast<int>(e % width);
    const int from = perm ? perm[col] : col;
    out[e] = from < k ? x[row * k + from] : fromFloat<T>(0.0f);
  }
}

template <typename T> __global__ void broadcastBiasKernel(const T *bias, T *y, int m, int n) {
  const size_t total = static_cast<size_t>(m) * n;
  for (size_t e = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<size_t>(gridDim.x) * blockDim.x)
    y[e] = bias[e % n];
}

/// Grid-stride launches of the element-wise kernels: at most 65536 blocks.
int elementBlocks(int64_t elements) {
  return static_cast<int>(std::min<int64_t>((elements + 255) / 256, 65536));
}

const char *cublasName(cublasStatus_t s) {
  switch (s) {
  case CUBLAS_STATUS_SUCCESS: return "success";
  case CUBLAS_STATUS_NOT_INITIALIZED: return "not initialized";
  case CUBLAS_STATUS_ALLOC_FAILED: return "allocation failed";
  case CUBLAS_STATUS_INVALID_VALUE: return "invalid value";
  case CUBLAS_STATUS_ARCH_MISMATCH: return "architecture mismatch";
  case CUBLAS_STATUS_EXECUTION_FAILED: return "execution failed";
  case CUBLAS_STATUS_NOT_SUPPORTED: return "not supported";
  default: return "error";
  }
}

} // namespace

bool detail::launchDequant(const DeviceWeight &w, void *dense, bool originalOrder,
                           cudaStream_t stream, std::string &error) {
  Params p = makeParams(w, nullptr, nullptr, nullptr, 0);
  dim3 grid((p.ntiles + 3) / 4, p.pblocks);
  constexpr size_t kDequantSmem = 4 * 64 * kDequantRow * 2;
  return dispatch::onWeight(w, [&](auto type, auto bits, auto zk) {
    using T = typename decltype(type)::type;
    auto fn = dequantKernel<T, bits, zk>;
    if (!allowSharedMemory(reinterpret_cast<const void *>(fn), kDequantSmem, error))
      return false;
    fn<<<grid, 128, kDequantSmem, stream>>>(p, static_cast<T *>(dense), originalOrder);
    HFQ_LAUNCH_CHECK("the dequantize kernel");
    return true;
  });
}

bool detail::gatherActivations(const DeviceWeight &w, const void *x, int64_t m, int64_t width,
                               void *out, cudaStream_t stream, std::string &error) {
  return dispatch::onAct(w.act, [&](auto type) {
    using T = typename decltype(type)::type;
    gatherColumns<<<elementBlocks(m * width), 256, 0, stream>>>(
        static_cast<const T *>(x), w.perm, static_cast<T *>(out), static_cast<int>(m),
        static_cast<int>(w.k), static_cast<int>(width));
    HFQ_LAUNCH_CHECK("the activation copy");
    return true;
  });
}

bool detail::dequantLinear(const DeviceWeight &w, const void *x, const void *bias, void *y,
                           int64_t m, Workspace &ws, cudaStream_t stream, std::string &error) {
  const size_t elem = 2;
  if (!growBuffer(ws.scratch, ws.scratchBytes, static_cast<size_t>(w.n) * w.k * elem, error))
    return false;
  if (!launchDequant(w, ws.scratch, /*originalOrder=*/false, stream, error))
    return false;
  const void *xin = x;
  if (w.perm) {
    if (!growBuffer(ws.xperm, ws.xpermBytes, static_cast<size_t>(m) * w.k * elem, error))
      return false;
    if (!gatherActivations(w, x, m, w.k, ws.xperm, stream, error))
      return false;
    xin = ws.xperm;
  }
  return denseLinear(w.act, ws.scratch, xin, bias, y, m, w.n, w.k, ws, stream, error);
}

bool detail::denseLinear(ActType act, const void *dense, const void *x, const void *bias, void *y,
                         int64_t m, int64_t n, int64_t k, Workspace &ws, cudaStream_t stream,
                         std::string &error) {
  float beta = 0.0f;
  if (bias) {
    const bool launched = dispatch::onAct(act, [&](auto type) {
      using T = typename decltype(type)::type;
      broadcastBiasKernel<<<elementBlocks(m * n), 256, 0, stream>>>(
          static_cast<const T *>(bias), static_cast<T *>(y), static_cast<int>(m),
          static_cast<int>(n));
      HFQ_LAUNCH_CHECK("the bias broadcast");
      return true;
    });
    if (!launched)
      return false;
    beta = 1.0f;
  }
  if (!ws.cublas) {
    cublasHandle_t handle;
    cublasStatus_t s = cublasCreate(&handle);
    if (s != CUBLAS_STATUS_SUCCESS) {
      error = std::string("cublasCreate failed: ") + cublasName(s);
      return false;
    }
    ws.cublas = handle;
  }
  auto handle = static_cast<cublasHandle_t>(ws.cublas);
  cublasStatus_t s = cublasSetStream(handle, stream);
  const float alpha = 1.0f;
  cudaDataType_t type = act == ActType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
  if (s == CUBLAS_STATUS_SUCCESS)
    s = cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                     static_cast<int>(k), &alpha, dense, type, static_cast<int>(k), x, type,
                     static_cast<int>(k), &beta, y, type, static_cast<int>(n),
                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (s != CUBLAS_STATUS_SUCCESS) {
    error = std::string("cublasGemmEx failed: ") + cublasName(s);
    return false;
  }
  return true;
}

} // namespace hfq::cuda
