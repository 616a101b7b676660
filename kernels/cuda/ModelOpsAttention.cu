//===- ModelOpsAttention.cu - Attention over the KV cache on the GPU ------===//
//
// hfq_attention_<act> (kernels/include/hfq_model_ops.h) in three steps, all
// on the stream, none waiting:
//
//   1. writeCacheKernel: k[t], v[t] into cache[layer][0 / 1][positions[t]]
//      (bits as given). A position outside [0, S) is recorded in the fault
//      word and its row is not written.
//   2. the scores, softmax and Σ p·v, reading keys and values from the cache
//      only (so query t sees every row written in step 1 whose position is at
//      most positions[t], as in the reference), by one of two kernels:
//      - rowsKernel (decode, and any shape the tile kernel does not take):
//        a block per (query row, KV head, split of the visible keys); the
//        query heads that share the KV head ride along, so each key and
//        value is read once. A key is split over LPK lanes with one 16-byte
//        load each, dot products reduce with xor shuffles inside the lane
//        group, and each lane group keeps its own online softmax (m, l,
//        Σ p·v in f32) over every SLOTS-th key; the groups merge in shared
//        memory at the end. The split count is fixed at launch from the
//        cache capacity and the chip (FlashDecoding), and each block finds
//        its share of the visible keys from positions[t] on the device, so
//        the launch does not depend on the data (graph-capturable).
//      - tilesKernel (prefill: f16 / bf16, head_dim 64 or 128, T >= 16): a
//        block per 64 query rows of one head, 16 rows per warp, key tiles of
//        64 staged in shared memory; S = Q·Kᵀ and O += P·V on mma.sync
//        m16n8k16 with f32 accumulators, FlashAttention-2's online softmax
//        in registers. P is split into a 16-bit high part and the 16-bit
//        rounding of its remainder, two mma's, so P·V carries ~16 bits of
//        each weight instead of 8 (bf16) — the f32 softmax of the reference
//        rather than FlashAttention's rounded P.
//   3. combineKernel (when the row kernel split the keys): the splits'
//      (m, l, Σ p·v) merged, divided and rounded to Act.
//
// A row whose position is invalid gets NaN (and the fault word says why).
// Keys no query row of a block can see are never read (a cache row past
// the last position may hold anything, NaN included).
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/ModelOpsAct.cuh"

#include <algorithm>
#include <type_traits>

namespace hfq::cuda::model_ops {
namespace {

constexpr int kWarps = 4, kThreads = 32 * kWarps;

__device__ __forceinline__ float negInf() { return __int_as_float(0xff800000); }

struct CacheView {
  const void *data;               ///< at [layer][0][0][0][0]
  int64_t select, position, head; ///< strides, elements (head_dim: 1)
  int64_t capacity;
};

/// The keys query t sees: [first, last], or valid = false for a position
/// outside the cache.
struct KeyRange {
  int64_t first, last;
  bool valid;
};

__device__ __forceinline__ KeyRange keyRange(const Indices &positions,
                                             int64_t t, int64_t capacity,
                                             int64_t window) {
  const int64_t position = positions.data[t * positions.stride];
  KeyRange range{1, 0, position >= 0 && position < capacity};
  if (range.valid) {
    range.last = position;
    range.first = window > 0 ? max(int64_t(0), position - window + 1) : 0;
  }
  return range;
}

__device__ __forceinline__ int64_t at(const Matrix &m, int64_t r, int64_t c) {
  return r * m.rowStride + c * m.colStride;
}

//===----------------------------------------------------------------------===//
// 1. The cache update
//===----------------------------------------------------------------------===//

template <typename A>
__global__ void writeCacheKernel(Matrix k, Matrix v, Indices positions,
                                 CacheView cache, int64_t headDim,
                                 DeviceFault *fault) {
  using S = typename A::Storage;
  S *out = static_cast<S *>(const_cast<void *>(cache.data));
  const S *keys = static_cast<const S *>(k.data);
  const S *values = static_cast<const S *>(v.data);
  const int64_t count = k.rows * k.cols;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / k.cols, col = i - t * k.cols;
    const int64_t position = positions.data[t * positions.stride];
    if (position < 0 || position >= cache.capacity) {
      if (col == 0)
        recordFault(fault, kAttentionPosition, t, position, cache.capacity);
      continue;
    }
    const int64_t head = col / headDim, dim = col - head * headDim;
    const int64_t row = position * cache.position + head * cache.head + dim;
    out[row] = keys[at(k, t, col)];
    out[row + cache.select] = values[at(v, t, col)];
  }
}

//===----------------------------------------------------------------------===//
// 2a. The row kernel
//===----------------------------------------------------------------------===//

struct RowsParams {
  Matrix out, q;
  Indices positions;
  CacheView cache;
  int64_t numHeads, group, window;
  int headsPerBlock, chunks, splits;
  float scaling;
  float *partial; ///< [T][H][splits][D + 2] when splits > 1
};

/// Eight 16-bit or four f32 activations of one 16-byte load, as floats.
template <typename A, int VEC>
__device__ __forceinline__ void unpack(const uint4 &raw, float (&out)[VEC]) {
  if constexpr (VEC == 4) {
    const float *f = reinterpret_cast<const float *>(&raw);
    for (int e = 0; e < 4; ++e)
      out[e] = f[e];
  } else {
    const uint16_t *h = reinterpret_cast<const uint16_t *>(&raw);
#pragma unroll
    for (int e = 0; e < VEC; ++e)
      out[e] = A::load(h[e]);
  }
}

template <typename A, int D, int G>
__global__ void __launch_bounds__(kThreads) rowsKernel(RowsParams p) {
  using S = typename A::Storage;
  constexpr int VEC = 16 / sizeof(S); // elements per 16-byte load
  constexpr int LPK = D / VEC;        // lanes per key
  constexpr int KPW = 32 / LPK;       // keys per warp and step
  constexpr int SLOTS = kWarps * KPW; // keys per block and step
  constexpr int U = G >= 8 ? 2 : 4;   // steps in flight per lane
  static_assert(LPK <= 32 && 32 % LPK == 0, "head_dim / VEC lanes per key");

  const int64_t t = blockIdx.x / p.splits;
  const int split = blockIdx.x % p.splits;
  const int64_t kvHead = blockIdx.y / p.chunks;
  const int chunk = blockIdx.y % p.chunks;
  const int64_t headBase = kvHead * p.group + int64_t(chunk) * p.headsPerBlock;
  const int heads =
      min(int64_t(p.headsPerBlock), p.group - int64_t(chunk) * p.headsPerBlock);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int sub = lane % LPK, slot = warp * KPW + lane / LPK;

  const KeyRange range = keyRange(p.positions, t, p.cache.capacity, p.window);
  if (!range.valid) {
    // The combine kernel writes NaN when the keys were split.
    if (p.splits == 1)
      for (int i = threadIdx.x; i < heads * D; i += kThreads)
        static_cast<S *>(
            p.out.data)[at(p.out, t, (headBase + i / D) * D + i % D)] =
            A::store(quietNaN());
    return;
  }
  const int64_t visible = range.last - range.first + 1;
  const int64_t share = (visible + p.splits - 1) / p.splits;
  const int64_t start = range.first + split * share;
  const int64_t end = min(range.last, start + share - 1);

  const S *queries = static_cast<const S *>(p.q.data);
  float q[G][VEC], m[G], l[G], acc[G][VEC];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = negInf();
    l[g] = 0.0f;
#pragma unroll
    for (int e = 0; e < VEC; ++e) {
      acc[g][e] = 0.0f;
      q[g][e] =
          g < heads
              ? A::load(queries[at(p.q, t, (headBase + g) * D + sub * VEC + e)])
              : 0.0f;
    }
  }

  const S *keys =
      static_cast<const S *>(p.cache.data) + kvHead * p.cache.head + sub * VEC;
  const S *values = keys + p.cache.select;
  for (int64_t base = start; base <= end; base += SLOTS * U) {
    uint4 kRaw[U], vRaw[U];
    bool ok[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t j = base + u * SLOTS + slot;
      ok[u] = j <= end;
      if (ok[u]) {
        kRaw[u] = *reinterpret_cast<const uint4 *>(keys + j * p.cache.position);
        vRaw[u] =
            *reinterpret_cast<const uint4 *>(values + j * p.cache.position);
      } else {
        kRaw[u] = vRaw[u] = make_uint4(0, 0, 0, 0);
      }
    }
    float s[U][G];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      float k[VEC];
      unpack<A, VEC>(kRaw[u], k);
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float dot = 0.0f;
#pragma unroll
        for (int e = 0; e < VEC; ++e)
          dot = fmaf(q[g][e], k[e], dot);
#pragma unroll
        for (int offset = LPK / 2; offset > 0; offset /= 2)
          dot += __shfl_xor_sync(0xffffffffu, dot, offset);
        s[u][g] = ok[u] ? dot * p.scaling : negInf();
      }
    }
#pragma unroll
    for (int g = 0; g < G; ++g) {
      float top = m[g];
#pragma unroll
      for (int u = 0; u < U; ++u)
        top = fmaxf(top, s[u][g]);
      if (top == negInf())
        continue; // nothing visible to this lane group yet
      const float correction = expf(m[g] - top);
      l[g] *= correction;
#pragma unroll
      for (int e = 0; e < VEC; ++e)
        acc[g][e] *= correction;
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const float weight = expf(s[u][g] - top);
        float v[VEC];
        unpack<A, VEC>(vRaw[u], v);
        l[g] += weight;
#pragma unroll
        for (int e = 0; e < VEC; ++e)
          acc[g][e] = fmaf(weight, v[e], acc[g][e]);
      }
      m[g] = top;
    }
  }

  // Merge the lane groups' softmax states.
  __shared__ float sharedM[SLOTS][G], sharedL[SLOTS][G];
  __shared__ float sharedAcc[SLOTS][G][D];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    if (sub == 0) {
      sharedM[slot][g] = m[g];
      sharedL[slot][g] = l[g];
    }
#pragma unroll
    for (int e = 0; e < VEC; ++e)
      sharedAcc[slot][g][sub * VEC + e] = acc[g][e];
  }
  __syncthreads();
  for (int i = threadIdx.x; i < heads * D; i += kThreads) {
    const int g = i / D, dim = i % D;
    float top = negInf();
    for (int s = 0; s < SLOTS; ++s)
      top = fmaxf(top, sharedM[s][g]);
    float total = 0.0f, weighted = 0.0f;
    if (top != negInf())
      for (int s = 0; s < SLOTS; ++s) {
        const float ms = sharedM[s][g];
        const float scale = ms == negInf() ? 0.0f : expf(ms - top);
        total += sharedL[s][g] * scale;
        weighted += sharedAcc[s][g][dim] * scale;
      }
    const int64_t head = headBase + g;
    if (p.splits == 1) {
      static_cast<S *>(p.out.data)[at(p.out, t, head * D + dim)] =
          A::store(weighted / total);
    } else {
      float *part =
          p.partial + ((t * p.numHeads + head) * p.splits + split) * (D + 2);
      part[dim] = weighted;
      if (dim == 0) {
        part[D] = top;
        part[D + 1] = total;
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// 3. The combine of the row kernel's splits
//===----------------------------------------------------------------------===//

template <typename A>
__global__ void combineKernel(Matrix out, Indices positions, int64_t capacity,
                              const float *partial, int64_t numHeads,
                              int splits, int headDim) {
  using S = typename A::Storage;
  const int64_t head = blockIdx.x, t = blockIdx.y;
  const int64_t position = positions.data[t * positions.stride];
  const bool valid = position >= 0 && position < capacity;
  const float *parts =
      partial + (t * numHeads + head) * splits * int64_t(headDim + 2);
  float top = negInf();
  for (int s = 0; s < splits; ++s)
    top = fmaxf(top, parts[s * (headDim + 2) + headDim]);
  for (int dim = threadIdx.x; dim < headDim; dim += blockDim.x) {
    float total = 0.0f, weighted = 0.0f;
    for (int s = 0; s < splits; ++s) {
      const float *part = parts + s * (headDim + 2);
      const float ms = part[headDim];
      const float scale = ms == negInf() ? 0.0f : expf(ms - top);
      total += part[headDim + 1] * scale;
      weighted += part[dim] * scale;
    }
    static_cast<S *>(out.data)[at(out, t, head * headDim + dim)] =
        A::store(valid ? weighted / total : quietNaN());
  }
}

//===----------------------------------------------------------------------===//
// 2b. The tile kernel (tensor cores)
//===----------------------------------------------------------------------===//

/// mma.sync m16n8k16 with f32 accumulators, f16 or bf16 operands: c += a·b.
template <typename A>
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4],
                                         uint32_t b0, uint32_t b1) {
  if constexpr (std::is_same_v<A, F16Act>)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                   "r"(b1));
  else
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                   "r"(b1));
}

/// Four 8x8 16-bit matrices from shared memory, transposed (the B operand
/// of P·V from values stored [key][dim]).
__device__ __forceinline__ void ldmatrixTrans(const void *rowAddress,
                                              uint32_t (&r)[4]) {
  const uint32_t address =
      static_cast<uint32_t>(__cvta_generic_to_shared(rowAddress));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 "
               "{%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}

/// Two weights as a 16-bit pair (low half first) and the pair of their
/// remainders: hi + lo carries ~16 significant bits of each.
template <typename A>
__device__ __forceinline__ void splitPair(float x, float y, uint32_t &hi,
                                          uint32_t &lo) {
  const uint16_t hx = A::store(x), hy = A::store(y);
  hi = uint32_t(hx) | (uint32_t(hy) << 16);
  const uint16_t lx = A::store(x - A::load(hx)), ly = A::store(y - A::load(hy));
  lo = uint32_t(lx) | (uint32_t(ly) << 16);
}

struct TilesParams {
  Matrix out, q;
  Indices positions;
  CacheView cache;
  int64_t group, window;
  float scaling;
};

template <typename A, int D>
__global__ void __launch_bounds__(kThreads) tilesKernel(TilesParams p) {
  using S = typename A::Storage;
  constexpr int ROWS = 16 * kWarps, KEYS = 64, PITCH = D + 8;
  constexpr int KSTEPS = D / 16, NTILES = D / 8, CHUNKS = D / 8;
  // Rows padded by 16 bytes: the B-fragment loads of Kᵀ (8 rows x 4 words)
  // and ldmatrix's 8 rows of 16 bytes land in distinct banks.
  __shared__ __align__(16) uint16_t keyTile[KEYS][PITCH];
  __shared__ __align__(16) uint16_t valueTile[KEYS][PITCH];
  __shared__ int64_t rowFirst[ROWS], rowLast[ROWS];
  __shared__ bool keyVisible[KEYS];
  __shared__ int64_t blockFirst, blockLast;

  const int tile = gridDim.x - 1 - blockIdx.x; // the longest rows first
  const int64_t head = blockIdx.y, kvHead = head / p.group;
  const int64_t t0 = int64_t(tile) * ROWS, rowsTotal = p.q.rows;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  if (threadIdx.x < ROWS) {
    const int64_t t = t0 + threadIdx.x;
    KeyRange range{1, 0, false};
    if (t < rowsTotal)
      range = keyRange(p.positions, t, p.cache.capacity, p.window);
    rowFirst[threadIdx.x] = range.first; // empty ([1, 0]) when not valid
    rowLast[threadIdx.x] = range.last;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int64_t first = INT64_MAX, last = -1;
    for (int r = 0; r < ROWS; ++r)
      if (rowFirst[r] <= rowLast[r]) {
        first = min(first, rowFirst[r]);
        last = max(last, rowLast[r]);
      }
    blockFirst = first;
    blockLast = last;
  }
  __syncthreads();
  const int64_t lo = blockFirst, hi = blockLast;

  // This lane's two rows of the warp's 16 and their visible keys.
  const int r0 = warp * 16 + lane / 4, r1 = r0 + 8;
  const int64_t ta = t0 + r0, tb = t0 + r1;
  const int64_t f0 = rowFirst[r0], l0 = rowLast[r0];
  const int64_t f1 = rowFirst[r1], l1 = rowLast[r1];

  // Q as A fragments, once.
  const S *queries = static_cast<const S *>(p.q.data);
  auto queryPair = [&](int64_t t, int64_t col) -> uint32_t {
    if (t >= rowsTotal)
      return 0;
    const uint16_t x =
        reinterpret_cast<const uint16_t &>(queries[at(p.q, t, head * D + col)]);
    const uint16_t y = reinterpret_cast<const uint16_t &>(
        queries[at(p.q, t, head * D + col + 1)]);
    return uint32_t(x) | (uint32_t(y) << 16);
  };
  uint32_t qa[KSTEPS][4];
#pragma unroll
  for (int ks = 0; ks < KSTEPS; ++ks) {
    const int col = ks * 16 + (lane % 4) * 2;
    qa[ks][0] = queryPair(ta, col);
    qa[ks][1] = queryPair(tb, col);
    qa[ks][2] = queryPair(ta, col + 8);
    qa[ks][3] = queryPair(tb, col + 8);
  }

  float o[NTILES][4];
#pragma unroll
  for (int n = 0; n < NTILES; ++n)
    o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float m0 = negInf(), m1 = negInf(), sum0 = 0.0f, sum1 = 0.0f;

  const S *keys = static_cast<const S *>(p.cache.data) + kvHead * p.cache.head;
  const S *values = keys + p.cache.select;
  for (int64_t start = lo; start <= hi; start += KEYS) {
    if (threadIdx.x < KEYS) {
      const int64_t j = start + threadIdx.x;
      bool seen = false;
      if (j <= hi)
        for (int r = 0; r < ROWS && !seen; ++r)
          seen = rowFirst[r] <= j && j <= rowLast[r];
      keyVisible[threadIdx.x] = seen;
    }
    __syncthreads();
#pragma unroll
    for (int i = 0; i < KEYS * CHUNKS / kThreads; ++i) {
      const int c = threadIdx.x + i * kThreads;
      const int row = c / CHUNKS, col = (c % CHUNKS) * 8;
      uint4 k = make_uint4(0, 0, 0, 0), v = k;
      if (keyVisible[row]) {
        const int64_t offset = (start + row) * p.cache.position + col;
        k = *reinterpret_cast<const uint4 *>(keys + offset);
        v = *reinterpret_cast<const uint4 *>(values + offset);
      }
      *reinterpret_cast<uint4 *>(&keyTile[row][col]) = k;
      *reinterpret_cast<uint4 *>(&valueTile[row][col]) = v;
    }
    __syncthreads();

    // S = Q·Kᵀ for this warp's 16 rows and the tile's 64 keys.
    float sc[KEYS / 8][4];
#pragma unroll
    for (int n = 0; n < KEYS / 8; ++n) {
      sc[n][0] = sc[n][1] = sc[n][2] = sc[n][3] = 0.0f;
#pragma unroll
      for (int ks = 0; ks < KSTEPS; ++ks) {
        const uint16_t *row =
            &keyTile[n * 8 + lane / 4][ks * 16 + (lane % 4) * 2];
        mma16816<A>(sc[n], qa[ks], *reinterpret_cast<const uint32_t *>(row),
                    *reinterpret_cast<const uint32_t *>(row + 8));
      }
    }
    // Scale, mask, and the online softmax of rows r0 (c0, c1) and r1 (c2, c3).
    float top0 = negInf(), top1 = negInf();
#pragma unroll
    for (int n = 0; n < KEYS / 8; ++n)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int64_t j = start + n * 8 + (lane % 4) * 2 + e;
        sc[n][e] = j >= f0 && j <= l0 ? sc[n][e] * p.scaling : negInf();
        sc[n][2 + e] = j >= f1 && j <= l1 ? sc[n][2 + e] * p.scaling : negInf();
        top0 = fmaxf(top0, sc[n][e]);
        top1 = fmaxf(top1, sc[n][2 + e]);
      }
    for (int offset = 1; offset <= 2; offset *= 2) {
      top0 = fmaxf(top0, __shfl_xor_sync(0xffffffffu, top0, offset));
      top1 = fmaxf(top1, __shfl_xor_sync(0xffffffffu, top1, offset));
    }
    top0 = fmaxf(top0, m0);
    top1 = fmaxf(top1, m1);
    const float c0 = top0 == negInf() ? 1.0f : expf(m0 - top0);
    const float c1 = top1 == negInf() ? 1.0f : expf(m1 - top1);
    sum0 *= c0;
    sum1 *= c1;
#pragma unroll
    for (int n = 0; n < KEYS / 8; ++n)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        sc[n][e] = top0 == negInf() ? 0.0f : expf(sc[n][e] - top0);
        sc[n][2 + e] = top1 == negInf() ? 0.0f : expf(sc[n][2 + e] - top1);
        sum0 += sc[n][e];
        sum1 += sc[n][2 + e];
      }
#pragma unroll
    for (int n = 0; n < NTILES; ++n) {
      o[n][0] *= c0;
      o[n][1] *= c0;
      o[n][2] *= c1;
      o[n][3] *= c1;
    }
    m0 = top0;
    m1 = top1;

    // O += P·V: the C fragments of S for keys 16kk.. are the A fragment of
    // the k-step kk (FlashAttention-2's register reuse).
#pragma unroll
    for (int kk = 0; kk < KEYS / 16; ++kk) {
      uint32_t ph[4], pl[4];
      splitPair<A>(sc[2 * kk][0], sc[2 * kk][1], ph[0], pl[0]);
      splitPair<A>(sc[2 * kk][2], sc[2 * kk][3], ph[1], pl[1]);
      splitPair<A>(sc[2 * kk + 1][0], sc[2 * kk + 1][1], ph[2], pl[2]);
      splitPair<A>(sc[2 * kk + 1][2], sc[2 * kk + 1][3], ph[3], pl[3]);
#pragma unroll
      for (int nd = 0; nd < D / 16; ++nd) {
        uint32_t b[4];
        ldmatrixTrans(
            &valueTile[kk * 16 + (lane & 15)][nd * 16 + (lane >> 4) * 8], b);
        mma16816<A>(o[2 * nd], ph, b[0], b[1]);
        mma16816<A>(o[2 * nd], pl, b[0], b[1]);
        mma16816<A>(o[2 * nd + 1], ph, b[2], b[3]);
        mma16816<A>(o[2 * nd + 1], pl, b[2], b[3]);
      }
    }
    __syncthreads();
  }

  for (int offset = 1; offset <= 2; offset *= 2) {
    sum0 += __shfl_xor_sync(0xffffffffu, sum0, offset);
    sum1 += __shfl_xor_sync(0xffffffffu, sum1, offset);
  }
  S *out = static_cast<S *>(p.out.data);
#pragma unroll
  for (int n = 0; n < NTILES; ++n)
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const int64_t col = head * D + n * 8 + (lane % 4) * 2 + e;
      if (ta < rowsTotal)
        out[at(p.out, ta, col)] =
            A::store(f0 <= l0 ? o[n][e] / sum0 : quietNaN());
      if (tb < rowsTotal)
        out[at(p.out, tb, col)] =
            A::store(f1 <= l1 ? o[n][2 + e] / sum1 : quietNaN());
    }
}

//===----------------------------------------------------------------------===//
// Launch
//===----------------------------------------------------------------------===//

/// Calls f(std::integral_constant<int, D>) for the head dims the kernels
/// are built for.
template <typename F> void onHeadDim(int64_t d, F &&f) {
  if (d == 32)
    f(std::integral_constant<int, 32>{});
  else if (d == 64)
    f(std::integral_constant<int, 64>{});
  else if (d == 128)
    f(std::integral_constant<int, 128>{});
  else if (d == 256)
    f(std::integral_constant<int, 256>{});
}

template <typename F> void onGroup(int g, F &&f) {
  if (g <= 1)
    f(std::integral_constant<int, 1>{});
  else if (g <= 2)
    f(std::integral_constant<int, 2>{});
  else if (g <= 4)
    f(std::integral_constant<int, 4>{});
  else
    f(std::integral_constant<int, 8>{});
}

bool useTiles(Act act, const AttentionCall &call, int path) {
  const bool fits =
      act != Act::F32 && (call.headDim == 64 || call.headDim == 128);
  if (path == 1 || !fits)
    return false;
  return path == 2 || call.q.rows >= 16;
}

} // namespace

std::string attentionShapeProblem(Act act, int64_t d) {
  const bool ok =
      d == 32 || d == 64 || d == 128 || (d == 256 && act != Act::F32);
  if (ok)
    return "";
  return "head_dim " + std::to_string(d) +
         " is not one the CUDA attention is built for (32, 64, 128; 256 "
         "for f16 and bf16)";
}

bool launchAttention(Act act, const AttentionCall &call, int path,
                     const Launch &launch, std::string &error) {
  const CacheView cache{call.cache, call.cacheStrides[0], call.cacheStrides[1],
                        call.cacheStrides[2], call.capacity};
  const int64_t t = call.q.rows, group = call.numHeads / call.numKvHeads;
  onAct(act, [&](auto a) {
    using A = decltype(a);
    const int64_t count = call.k.rows * call.k.cols;
    const unsigned grid =
        std::min<unsigned>(blocksFor(count, 256),
                           static_cast<unsigned>(launch.multiprocessors * 8));
    writeCacheKernel<A><<<grid, 256, 0, launch.stream>>>(
        call.k, call.v, call.positions, cache, call.headDim, launch.fault);
  });
  if (!launched("the cache update", error))
    return false;

  if (useTiles(act, call, path)) {
    const TilesParams params{call.out,    call.q, call.positions,
                             cache,       group,  call.slidingWindow,
                             call.scaling};
    const dim3 grid(static_cast<unsigned>((t + 63) / 64),
                    static_cast<unsigned>(call.numHeads));
    onAct(act, [&](auto a) {
      using A = decltype(a);
      if constexpr (!std::is_same_v<A, F32Act>)
        onHeadDim(call.headDim, [&](auto d) {
          if constexpr (decltype(d)::value <= 128)
            tilesKernel<A, decltype(d)::value>
                <<<grid, kThreads, 0, launch.stream>>>(params);
        });
    });
    return launched("the attention tile kernel", error);
  }

  // The row kernel: heads of a KV head in chunks of at most 8 per block;
  // the visible keys split so that the grid covers the chip about twice,
  // never into pieces shorter than 32 of the cache's rows.
  const int headsPerBlock = static_cast<int>(std::min<int64_t>(group, 8));
  const int chunks =
      static_cast<int>((group + headsPerBlock - 1) / headsPerBlock);
  const int64_t blocks = t * call.numKvHeads * chunks;
  const int64_t wanted = (2 * launch.multiprocessors + blocks - 1) / blocks;
  const int64_t most =
      std::max<int64_t>(1, std::min<int64_t>(64, (call.capacity + 31) / 32));
  const int splits =
      static_cast<int>(std::max<int64_t>(1, std::min(wanted, most)));
  RowsParams params{call.out,      call.q, call.positions,     cache,
                    call.numHeads, group,  call.slidingWindow, headsPerBlock,
                    chunks,        splits, call.scaling,       nullptr};
  if (splits > 1) {
    void *partial = nullptr;
    const size_t bytes = static_cast<size_t>(t * call.numHeads * splits) *
                         static_cast<size_t>(call.headDim + 2) * sizeof(float);
    if (!scratch(bytes, launch, partial, error))
      return false;
    params.partial = static_cast<float *>(partial);
  }
  const dim3 grid(static_cast<unsigned>(t * splits),
                  static_cast<unsigned>(call.numKvHeads * chunks));
  onAct(act, [&](auto a) {
    using A = decltype(a);
    onHeadDim(call.headDim, [&](auto d) {
      constexpr int D = decltype(d)::value;
      if constexpr (D / (16 / sizeof(typename A::Storage)) <= 32)
        onGroup(headsPerBlock, [&](auto g) {
          rowsKernel<A, D, decltype(g)::value>
              <<<grid, kThreads, 0, launch.stream>>>(params);
        });
    });
  });
  if (!launched("the attention row kernel", error))
    return false;
  if (splits == 1)
    return true;
  onAct(act, [&](auto a) {
    combineKernel<decltype(a)>
        <<<dim3(static_cast<unsigned>(call.numHeads), static_cast<unsigned>(t)),
           128, 0, launch.stream>>>(call.out, call.positions, call.capacity,
                                    params.partial, call.numHeads, splits,
                                    static_cast<int>(call.headDim));
  });
  return launched("the attention combine kernel", error);
}

} // namespace hfq::cuda::model_ops
