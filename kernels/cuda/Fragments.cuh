//===- Fragments.cuh - shared device pieces of the weight-only kernels -----===//
//
// What the two main loops (Gemm.cu: shared-memory staged, x as the mma A
// operand; Decode.cu: register streamed, the weight as the A operand) share:
// the 16-bit conversions, the mma.m16n8k16 wrappers, the unpacking of one
// lane's codes (TileLayout.h) into the exact 16-bit operands q + magic, the
// per-group zero term of the fold, and the split-K epilogue's pieces.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_FRAGMENTS_CUH
#define HFQ_KERNELS_CUDA_FRAGMENTS_CUH

#include "kernels/cuda/TileLayout.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

namespace hfq::cuda::frag {

namespace tile = ::hfq::kernels::tile;
using tile::kStepsPerBlock; // K-steps of 16 in one P-block (128 K)

/// Two 4-bit codes OR-ed into this pair become q + 1024 (fp16) or
/// q + 128 (bf16), exactly.
template <typename T> constexpr uint32_t kMagic4Pair =
    std::is_same_v<T, __half> ? 0x64006400u : 0x43004300u;

template <typename T> __device__ __forceinline__ float toFloat(T v);
template <> __device__ __forceinline__ float toFloat(__half v) {
  return __half2float(v);
}
template <> __device__ __forceinline__ float toFloat(__nv_bfloat16 v) {
  return __bfloat162float(v);
}
template <typename T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ __half fromFloat(float v) {
  return __float2half_rn(v);
}
template <> __device__ __forceinline__ __nv_bfloat16 fromFloat(float v) {
  return __float2bfloat16_rn(v);
}

__device__ __forceinline__ uint32_t andOr(uint32_t a, uint32_t mask,
                                          uint32_t bits) {
  uint32_t r;
  asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(r) : "r"(a), "r"(mask), "r"(bits));
  return r;
}

/// A 16-byte read of data used once: L1 bypassed; with L2_256 the L2 also
/// fetches the rest of the 256-byte block (the decode loop's code stream;
/// the dequantize kernel was measured without it).
template <bool L2_256 = true> __device__ __forceinline__ uint4 loadStreaming(const uint4 *p) {
  uint4 v;
  if constexpr (L2_256)
    asm volatile("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
  else
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
  return v;
}

template <typename T>
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4],
                                         uint32_t b0, uint32_t b1);
template <>
__device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&c)[4],
                                                        const uint32_t (&a)[4],
                                                        uint32_t b0,
                                                        uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void mma16816<__half>(float (&c)[4],
                                                 const uint32_t (&a)[4],
                                                 uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// Zero kinds as template values (ZeroKind is a host enum class).
enum : int { kSym = 0, kInt = 1, kOff = 2 };

/// The bias a code carries as an mma operand (TileLayout.h's magic).
template <typename T, int BITS> __device__ __forceinline__ float magicOf() {
  return static_cast<float>(tile::magic(std::is_same_v<T, __half>, BITS));
}

template <typename T> __device__ __forceinline__ uint32_t onesPair() {
  if constexpr (std::is_same_v<T, __half>)
    return 0x3C003C00u;
  else
    return 0x3F803F80u;
}

template <typename T> __device__ __forceinline__ float half16ToFloat(uint32_t bits16) {
  if constexpr (std::is_same_v<T, __half>)
    return __half2float(__ushort_as_half(static_cast<unsigned short>(bits16)));
  else
    return __uint_as_float(bits16 << 16);
}

__device__ __forceinline__ uint32_t wordOf(const uint4 &v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

/// The B fragments of block j at one step: code + magic, exact in 16 bits.
/// A pair of K offsets sits 16 bits apart in one word (TileLayout.h), so
/// one shift and one mask take it. 4-bit: one lop3 (and a shift) per pair.
/// 8-bit fp16: one byte_perm per pair. 8-bit bf16 (eight mantissa bits
/// cannot hold 128 + q): two operands, 128 + low nibble and 256 + 16 * high
/// nibble, both exact, multiplied into the same accumulator.
template <typename T, int BITS>
__device__ __forceinline__ void codesOfBlock(const uint4 (&wq)[BITS == 4 ? 1 : 2],
                                             int j, uint32_t (&b)[BITS == 8 && !std::is_same_v<T, __half> ? 4 : 2]) {
  using Codes = tile::Codes<BITS>;
  const uint32_t word = wordOf(wq[Codes::vecOf(j)], Codes::wordOf(j));
  const int s0 = Codes::shiftOf(j, 0), s1 = Codes::shiftOf(j, 2); // pairs 0 and 1
  if constexpr (BITS == 4) {
    b[0] = andOr(word >> s0, 0x000F000Fu, kMagic4Pair<T>);
    b[1] = andOr(word >> s1, 0x000F000Fu, kMagic4Pair<T>);
  } else if constexpr (std::is_same_v<T, __half>) {
    // Bytes s / 8 and s / 8 + 2 of the word, each under a 0x64 byte: the
    // fp16 value 1024 + q.
    b[0] = __byte_perm(word, 0x64646464u, 0x4040u | s0 / 8 | (s0 / 8 + 2) << 8);
    b[1] = __byte_perm(word, 0x64646464u, 0x4040u | s1 / 8 | (s1 / 8 + 2) << 8);
  } else {
    b[0] = andOr(word >> s0, 0x000F000Fu, 0x43004300u);
    b[1] = andOr(word >> s1, 0x000F000Fu, 0x43004300u);
    b[2] = andOr(word >> (s0 + 1), 0x00780078u, 0x43804380u);
    b[3] = andOr(word >> (s1 + 1), 0x00780078u, 0x43804380u);
  }
}

/// The per-group term b of the fold y += s * sum x (q + magic) + b * sum x:
/// -s (z + magic) for integer zeros (z = 2^(BITS-1), implicit, when
/// symmetric: `z` is not read), o - s * magic for float offsets (z = o).
template <typename T, int BITS, int ZK>
__device__ __forceinline__ float zeroTerm(float s, float z) {
  if constexpr (ZK == kSym)
    return -s * (magicOf<T, BITS>() + (1 << (BITS - 1)));
  else if constexpr (ZK == kInt)
    return -s * (z + magicOf<T, BITS>());
  else
    return z - s * magicOf<T, BITS>();
}

/// y[row, col] = v (+ bias[col]), rounded to T.
template <typename T>
__device__ __forceinline__ void storeY(T *y, int n, const T *bias, int row, int col, float v) {
  if (bias)
    v += toFloat(bias[col]);
  y[static_cast<size_t>(row) * n + col] = fromFloat<T>(v);
}

/// Split K's end, called by every thread of a block once it has added its
/// partials: whether this block is the last of p.splitK to arrive at
/// p.counters[counter] (the others' partials are then visible to it).
/// `lastBlock` is the kernel's own __shared__ flag.
template <typename P>
__device__ __forceinline__ bool lastSplit(const P &p, int counter, int &lastBlock) {
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0)
    lastBlock = atomicAdd(p.counters + counter, 1) == p.splitK - 1;
  __syncthreads();
  if (!lastBlock)
    return false;
  __threadfence();
  return true;
}

/// The f32 accumulator's sum at (row, col), leaving zero there for the next
/// launch.
__device__ __forceinline__ float takePartial(float *partials, int np, int row, int col) {
  float *src = partials + static_cast<size_t>(row) * np + col;
  const float v = __ldcg(src);
  __stcg(src, 0.0f);
  return v;
}

} // namespace hfq::cuda::frag

#endif // HFQ_KERNELS_CUDA_FRAGMENTS_CUH
