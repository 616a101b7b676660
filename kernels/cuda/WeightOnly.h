//===- WeightOnly.h - W4A16 / W8A16 linear on the GPU -----------*- C++ -*-===//
//
// Host API of the weight-only integer kernels (WeightOnly.cu; each path's
// kernel is a file of its own: Decode.cu, Gemm.cu, Dequant.cu). A weight is
// repacked once at load (kernels/repack: checkpoint -> QuantWeight ->
// KernelWeight) and uploaded (DeviceWeight::upload); every forward is then
//
//   y[M, N] = x[M, K] · W[N, K]ᵀ (+ bias),  x, y, bias in fp16 or bf16
//
// through one of three paths:
//   Gemv    the decode loop (Decode.cu), M <= 16 per launch: the weight is
//           the mma A operand, its codes stream from HBM straight into a
//           register ring, no shared memory or barrier in the loop; the
//           warps of a block split K and reduce in shared memory, blocks
//           may split K further (f32 atomics: then the last bits of y can
//           depend on the order the splits finish);
//   Gemm    the shared-memory loop (Gemm.cu): activations as the A
//           operand, 1 or 2 m16 tiles per warp, codes and activations
//           staged with cp.async; for 16 < M <= 64;
//   Dequant dequantize W to a 16-bit [N, K] scratch once (at HBM speed),
//           then cuBLAS (Dequant.cu): for prefill (large M), where the
//           GEMM is compute-bound;
//   Wgmma   Hopper only (Wgmma.cu): the weight dequantized in registers as
//           wgmma's A operand, x through TMA, warp-specialized, persistent;
//           any M. Needs its own layout on the device (uploadWgmma). Not
//           chosen by Auto until measured (kernels/cuda/NOTES.md, "Wave
//           2a"): tests and the benchmark force it.
// Path::Auto picks by M (see chooseLinearPath).
//
// All functions return false with a message instead of failing silently;
// every CUDA call and launch is checked.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_WEIGHTONLY_H
#define HFQ_KERNELS_CUDA_WEIGHTONLY_H

#include "kernels/repack/KernelLayout.h"

#include <cstdint>
#include <string>

typedef struct CUstream_st *cudaStream_t;

namespace hfq::kernels {
struct WgmmaWeight; // kernels/repack/WgmmaRepack.h
}

namespace hfq::cuda {

using kernels::ActType;
using kernels::KernelWeight;
using kernels::ZeroKind;

/// A KernelWeight resident on the device.
struct DeviceWeight {
  ActType act = ActType::BF16;
  int bits = 4;
  int64_t n = 0, k = 0, np = 0, kp = 0, groupSize = 0;
  ZeroKind zeroKind = ZeroKind::Symmetric;
  void *q = nullptr;
  void *scales = nullptr;
  void *zeros = nullptr;
  int32_t *perm = nullptr;
  // The Wgmma path's copy of the codes, scales and zeros (WgmmaLayout.h),
  // null until uploadWgmma.
  void *wgmmaQ = nullptr;
  void *wgmmaScales = nullptr;
  void *wgmmaZeros = nullptr;

  bool upload(const KernelWeight &kw, std::string &error);
  /// Adds the Wgmma path's layout of the same weight (`kw` as uploaded),
  /// or of that weight already re-laid (packForWgmma, once for many copies).
  bool uploadWgmma(const KernelWeight &kw, std::string &error);
  bool uploadWgmma(const kernels::WgmmaWeight &ww, std::string &error);
  void release();
  void releaseWgmma();
  size_t bytes() const; // device bytes a forward streams (codes + groups)
};

enum class LinearPath { Auto, Gemv, Gemm, Dequant, Wgmma };
const char *linearPathName(LinearPath path);

/// Tuning knobs; zero means "choose" (the benchmark sweeps them).
struct LaunchConfig {
  LinearPath path = LinearPath::Auto;
  int splitK = 0; // (Wgmma: 0 is whole tiles or stream-K, chosen per shape)
  int warpsN = 0; // warps per block (Gemv: 1, 2, 4 or 8 on one tile, splitting
                  // K; Gemm: 4 or 8, each on its own 64-column tile)
  int mTiles = 0; // m16 tiles per warp on the Gemm path (1 or 2)
};

/// Scratch a forward needs (split-K partials, counters, the dequantized
/// weight of the Dequant path, a cuBLAS handle); grows on demand, reused
/// across calls on one stream.
struct Workspace {
  void *partials = nullptr;
  size_t partialsBytes = 0;
  int *counters = nullptr;
  size_t counterCount = 0;
  void *scratch = nullptr;
  size_t scratchBytes = 0;
  void *xperm = nullptr;
  size_t xpermBytes = 0;
  void *cublas = nullptr;

  void release();
};

/// The path Auto takes for M rows.
LinearPath chooseLinearPath(const DeviceWeight &w, int64_t m);

/// y = x·Wᵀ (+ bias): device pointers, row-major, `bias` may be null.
bool linear(const DeviceWeight &w, const void *x, const void *bias, void *y,
            int64_t m, Workspace &ws, cudaStream_t stream,
            const LaunchConfig &config, std::string &error);

/// Writes the dequantized weight as a 16-bit row-major [N, K] matrix in
/// original K order (the Dequant path's first half; also tested alone).
bool dequantizeToDense(const DeviceWeight &w, void *dense, cudaStream_t stream,
                       std::string &error);

/// Whether a CUDA device is usable; `why` says why not.
bool deviceAvailable(std::string &why);

} // namespace hfq::cuda

#endif // HFQ_KERNELS_CUDA_WEIGHTONLY_H
