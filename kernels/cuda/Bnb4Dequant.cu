//===- Bnb4Dequant.cu - bitsandbytes NF4 / FP4 to a dense 16-bit W --------===//
//
// The prefill path of the 4-bit bitsandbytes weights (Bnb4.h): every
// element dequantized as bnb's dequantize_4bit does (table value times the
// block's absmax, in f32, rounded once to the activation type) into a dense
// row-major [N, K] scratch, which cuBLAS then multiplies (Dequant.cu's
// denseLinear). The flat order of bnb's codes is the dense matrix's, so a
// thread takes 8 consecutive elements (4 code bytes, one block: blocks are
// multiples of 8) and writes them as one 16-byte store, whatever N and K.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/Bnb4.h"
#include "kernels/cuda/Dispatch.cuh"
#include "kernels/cuda/Fragments.cuh"
#include "kernels/cuda/Internal.h"

#include <cuda_runtime.h>

#include <algorithm>

namespace hfq::cuda {
namespace {

using namespace frag;

struct Bnb4DequantParams {
  const uint8_t *codes;
  const void *absmax;
  const float *nestedAbsmax;
  const float *nestedMap;
  float table[16];
  float offset;
  long long total; // n * k
  int blockShift;  // log2(blocksize)
  int nestedShift; // log2(nested blocksize), or -1: divide
  long long nestedBlocksize;
};

template <typename T, bool NESTED>
__global__ void __launch_bounds__(256)
    bnb4DequantKernel(const Bnb4DequantParams p, T *dense) {
  __shared__ float table[16];
  if (threadIdx.x < 16)
    table[threadIdx.x] = p.table[threadIdx.x];
  __syncthreads();
  const long long groups = (p.total + 7) / 8;
  for (long long gi =
           blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
       gi < groups; gi += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long first = gi * 8;
    // The codes buffer is zero-padded to 16 bytes: a last partial group
    // reads its four bytes whole.
    const uint32_t word =
        __ldg(reinterpret_cast<const uint32_t *>(p.codes) + gi);
    const long long block = first >> p.blockShift;
    float s;
    if constexpr (NESTED) {
      const long long nb = p.nestedShift >= 0 ? block >> p.nestedShift
                                              : block / p.nestedBlocksize;
      s = __fadd_rn(
          __fmul_rn(
              __ldg(p.nestedMap +
                    __ldg(static_cast<const uint8_t *>(p.absmax) + block)),
              __ldg(p.nestedAbsmax + nb)),
          p.offset);
    } else
      s = __ldg(static_cast<const float *>(p.absmax) + block);
    T v[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      // Element 2j is the high nibble of byte j.
      const uint32_t code = (word >> (8 * (e / 2) + (e % 2 ? 0 : 4))) & 0xF;
      v[e] = fromFloat<T>(__fmul_rn(table[code], s));
    }
    if (first + 8 <= p.total) {
      *reinterpret_cast<uint4 *>(dense + first) =
          *reinterpret_cast<const uint4 *>(v);
    } else {
      for (int e = 0; first + e < p.total; ++e)
        dense[first + e] = v[e];
    }
  }
}

} // namespace

bool detail::bnb4LaunchDequant(const Bnb4Weight &w, void *dense,
                               cudaStream_t stream, std::string &error) {
  Bnb4DequantParams p{};
  p.codes = static_cast<const uint8_t *>(w.codes);
  p.absmax = w.absmax;
  p.nestedAbsmax = w.nestedAbsmax;
  p.nestedMap = w.nestedQuantMap;
  const auto &table = kernels::bnb4CodeTable(w.nf4 ? kernels::Bnb4Type::NF4
                                                   : kernels::Bnb4Type::FP4);
  std::copy(table.begin(), table.end(), p.table);
  p.offset = w.nestedOffset;
  p.total = w.n * w.k;
  p.blockShift = log2Exact(w.blocksize);
  p.nestedShift = log2Exact(w.nestedBlocksize);
  p.nestedBlocksize = w.nestedBlocksize;
  if (p.blockShift < 3) {
    error = "the bnb 4-bit blocksize must be a power of two >= 8, got " +
            std::to_string(w.blocksize);
    return false;
  }
  const long long groups = (p.total + 7) / 8;
  const int blocks =
      static_cast<int>(std::min<long long>((groups + 255) / 256, 65536));
  return dispatch::onAct(w.act, [&](auto type) {
    using T = typename decltype(type)::type;
    if (w.nested)
      bnb4DequantKernel<T, true>
          <<<blocks, 256, 0, stream>>>(p, static_cast<T *>(dense));
    else
      bnb4DequantKernel<T, false>
          <<<blocks, 256, 0, stream>>>(p, static_cast<T *>(dense));
    HFQ_LAUNCH_CHECK("the bnb 4-bit dequantize kernel");
    return true;
  });
}

} // namespace hfq::cuda
