//===- Bnb4.cu - host API of the bitsandbytes 4-bit kernels ---------------===//
//
// The host side of Bnb4.h: the device-resident weight (the checkpoint's
// bytes, uploaded as they are), the path choice and bnb4Linear. No kernel
// lives here (Bnb4Decode.cu, Bnb4Dequant.cu).
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Bnb4.h"
#include "kernels/cuda/Internal.h"

#include <cuda_runtime.h>

#include <algorithm>

namespace hfq::cuda {

bool Bnb4Weight::upload(const kernels::Bnb4Operands &op, int64_t rows,
                        int64_t cols, ActType activations, std::string &error) {
  release();
  act = activations;
  nf4 = op.params.type == kernels::Bnb4Type::NF4;
  nested = op.params.doubleQuant;
  n = rows;
  k = cols;
  blocksize = op.params.blocksize;
  nestedBlocksize = op.params.nestedBlocksize;
  nestedOffset = op.params.nestedOffset;
  const size_t codeBytes = static_cast<size_t>((n * k + 1) / 2);
  auto put = [&](void *&dst, const void *src, size_t bytes, size_t padded) {
    HFQ_CUDA_TRY(cudaMalloc(&dst, padded));
    if (padded > bytes)
      HFQ_CUDA_TRY(cudaMemset(dst, 0, padded));
    HFQ_CUDA_TRY(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
    return true;
  };
  const size_t absmaxBytes = static_cast<size_t>(blocks()) * (nested ? 1 : 4);
  void *nestedAbsmaxBuffer = nullptr, *nestedMapBuffer = nullptr;
  // Codes padded to a whole 16 bytes: the kernels read whole vectors.
  bool ok = put(codes, op.weight.data, codeBytes, (codeBytes + 15) / 16 * 16) &&
            put(absmax, op.absmax.data, absmaxBytes, absmaxBytes);
  if (ok && nested) {
    const size_t nestedBytes =
        static_cast<size_t>(op.nestedAbsmax.numel()) * sizeof(float);
    ok = put(nestedAbsmaxBuffer, op.nestedAbsmax.data, nestedBytes,
             nestedBytes) &&
         put(nestedMapBuffer, op.nestedQuantMap.data, 256 * sizeof(float),
             256 * sizeof(float));
  }
  nestedAbsmax = static_cast<float *>(nestedAbsmaxBuffer);
  nestedQuantMap = static_cast<float *>(nestedMapBuffer);
  if (!ok)
    release();
  return ok;
}

void Bnb4Weight::release() {
  for (void *p : {codes, absmax, static_cast<void *>(nestedAbsmax),
                  static_cast<void *>(nestedQuantMap)})
    if (p)
      cudaFree(p);
  codes = absmax = nullptr;
  nestedAbsmax = nestedQuantMap = nullptr;
}

size_t Bnb4Weight::bytes() const {
  return static_cast<size_t>((n * k + 1) / 2) +
         static_cast<size_t>(blocks()) * (nested ? 1 : 4);
}

LinearPath chooseBnb4Path(const Bnb4Weight &w, int64_t m) {
  // The decode kernel reads the weight once for up to 64 rows of x (its
  // mma work grows with M); beyond that dequantize + cuBLAS. K % 32 != 0
  // (no real layer) has only the dequantize path.
  return w.k % 32 == 0 && m <= 64 ? LinearPath::Gemv : LinearPath::Dequant;
}

bool bnb4Linear(const Bnb4Weight &w, const void *x, const void *bias, void *y,
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
  LinearPath path =
      config.path == LinearPath::Auto ? chooseBnb4Path(w, m) : config.path;
  if (w.k % 32 != 0)
    path = LinearPath::Dequant;
  const size_t elem = 2;
  if (path == LinearPath::Dequant) {
    if (!detail::growBuffer(ws.scratch, ws.scratchBytes,
                            static_cast<size_t>(w.n) * w.k * elem, error) ||
        !detail::bnb4LaunchDequant(w, ws.scratch, stream, error))
      return false;
    return detail::denseLinear(w.act, ws.scratch, x, bias, y, m, w.n, w.k, ws,
                               stream, error);
  }
  // The decode kernel's 128-bit activation loads: an aligned copy of x
  // where it is not 16-byte aligned.
  if (reinterpret_cast<uintptr_t>(x) % 16 != 0) {
    const size_t bytes = static_cast<size_t>(m) * w.k * elem;
    if (!detail::growBuffer(ws.xperm, ws.xpermBytes, bytes, error))
      return false;
    HFQ_CUDA_TRY(
        cudaMemcpyAsync(ws.xperm, x, bytes, cudaMemcpyDeviceToDevice, stream));
    x = ws.xperm;
  }
  for (int64_t m0 = 0; m0 < m; m0 += 64) {
    const void *xc = static_cast<const char *>(x) + m0 * w.k * elem;
    void *yc = static_cast<char *>(y) + m0 * w.n * elem;
    if (!detail::bnb4DecodeLinear(
            w, xc, bias, yc, std::min<int64_t>(64, m - m0), ws, stream, error))
      return false;
  }
  return true;
}

bool bnb4DequantizeToDense(const Bnb4Weight &w, void *dense,
                           cudaStream_t stream, std::string &error) {
  if (!w.codes) {
    error = "the weight is not on the device";
    return false;
  }
  return detail::bnb4LaunchDequant(w, dense, stream, error);
}

} // namespace hfq::cuda
