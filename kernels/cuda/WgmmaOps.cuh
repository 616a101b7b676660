//===- WgmmaOps.cuh - Hopper PTX wrappers of the wgmma path ---------------===//
//
// The sm_90a instructions Wgmma.cu is built from, each one inline-PTX
// function: mbarriers (init, arrive, expect-tx, try_wait.parity), the copy
// engine (cp.async.bulk.tensor for the activations' tiles, plain
// cp.async.bulk for the weight's contiguous blocks), wgmma.mma_async
// m64nNk16 with A from registers (N = 16 … 256, bf16 and fp16), named
// barriers and setmaxnreg. The wgmma ordering instructions, the operand
// fence and the 128-byte-swizzle descriptor are Sm90Async.cuh's (shared
// with Fp8Gemm.cu).
// Only compiled into sm_90a code (HFQ_WGMMA_ARCH); the sm_80 build never
// sees them.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_WGMMAOPS_CUH
#define HFQ_KERNELS_CUDA_WGMMAOPS_CUH

#include "kernels/cuda/Sm90Async.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

// The feature macro of sm_90a (wgmma and setmaxnreg are not in plain sm_90).
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define HFQ_WGMMA_ARCH 1
#else
#define HFQ_WGMMA_ARCH 0
#endif

namespace hfq::cuda::wgmma_ops {

#if HFQ_WGMMA_ARCH

// --- mbarriers -------------------------------------------------------------

__device__ __forceinline__ void mbarInit(uint64_t *bar, uint32_t count) {
  asm volatile(
      "mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(sm90::sharedAddress(bar)),
      "r"(count)
      : "memory");
}

/// Makes the barriers' initialization visible to the copy engine.
__device__ __forceinline__ void fenceBarrierInit() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

__device__ __forceinline__ void mbarArrive(uint64_t *bar) {
  asm volatile(
      "mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(sm90::sharedAddress(bar))
      : "memory");
}

/// Arrives and announces `bytes` the copy engine will complete on `bar`.
__device__ __forceinline__ void mbarArriveExpectTx(uint64_t *bar,
                                                   uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(
                   sm90::sharedAddress(bar)),
               "r"(bytes)
               : "memory");
}

/// Waits until the phase of parity `parity` of `bar` has completed.
__device__ __forceinline__ void mbarWait(uint64_t *bar, uint32_t parity) {
  asm volatile("{\n"
               ".reg .pred done;\n"
               "WAIT_%=:\n"
               "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
               "@!done bra WAIT_%=;\n"
               "}" ::"r"(sm90::sharedAddress(bar)),
               "r"(parity)
               : "memory");
}

// --- the copy engine -------------------------------------------------------

/// A 2-D tile of the tensor map (inner coordinate c0, outer c1) into shared
/// memory, completing on `bar`; elements out of bounds arrive as zeros.
__device__ __forceinline__ void tmaLoad2d(void *dst, const void *map, int c0,
                                          int c1, uint64_t *bar) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::"
               "complete_tx::bytes "
               "[%0], [%1, {%2, %3}], [%4];" ::"r"(sm90::sharedAddress(dst)),
               "l"(map), "r"(c0), "r"(c1), "r"(sm90::sharedAddress(bar))
               : "memory");
}

/// `bytes` (a multiple of 16, both addresses 16-byte aligned) from global
/// to shared memory, completing on `bar`.
__device__ __forceinline__ void bulkLoad(void *dst, const void *src,
                                         uint32_t bytes, uint64_t *bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes "
      "[%0], [%1], %2, [%3];" ::"r"(sm90::sharedAddress(dst)),
      "l"(src), "r"(bytes), "r"(sm90::sharedAddress(bar))
      : "memory");
}

__device__ __forceinline__ void prefetchTensorMap(const void *map) {
  asm volatile("prefetch.tensormap [%0];" ::"l"(map) : "memory");
}

// --- warpgroups ------------------------------------------------------------

template <int REGS> __device__ __forceinline__ void raiseRegisters() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(REGS));
}
template <int REGS> __device__ __forceinline__ void lowerRegisters() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(REGS));
}

/// bar.sync on named barrier `id` (1 … 15) among `threads` threads.
__device__ __forceinline__ void namedBarrier(int id, int threads) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

// --- wgmma -----------------------------------------------------------------

/// D[64 x N] += A[64 x 16] (registers) · B[16 x N] (shared memory, K-major,
/// the descriptor's), f32 accumulators: d[4 j + c] is row 16 w + r +
/// 8 (c / 2), column 8 j + 2 t + c % 2 for warp w of the warpgroup.
template <typename T, int N> struct MmaRS;
#define HFQ_MMA_RS_16(T, TY)                                                   \
template <> struct MmaRS<T, 16> {                                              \
  __device__ __forceinline__ static void                                       \
  run(float (&d)[8], const uint32_t (&a)[4], uint64_t desc) {                  \
    asm volatile("wgmma.mma_async.sync.aligned.m64n16k16.f32." TY "." TY " "   \
                 "{%0, %1, %2, %3, %4, %5, %6, %7}, "                          \
                 "{%8, %9, %10, %11}, %12, 1, 1, 1, 0;"                        \
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), \
                   "+f"(d[5]), "+f"(d[6]), "+f"(d[7])                          \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));     \
  }                                                                            \
};
HFQ_MMA_RS_16(__nv_bfloat16, "bf16")
HFQ_MMA_RS_16(__half, "f16")
#undef HFQ_MMA_RS_16
#define HFQ_MMA_RS_32(T, TY)                                                     \
template <> struct MmaRS<T, 32> {                                                \
  __device__ __forceinline__ static void                                         \
  run(float (&d)[16], const uint32_t (&a)[4], uint64_t desc) {                   \
    asm volatile("wgmma.mma_async.sync.aligned.m64n32k16.f32." TY "." TY " "     \
                 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, " \
                 "%14, %15}, "                                                   \
                 "{%16, %17, %18, %19}, %20, 1, 1, 1, 0;"                        \
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]),   \
                   "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]),   \
                   "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),           \
                   "+f"(d[14]), "+f"(d[15])                                      \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));       \
  }                                                                              \
};
HFQ_MMA_RS_32(__nv_bfloat16, "bf16")
HFQ_MMA_RS_32(__half, "f16")
#undef HFQ_MMA_RS_32
#define HFQ_MMA_RS_64(T, TY)                                                     \
template <> struct MmaRS<T, 64> {                                                \
  __device__ __forceinline__ static void                                         \
  run(float (&d)[32], const uint32_t (&a)[4], uint64_t desc) {                   \
    asm volatile("wgmma.mma_async.sync.aligned.m64n64k16.f32." TY "." TY " "     \
                 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, " \
                 "%14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, "  \
                 "%26, %27, %28, %29, %30, %31}, "                               \
                 "{%32, %33, %34, %35}, %36, 1, 1, 1, 0;"                        \
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]),   \
                   "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]),   \
                   "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]),           \
                   "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]),           \
                   "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]),           \
                   "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]),           \
                   "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),           \
                   "+f"(d[30]), "+f"(d[31])                                      \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));       \
  }                                                                              \
};
HFQ_MMA_RS_64(__nv_bfloat16, "bf16")
HFQ_MMA_RS_64(__half, "f16")
#undef HFQ_MMA_RS_64
#define HFQ_MMA_RS_128(T, TY)                                                    \
template <> struct MmaRS<T, 128> {                                               \
  __device__ __forceinline__ static void                                         \
  run(float (&d)[64], const uint32_t (&a)[4], uint64_t desc) {                   \
    asm volatile(                                                                \
        "wgmma.mma_async.sync.aligned.m64n128k16.f32." TY "." TY " "             \
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, "     \
        "%15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, " \
        "%29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, " \
        "%43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, " \
        "%57, %58, %59, %60, %61, %62, %63}, "                                   \
        "{%64, %65, %66, %67}, %68, 1, 1, 1, 0;"                                 \
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]),            \
          "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]),            \
          "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]),       \
          "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]),       \
          "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]),       \
          "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),       \
          "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),       \
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),       \
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]),       \
          "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]),       \
          "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]),       \
          "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]),       \
          "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])                     \
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));                \
  }                                                                              \
};
HFQ_MMA_RS_128(__nv_bfloat16, "bf16")
HFQ_MMA_RS_128(__half, "f16")
#undef HFQ_MMA_RS_128
#define HFQ_MMA_RS_256(T, TY)                                                    \
template <> struct MmaRS<T, 256> {                                               \
  __device__ __forceinline__ static void                                         \
  run(float (&d)[128], const uint32_t (&a)[4], uint64_t desc) {                  \
    asm volatile(                                                                \
        "wgmma.mma_async.sync.aligned.m64n256k16.f32." TY "." TY " "             \
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, "     \
        "%15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, " \
        "%29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, " \
        "%43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, " \
        "%57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, " \
        "%71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, " \
        "%85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, " \
        "%99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, "      \
        "%110, %111, %112, %113, %114, %115, %116, %117, %118, %119, %120, "     \
        "%121, %122, %123, %124, %125, %126, %127}, "                            \
        "{%128, %129, %130, %131}, %132, 1, 1, 1, 0;"                            \
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]),            \
          "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]),            \
          "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]),       \
          "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]),       \
          "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]),       \
          "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),       \
          "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]),       \
          "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),       \
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]),       \
          "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]),       \
          "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]),       \
          "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]),       \
          "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]),       \
          "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]),       \
          "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]),       \
          "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),       \
          "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]),       \
          "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]),       \
          "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]),       \
          "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]),       \
          "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]),  \
          "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]),  \
          "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]), "+f"(d[114]),  \
          "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),  \
          "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]),  \
          "+f"(d[125]), "+f"(d[126]), "+f"(d[127])                               \
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));                \
  }                                                                              \
};
HFQ_MMA_RS_256(__nv_bfloat16, "bf16")
HFQ_MMA_RS_256(__half, "f16")
#undef HFQ_MMA_RS_256

#endif // HFQ_WGMMA_ARCH

} // namespace hfq::cuda::wgmma_ops

#endif // HFQ_KERNELS_CUDA_WGMMAOPS_CUH
