//===- Sm90Async.cuh - Hopper wgmma and cp.async building blocks -*- CUDA
//-*-===//
//
// Device helpers for kernels that feed warpgroup MMAs (wgmma, sm_90a) from
// shared memory written by cp.async: the shared-memory matrix descriptor,
// the wgmma ordering instructions, the proxy fence, and cp.async with zero
// fill. The MMA instructions themselves stay in the kernel files (their
// shapes and types differ). First user: Fp8Gemm.cu.
//
// The descriptor here describes a K-major operand tile stored in 128-byte
// swizzled rows (what TMA's CU_TENSOR_MAP_SWIZZLE_128B writes, and what
// swizzled128() below addresses for cp.async): row r of the tile at byte
// 128 r, its 16-byte chunk c at chunk c ^ (r % 8), the tile 1024-byte
// aligned. Eight rows form one 1024-byte swizzle atom; atoms follow each
// other along M / N (the stride byte offset, 1024). A K-slice of 32 bytes
// inside the atom is addressed by adding its byte offset to the start
// address (the hardware applies the XOR to the final address bits, which is
// why the 1024-byte alignment matters).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_SM90ASYNC_CUH
#define HFQ_KERNELS_CUDA_SM90ASYNC_CUH

#include <cstdint>

namespace hfq::cuda::sm90 {

/// Byte offset of 16-byte chunk `chunk` of row `row` in a 128-byte-swizzled
/// tile.
__device__ __forceinline__ uint32_t swizzled128(int row, int chunk) {
  return static_cast<uint32_t>(row * 128 + ((chunk ^ (row & 7)) << 4));
}

/// The wgmma shared-memory descriptor of a K-major, 128-byte-swizzled tile
/// starting at shared address `smemAddr` (bits 0-13: address >> 4; 16-29:
/// leading byte offset >> 4, unused by swizzled K-major layouts, 1; 32-45:
/// stride byte offset >> 4, 1024 bytes between 8-row atoms; 62-63: swizzle
/// mode, 1 = 128 bytes).
__device__ __forceinline__ uint64_t descriptor128(uint32_t smemAddr) {
  uint64_t desc = 0;
  desc |= static_cast<uint64_t>((smemAddr & 0x3FFFF) >> 4);
  desc |= static_cast<uint64_t>(1) << 16;
  desc |= static_cast<uint64_t>(1024 >> 4) << 32;
  desc |= static_cast<uint64_t>(1) << 62;
  return desc;
}

__device__ __forceinline__ uint32_t sharedAddress(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

/// 16 bytes global -> shared, bypassing L1; `valid` false writes zeros (the
/// source is not read, but must still be a mapped address).
__device__ __forceinline__ void cpAsync16(uint32_t dst, const void *src,
                                          bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst),
               "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cpAsyncCommit() {
  asm volatile("cp.async.commit_group;");
}
template <int Pending> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(Pending));
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
/// Makes this thread's generic-proxy shared-memory writes (cp.async, st.shared)
/// visible to the async proxy (wgmma operand reads); before the barrier.
__device__ __forceinline__ void fenceProxyAsync() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}
#endif

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
/// Orders register accesses of the accumulators before the next wgmma.
__device__ __forceinline__ void wgmmaFence() {
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
}
__device__ __forceinline__ void wgmmaCommit() {
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
}
template <int Pending> __device__ __forceinline__ void wgmmaWait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(Pending) : "memory");
}
/// Pins an accumulator register in place: the compiler sees the wgmma asm
/// define it, not the wait, so without this it may move a read of it above
/// wgmmaWait (or a write below wgmmaFence). Call on every accumulator after
/// the wait and before the fence.
__device__ __forceinline__ void fenceOperand(float &r) {
  asm volatile("" : "+f"(r)::"memory");
}
#endif

} // namespace hfq::cuda::sm90

#endif // HFQ_KERNELS_CUDA_SM90ASYNC_CUH
