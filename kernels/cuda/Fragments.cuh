//===- Fragments.cuh - shared device pieces of the weight-only kernels -----===//
//
// What the two main loops (WeightOnly.cu: shared-memory staged, x as the mma
// A operand; Decode.cu: register streamed, the weight as the A operand)
// share: the 16-bit conversions, the mma.m16n8k16 wrappers, and the
// unpacking of one lane's codes (kernels/repack/KernelLayout.h) into the
// exact 16-bit operands q + magic.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_FRAGMENTS_CUH
#define HFQ_KERNELS_CUDA_FRAGMENTS_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

namespace hfq::cuda::frag {

constexpr int kStepsPerBlock = 8; // K-steps of 16 in one P-block (128 K)

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

/// The bias a code carries as an mma operand (KernelLayout.h's kernelMagic).
template <typename T, int BITS> __device__ __forceinline__ float magicOf() {
  if constexpr (std::is_same_v<T, __half>)
    return 1024.0f;
  else
    return BITS == 4 ? 128.0f : 384.0f;
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
/// 4-bit: one lop3 (and a shift) per pair. 8-bit fp16: one byte_perm per
/// pair (bytes are stored k0, k2, k1, k3). 8-bit bf16 (eight mantissa bits
/// cannot hold 128 + q): two operands, 128 + low nibble and 256 + 16 * high
/// nibble, both exact, multiplied into the same accumulator.
template <typename T, int BITS>
__device__ __forceinline__ void codesOfBlock(const uint4 (&wq)[BITS == 4 ? 1 : 2],
                                             int j, uint32_t (&b)[BITS == 8 && !std::is_same_v<T, __half> ? 4 : 2]) {
  if constexpr (BITS == 4) {
    const uint32_t word = wordOf(wq[0], j / 2);
    const int p0 = (j & 1) ? 2 : 0;
    b[0] = andOr(word >> (4 * p0), 0x000F000Fu, kMagic4Pair<T>);
    b[1] = andOr(word >> (4 * p0 + 4), 0x000F000Fu, kMagic4Pair<T>);
  } else if constexpr (std::is_same_v<T, __half>) {
    const uint32_t word = wordOf(wq[j / 4], j % 4);
    b[0] = __byte_perm(word, 0x64646464u, 0x4240u);
    b[1] = __byte_perm(word, 0x64646464u, 0x4341u);
  } else {
    const uint32_t word = wordOf(wq[j / 4], j % 4);
    b[0] = andOr(word, 0x000F000Fu, 0x43004300u);
    b[1] = andOr(word >> 8, 0x000F000Fu, 0x43004300u);
    b[2] = andOr(word >> 1, 0x00780078u, 0x43804380u);
    b[3] = andOr(word >> 9, 0x00780078u, 0x43804380u);
  }
}

} // namespace hfq::cuda::frag

#endif // HFQ_KERNELS_CUDA_FRAGMENTS_CUH
