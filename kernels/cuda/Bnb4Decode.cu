//===- Bnb4Decode.cu - bitsandbytes NF4 / FP4 GEMV for M <= 64 ------------===//
//
// The decode path of the 4-bit bitsandbytes weights (Bnb4.h): the kernel
// (bnb4DecodeKernel) and its launcher (detail::bnb4DecodeLinear). The codes
// are read as the checkpoint stores them (row-major, two per byte), so at
// M = 1 the kernel moves 0.5 byte per weight plus the absmax (1/64 byte
// nested, 1/16 byte as f32) and nothing else.
//
//  * A warp works on a 16-row tile, 128 K at a time (a "chunk"): lane
//    (g = lane / 4, t = lane % 4) loads 16 bytes (32 codes) of rows g and
//    g + 8 at K offset 32 t, one 128-bit load each. K % 32 == 0 puts every
//    such 32-code piece inside one absmax block (blocks are powers of two
//    >= 32 over the flat index), so a lane needs one scale per row.
//  * The product is transposed as in Decode.cu: the weight is the A operand
//    of mma.m16n8k16 (16 rows x 16 K), the activations B (16 K x 8 rows of
//    x). The mma's K positions are a permutation of the chunk chosen so that
//    each register is one byte of codes: at step s, lane t's K positions
//    2t, 2t+1 (a0: row g, a1: row g + 8) and 2t+8, 2t+9 (a2, a3) are chunk
//    elements 32t + 4s + {0, 1} and {2, 3}, i.e. bytes 2s and 2s + 1 of its
//    16 (element 2j in the high nibble, the lower K in the low half); the
//    lane's activations for the whole chunk are then 32 contiguous values,
//    one 128-bit load per two steps.
//  * Lookup: a byte of two codes indexes a 256-entry table of the pairs of
//    16-bit table values (low half from the high nibble), in shared memory,
//    replicated per lane (word 64 e + lane: no bank conflicts whatever the
//    codes) at 256 bytes per entry, so the address is one byte_perm of the
//    code word and the lane's offset. Then one 16-bit multiply by the
//    block's scale (bnb too rounds each weight to the compute dtype) gives
//    the operand: per byte one prmt, one lds and one hmul2.
//  * Scales: absmax in f32, or nested as bnb computes it in f32,
//    nested_quant_map[code] * nested_absmax[block / 256] + offset (separate
//    multiply and add: no fma, as the reference), loaded with the codes a
//    chunk ahead.
//  * Work: every (tile, chunk) pair in one list, split into equal
//    contiguous shares, one per warp (stream-K), so every warp streams the
//    same bytes whatever N and K are. A warp whose share covers a whole tile
//    writes y; otherwise it adds into an f32 accumulator with atomics and
//    the warp that completes the tile (a per-tile counter) writes y and
//    leaves both zeroed. f32 atomics make the last bits of a split tile
//    depend on the order its warps finish.
//  * Codes for the next chunk (a ring of kRing, refilled once a chunk is
//    computed: a chunk's bytes stay in flight during the one before) come
//    with an L2 evict-first policy so the stream does not push
//    the absmax (re-read from L2 by the chunks of a block) out of the L2.
//
// kernels/cuda/NOTES.md ("bitsandbytes NF4 / FP4") has the prediction.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Bnb4.h"
#include "kernels/cuda/Dispatch.cuh"
#include "kernels/cuda/Fragments.cuh"
#include "kernels/cuda/Internal.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace hfq::cuda {
namespace {

using namespace frag;

constexpr int kWarps = 8;          // warps per block
constexpr int kTileRows = 16;      // weight rows per warp tile
constexpr int kChunkK = 128;       // K per chunk: 4 lanes x 32 codes
constexpr int kRing = 2;           // chunks loaded ahead
constexpr int kLutEntryWords = 64; // 256 bytes per entry (the prmt address)
constexpr size_t kLutBytes = 256 * kLutEntryWords * sizeof(uint32_t);
constexpr size_t kSmemBytes = kLutBytes + 256 * sizeof(float); // + nested map

struct Bnb4Params {
  const void *x; // [m, k], 16-byte aligned
  const void *bias;
  void *y;
  float *partials; // [m, n] f32, zero
  int *counters;   // [tiles], zero
  const uint8_t *codes;
  const void *absmax;
  const float *nestedAbsmax;
  const float *nestedMap;
  float table[16];
  float offset;
  int m, n, k;
  int blockShift;  // log2(blocksize)
  int nestedShift; // log2(nested blocksize), or -1: divide
  int nestedBlocksize;
  int tiles, chunks; // 16-row tiles; chunks of 128 K per row
  long long work;    // tiles * chunks
  long long warpsTotal;
};

/// What a lane loads for one chunk ahead: 32 codes of rows g and g + 8, and
/// their raw absmax (f32 bits, or the nested u8 code).
struct ChunkLoad {
  uint4 q[2];
  uint32_t a[2];
};

template <typename T> struct Vec2;
template <> struct Vec2<__half> {
  static __device__ __forceinline__ uint32_t splat(float v) {
    const __half2 h = __float2half2_rn(v);
    return *reinterpret_cast<const uint32_t *>(&h);
  }
  static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
    const __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t *>(&h);
  }
};
template <> struct Vec2<__nv_bfloat16> {
  static __device__ __forceinline__ uint32_t splat(float v) {
    const __nv_bfloat162 h = __float2bfloat162_rn(v);
    return *reinterpret_cast<const uint32_t *>(&h);
  }
  static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t *>(&h);
  }
};

/// a * b on two 16-bit lanes, rounded once.
template <typename T>
__device__ __forceinline__ uint32_t mul2(uint32_t a, uint32_t b) {
  uint32_t r;
  if constexpr (std::is_same_v<T, __half>)
    asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
  else
    asm("fma.rn.bf16x2 %0, %1, %2, %3;"
        : "=r"(r)
        : "r"(a), "r"(b), "r"(0x80008000u));
  return r;
}

/// The code stream's loads: L1 bypassed, L2 evict-first, the rest of the
/// 256-byte block fetched into L2 (the next chunks of the row).
__device__ __forceinline__ uint4 loadCodes(const uint4 *p, uint64_t policy) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.L2::cache_hint.L2::256B.v4.u32 "
               "{%0,%1,%2,%3}, [%4], %5;"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p), "l"(policy));
  return v;
}

/// The loads of chunk c of tile `tile` for this lane (zeros where the rows
/// or K run out: such a code is multiplied by a zero activation, or lands
/// in a row that is never written).
template <bool NESTED>
__device__ __forceinline__ void loadChunk(const Bnb4Params &p, int tile, int c,
                                          int g, int t, uint64_t policy,
                                          ChunkLoad &out) {
  const int kk = c * kChunkK + 32 * t;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int row = tile * kTileRows + g + 8 * h;
    out.q[h] = make_uint4(0, 0, 0, 0);
    out.a[h] = 0;
    if (row < p.n && kk < p.k) {
      const long long flat = static_cast<long long>(row) * p.k + kk;
      out.q[h] = loadCodes(
          reinterpret_cast<const uint4 *>(p.codes + (flat >> 1)), policy);
      const long long block = flat >> p.blockShift;
      if constexpr (NESTED)
        out.a[h] = __ldg(static_cast<const uint8_t *>(p.absmax) + block);
      else
        out.a[h] = __ldg(static_cast<const uint32_t *>(p.absmax) + block);
    }
  }
}

/// The 16-bit pair of one code byte (byte j of `word`) times the scale
/// pair: the byte and the lane's offset form the table address in one prmt.
template <typename T>
__device__ __forceinline__ uint32_t operand(const char *lut, uint32_t word,
                                            int j, uint32_t laneBytes,
                                            uint32_t scale2) {
  const uint32_t addr = __byte_perm(word, laneBytes, 0x5504u | (j << 4));
  return mul2<T>(*reinterpret_cast<const uint32_t *>(lut + addr), scale2);
}

/// y (+ bias) from a finished tile's accumulators: value (nx, c) of lane
/// (g, t) is x row 8 nx + 2 t + (c & 1), weight row g + 8 (c >> 1).
template <typename T, int NX>
__device__ __forceinline__ void flush(const Bnb4Params &p, int tile, bool whole,
                                      int segChunks, const float (&acc)[NX][4],
                                      int lane) {
  const int g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int nx = 0; nx < NX; ++nx)
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const int row = 8 * nx + 2 * t + (c & 1);
      const int col = tile * kTileRows + g + 8 * (c >> 1);
      if (row >= p.m || col >= p.n)
        continue;
      if (whole)
        storeY(static_cast<T *>(p.y), p.n, static_cast<const T *>(p.bias), row,
               col, acc[nx][c]);
      else
        atomicAdd(p.partials + static_cast<size_t>(row) * p.n + col,
                  acc[nx][c]);
    }
  if (whole)
    return;
  // The warp that completes the tile's chunks writes it (the counter's
  // atomic orders the others' partials before it, with the fences).
  __threadfence();
  __syncwarp();
  int last = 0;
  if (lane == 0)
    last = atomicAdd(p.counters + tile, segChunks) + segChunks == p.chunks;
  last = __shfl_sync(0xffffffffu, last, 0);
  if (!last)
    return;
  __threadfence();
  for (int e = lane; e < kTileRows * p.m; e += 32) {
    const int row = e / kTileRows, col = tile * kTileRows + e % kTileRows;
    if (col < p.n)
      storeY(static_cast<T *>(p.y), p.n, static_cast<const T *>(p.bias), row,
             col, takePartial(p.partials, p.n, row, col));
  }
  if (lane == 0)
    p.counters[tile] = 0;
}

/// Template: activation type, NX tiles of 8 x rows (M <= 8 NX), nested
/// absmax. Block: kWarps warps, each on its share [begin, end) of the
/// (tile, chunk) list.
template <typename T, int NX, bool NESTED>
__global__ void __launch_bounds__(kWarps * 32, NX <= 2 ? 3 : 2)
    bnb4DecodeKernel(const Bnb4Params p) {
  extern __shared__ uint4 bnb4Smem[];
  char *lut = reinterpret_cast<char *>(bnb4Smem);
  float *nestedMap = reinterpret_cast<float *>(lut + kLutBytes);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const long long gw = static_cast<long long>(blockIdx.x) * kWarps + warp;
  const long long begin = p.work * gw / p.warpsTotal;
  const long long end = p.work * (gw + 1) / p.warpsTotal;

  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;"
               : "=l"(policy));

  // The first chunks are requested before the table is built.
  int loadTile = static_cast<int>(begin / p.chunks),
      loadChunkIdx = static_cast<int>(begin % p.chunks);
  ChunkLoad ring[kRing];
#pragma unroll
  for (int d = 0; d < kRing; ++d) {
    if (begin + d < end)
      loadChunk<NESTED>(p, loadTile, loadChunkIdx, g, t, policy, ring[d]);
    if (++loadChunkIdx == p.chunks) {
      loadChunkIdx = 0;
      ++loadTile;
    }
  }

  // The byte-pair table: entry e, lane l at word 64 e + l holds
  // (table[e >> 4], table[e & 15]) in T, low half first.
  for (int i = threadIdx.x; i < 256 * 8; i += blockDim.x) {
    const int e = i >> 3, part = i & 7;
    const uint32_t v = Vec2<T>::pack(p.table[e >> 4], p.table[e & 15]);
    reinterpret_cast<uint4 *>(lut)[e * (kLutEntryWords / 4) + part] =
        make_uint4(v, v, v, v);
  }
  if constexpr (NESTED)
    for (int i = threadIdx.x; i < 256; i += blockDim.x)
      nestedMap[i] = p.nestedMap[i];
  __syncthreads();

  const uint32_t laneBytes = 4u * lane;
  // x rows 8 nx + g, K from the chunk's 32 t on.
  const T *xRow[NX];
  bool rowOk[NX];
#pragma unroll
  for (int nx = 0; nx < NX; ++nx) {
    rowOk[nx] = 8 * nx + g < p.m;
    xRow[nx] = static_cast<const T *>(p.x) +
               static_cast<size_t>(rowOk[nx] ? 8 * nx + g : 0) * p.k + 32 * t;
  }

  float acc[NX][4];
#pragma unroll
  for (int nx = 0; nx < NX; ++nx)
#pragma unroll
    for (int c = 0; c < 4; ++c)
      acc[nx][c] = 0.0f;
  int tile = static_cast<int>(begin / p.chunks),
      chunk = static_cast<int>(begin % p.chunks);
  int segFirst = chunk;
  long long pos = begin;
  while (pos < end) {
#pragma unroll
    for (int d = 0; d < kRing; ++d) {
      if (pos >= end)
        break;
      const ChunkLoad &cur = ring[d];
      const int kk = chunk * kChunkK + 32 * t;
      const bool kOk = kk < p.k;
      uint32_t scale2[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        float s;
        if constexpr (NESTED) {
          // The nested absmax (one per 256 blocks) is an L1 hit.
          const int row = tile * kTileRows + g + 8 * h;
          const long long block =
              (static_cast<long long>(min(row, p.n - 1)) * p.k +
               min(kk, p.k - 32)) >>
              p.blockShift;
          const long long nb = p.nestedShift >= 0 ? block >> p.nestedShift
                                                  : block / p.nestedBlocksize;
          s = __fadd_rn(
              __fmul_rn(nestedMap[cur.a[h]], __ldg(p.nestedAbsmax + nb)),
              p.offset);
        } else
          s = __uint_as_float(cur.a[h]);
        scale2[h] = Vec2<T>::splat(s);
      }
      // Quarter v of the chunk: steps 2v and 2v + 1, whose B fragments are
      // the lane's activations 8v .. 8v + 7 (one 128-bit load per x tile).
#pragma unroll
      for (int v = 0; v < 4; ++v) {
        uint4 xv[NX];
#pragma unroll
        for (int nx = 0; nx < NX; ++nx)
          xv[nx] = rowOk[nx] && kOk ? __ldg(reinterpret_cast<const uint4 *>(
                                                xRow[nx] + chunk * kChunkK) +
                                            v)
                                    : make_uint4(0, 0, 0, 0);
        const uint32_t w0 = wordOf(cur.q[0], v), w1 = wordOf(cur.q[1], v);
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int j = 2 * half;
          const uint32_t a[4] = {
              operand<T>(lut, w0, j, laneBytes, scale2[0]),
              operand<T>(lut, w1, j, laneBytes, scale2[1]),
              operand<T>(lut, w0, j + 1, laneBytes, scale2[0]),
              operand<T>(lut, w1, j + 1, laneBytes, scale2[1])};
#pragma unroll
          for (int nx = 0; nx < NX; ++nx)
            mma16816<T>(acc[nx], a, wordOf(xv[nx], 2 * half),
                        wordOf(xv[nx], 2 * half + 1));
        }
      }
      // Refill the slot with the chunk kRing ahead.
      if (pos + kRing < end) {
        loadChunk<NESTED>(p, loadTile, loadChunkIdx, g, t, policy, ring[d]);
        if (++loadChunkIdx == p.chunks) {
          loadChunkIdx = 0;
          ++loadTile;
        }
      }
      ++pos;
      // The tile's last chunk, or the share's: its rows are done here.
      if (++chunk == p.chunks || pos == end) {
        flush<T, NX>(p, tile, segFirst == 0 && chunk == p.chunks,
                     chunk - segFirst, acc, lane);
#pragma unroll
        for (int nx = 0; nx < NX; ++nx)
#pragma unroll
          for (int c = 0; c < 4; ++c)
            acc[nx][c] = 0.0f;
        if (chunk == p.chunks) {
          chunk = 0;
          ++tile;
        }
        segFirst = chunk;
      }
    }
  }
}

using Bnb4Fn = void (*)(Bnb4Params);

Bnb4Fn pickKernel(const Bnb4Weight &w, int nx) {
  return dispatch::onAct(w.act, [&](auto type) {
    using T = typename decltype(type)::type;
    return dispatch::onValue<1, 2, 4, 8>(nx, [&](auto rowTiles) {
      return w.nested ? Bnb4Fn(bnb4DecodeKernel<T, rowTiles, true>)
                      : Bnb4Fn(bnb4DecodeKernel<T, rowTiles, false>);
    });
  });
}

/// Blocks of the kernel one SM holds (cached per kernel).
int residentBlocks(Bnb4Fn fn) {
  static std::mutex mutex;
  static std::map<const void *, int> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto key = reinterpret_cast<const void *>(fn);
  auto it = cache.find(key);
  if (it != cache.end())
    return it->second;
  int blocks = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, fn, kWarps * 32,
                                                    kSmemBytes) != cudaSuccess)
    blocks = 1;
  (void)cudaGetLastError();
  return cache[key] = std::max(blocks, 1);
}

} // namespace

bool detail::bnb4DecodeLinear(const Bnb4Weight &w, const void *x,
                              const void *bias, void *y, int64_t m,
                              Workspace &ws, cudaStream_t stream,
                              std::string &error) {
  if (m < 1 || m > 64 || w.k % 32 != 0 ||
      reinterpret_cast<uintptr_t>(x) % 16 != 0) {
    error = "the bnb 4-bit decode kernel takes 1 <= M <= 64, K % 32 == 0 and "
            "16-byte aligned "
            "activations";
    return false;
  }
  const int blockShift = log2Exact(w.blocksize);
  if (blockShift < 5) {
    error = "the bnb 4-bit blocksize must be a power of two >= 32, got " +
            std::to_string(w.blocksize);
    return false;
  }
  Bnb4Params p{};
  p.x = x;
  p.bias = bias;
  p.y = y;
  p.codes = static_cast<const uint8_t *>(w.codes);
  p.absmax = w.absmax;
  p.nestedAbsmax = w.nestedAbsmax;
  p.nestedMap = w.nestedQuantMap;
  const auto &table = kernels::bnb4CodeTable(w.nf4 ? kernels::Bnb4Type::NF4
                                                   : kernels::Bnb4Type::FP4);
  std::copy(table.begin(), table.end(), p.table);
  p.offset = w.nestedOffset;
  p.m = static_cast<int>(m);
  p.n = static_cast<int>(w.n);
  p.k = static_cast<int>(w.k);
  p.blockShift = blockShift;
  p.nestedShift = log2Exact(w.nestedBlocksize);
  p.nestedBlocksize = static_cast<int>(w.nestedBlocksize);
  p.tiles = static_cast<int>((w.n + kTileRows - 1) / kTileRows);
  p.chunks = static_cast<int>((w.k + kChunkK - 1) / kChunkK);
  p.work = static_cast<long long>(p.tiles) * p.chunks;

  const int nx = m <= 8 ? 1 : m <= 16 ? 2 : m <= 32 ? 4 : 8;
  Bnb4Fn fn = pickKernel(w, nx);
  if (!allowSharedMemory(reinterpret_cast<const void *>(fn), kSmemBytes, error))
    return false;
  // Every resident warp a share of at least 4 chunks (below that the
  // table's set-up and the split tiles' atomics outweigh the stream).
  const long long slots =
      static_cast<long long>(smCount()) * residentBlocks(fn);
  const long long blocks = std::max<long long>(
      1, std::min(slots, (p.work + 4 * kWarps - 1) / (4 * kWarps)));
  p.warpsTotal = blocks * kWarps;
  if (!splitScratch(ws, static_cast<size_t>(m) * w.n * sizeof(float),
                    static_cast<size_t>(p.tiles), stream, error))
    return false;
  p.partials = static_cast<float *>(ws.partials);
  p.counters = ws.counters;
  fn<<<static_cast<unsigned>(blocks), kWarps * 32, kSmemBytes, stream>>>(p);
  HFQ_LAUNCH_CHECK("the bnb 4-bit decode kernel");
  return true;
}

} // namespace hfq::cuda
