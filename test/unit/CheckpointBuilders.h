//===- CheckpointBuilders.h - Random checkpoints, spec layouts --*- C++ -*-===//
//
// One linear's checkpoint tensors, built from random codes, scales and zeros
// exactly as the layout in specs/<method>.json stores them (and as the
// method's CPU reference reads them), together with the layout's `args` in
// spec order; and the kernel-ABI tensor table and memref descriptors that
// pass them to an entry point (kernels/include/hfq_kernels.h).
//
// Shared by the repack unit test (test/unit/RepackTest.cpp) and the CUDA
// entry-point test (test/gpu/EntryGpuTest.cpp), so neither GoogleTest nor
// anything beyond the reference kernels' headers and
// mlir/ExecutionEngine/CRunnerUtils.h is used here. A builder that cannot
// pack what it drew (a bug of the test, not of the code under test) records
// it in Checkpoint::error.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_TEST_UNIT_CHECKPOINTBUILDERS_H
#define HFQ_TEST_UNIT_CHECKPOINTBUILDERS_H

#include "kernels/include/hfq_kernels.h"
#include "kernels/ref/CompressedTensors.h"
#include "kernels/ref/Eetq.h"
#include "kernels/ref/Quanto.h"
#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"
#include "kernels/ref/TorchAo.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace hfq::kernels::builders {

//===----------------------------------------------------------------------===//
// Checkpoints and the ABI
//===----------------------------------------------------------------------===//

/// One linear's layout arguments and tensors, owned.
/// (Room for eight tensors is reserved, so that a reference returned by
/// add() survives the next add() of a fresh checkpoint.)
struct Checkpoint {
  std::vector<double> args;
  std::vector<StoredTensor> tensors;
  std::string error; // set by a builder that could not pack its input

  Checkpoint() { tensors.reserve(8); }

  StoredTensor &add(DType dtype, std::vector<int64_t> shape) {
    tensors.emplace_back();
    tensors.back().reset(dtype, std::move(shape));
    return tensors.back();
  }
  std::vector<TensorView> views() const {
    std::vector<TensorView> out;
    for (const StoredTensor &t : tensors)
      out.push_back(t.view());
    return out;
  }
};

inline int64_t dtypeCode(DType dtype) {
  switch (dtype) {
  case DType::I8:
    return HFQ_I8;
  case DType::U8:
    return HFQ_U8;
  case DType::I16:
    return HFQ_I16;
  case DType::I32:
    return HFQ_I32;
  case DType::F16:
    return HFQ_F16;
  case DType::BF16:
    return HFQ_BF16;
  case DType::F32:
    return HFQ_F32;
  case DType::F8E4M3FN:
    return HFQ_F8E4M3FN;
  case DType::F8E5M2:
    return HFQ_F8E5M2;
  case DType::I64:
    return HFQ_I64;
  }
  return 0;
}

/// A contiguous row-major 2-D memref descriptor over `data` [rows, cols].
template <typename T>
StridedMemRefType<T, 2> memref2d(T *data, int64_t rows, int64_t cols) {
  return {data, data, 0, {rows, cols}, {cols, 1}};
}

/// A contiguous 1-D memref descriptor over `data` [size].
template <typename T> StridedMemRefType<T, 1> memref1d(T *data, int64_t size) {
  return {data, data, 0, {size}, {1}};
}

/// The args and tensor table of a checkpoint, as lowered IR passes them:
/// one table row per tensor (address, HfqDType, rank, sizes, 0). Holds
/// addresses into `ckpt`, which must outlive it.
struct AbiOperands {
  std::vector<double> args;
  std::vector<int64_t> table;
  StridedMemRefType<double, 1> argsRef;
  StridedMemRefType<int64_t, 2> tableRef;

  explicit AbiOperands(const Checkpoint &ckpt)
      : args(ckpt.args),
        table(std::max<size_t>(ckpt.tensors.size(), 1) * HFQ_TABLE_COLUMNS, 0) {
    for (size_t t = 0; t < ckpt.tensors.size(); ++t) {
      const StoredTensor &s = ckpt.tensors[t];
      int64_t *row = table.data() + t * HFQ_TABLE_COLUMNS;
      row[0] = static_cast<int64_t>(reinterpret_cast<intptr_t>(s.bytes.data()));
      row[1] = dtypeCode(s.dtype);
      row[2] = static_cast<int64_t>(s.shape.size());
      for (size_t d = 0; d < s.shape.size(); ++d)
        row[3 + d] = s.shape[d];
    }
    argsRef = memref1d(args.data(), static_cast<int64_t>(args.size()));
    tableRef = memref2d(table.data(), static_cast<int64_t>(ckpt.tensors.size()),
                        int64_t(HFQ_TABLE_COLUMNS));
  }
  AbiOperands(const AbiOperands &) = delete;
  AbiOperands &operator=(const AbiOperands &) = delete;
};

struct Rng {
  std::mt19937 gen;
  explicit Rng(unsigned seed) : gen(seed) {}
  int64_t range(int64_t lo, int64_t hi) { // inclusive
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen);
  }
  float uniform(float lo, float hi) {
    return std::uniform_real_distribution<float>(lo, hi)(gen);
  }
  /// A scale: positive or negative, magnitudes over two decades.
  float scale() {
    float s = uniform(1e-3f, 5e-2f);
    return range(0, 7) == 0 ? -s : s;
  }
};

/// Ors `value` into field `i` (b bits) of an LSB-first bit stream of i32
/// words at first, first + stride, ...; a field may straddle two words
/// (3-bit GPTQ: 32 fields fill three words).
inline void orField(StoredTensor &t, int64_t first, int64_t stride, int bits,
                    int64_t i, uint32_t value) {
  const int64_t bit = bits * i, word = first + (bit / 32) * stride;
  const int shift = static_cast<int>(bit % 32);
  t.setBits(word, t.bitsAt(word) | (value << shift));
  if (shift + bits > 32)
    t.setBits(word + stride, t.bitsAt(word + stride) | (value >> (32 - shift)));
}

//===----------------------------------------------------------------------===//
// gptq: qweight, qzeros, scales, g_idx; args bits, group_size,
// zero_stored_minus_one
//===----------------------------------------------------------------------===//

struct GptqCase {
  int bits;
  bool v1; // format 'gptq': zeros stored minus one
  bool sym;
  int64_t n, k, groupSize;
  bool actOrder;
};

/// A random GPTQ checkpoint; `codes` / `zeros` receive what was stored.
inline Checkpoint gptqCheckpoint(const GptqCase &c, Rng &rng,
                                 std::vector<uint8_t> &codes,
                                 std::vector<int> &zeros) {
  const int b = c.bits;
  const int64_t g = c.groupSize == -1 ? c.k : c.groupSize;
  const int64_t groups = (c.k + g - 1) / g;
  Checkpoint ck;
  ck.args = {double(b), double(c.groupSize), c.v1 ? 1.0 : 0.0};
  StoredTensor &qweight = ck.add(DType::I32, {c.k * b / 32, c.n});
  StoredTensor &qzeros = ck.add(DType::I32, {groups, c.n * b / 32});
  StoredTensor &scales = ck.add(DType::F16, {groups, c.n});
  StoredTensor &gIdx = ck.add(DType::I32, {c.k});
  codes.assign(static_cast<size_t>(c.n * c.k), 0);
  for (int64_t col = 0; col < c.n; ++col)
    for (int64_t i = 0; i < c.k; ++i) {
      const uint32_t q = static_cast<uint32_t>(rng.range(0, (1 << b) - 1));
      codes[static_cast<size_t>(col * c.k + i)] = static_cast<uint8_t>(q);
      orField(qweight, col, c.n, b, i, q);
    }
  zeros.assign(static_cast<size_t>(groups * c.n), 0);
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t col = 0; col < c.n; ++col) {
      // v1 stores zero - 1: zeros in [1, 2^b) keep the stored field below
      // the 2^b - 1 that reads back as the overflow zero 2^b.
      const int z =
          c.sym ? 1 << (b - 1)
                : static_cast<int>(rng.range(c.v1 ? 1 : 0, (1 << b) - 1));
      zeros[static_cast<size_t>(gi * c.n + col)] = z;
      orField(qzeros, gi * (c.n * b / 32), 1, b, col,
              static_cast<uint32_t>(c.v1 ? z - 1 : z));
      scales.setFloat(gi * c.n + col, rng.scale());
    }
  std::vector<int64_t> order(static_cast<size_t>(c.k));
  std::iota(order.begin(), order.end(), 0);
  if (c.actOrder)
    std::shuffle(order.begin(), order.end(), rng.gen);
  for (int64_t j = 0; j < c.k; ++j)
    gIdx.setBits(order[static_cast<size_t>(j)], static_cast<uint32_t>(j / g));
  return ck;
}

//===----------------------------------------------------------------------===//
// awq (gemm, version 0): qweight, qzeros, scales; args bits, group_size,
// version
//===----------------------------------------------------------------------===//

inline Checkpoint awqCheckpoint(int64_t n, int64_t k, int64_t groupSize,
                                Rng &rng, std::vector<uint8_t> &codes) {
  static const int nibbleOf[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  const int64_t g = groupSize == -1 ? k : groupSize, groups = k / g;
  Checkpoint ck;
  ck.args = {4, double(groupSize), 0};
  StoredTensor &qweight = ck.add(DType::I32, {k, n / 8});
  StoredTensor &qzeros = ck.add(DType::I32, {groups, n / 8});
  StoredTensor &scales = ck.add(DType::F16, {groups, n});
  auto put = [&](StoredTensor &t, int64_t row, int64_t col, uint32_t v) {
    const int64_t word = row * (n / 8) + col / 8;
    t.setBits(word, t.bitsAt(word) | v << (4 * nibbleOf[col % 8]));
  };
  codes.assign(static_cast<size_t>(n * k), 0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t c = 0; c < n; ++c) {
      const uint32_t q = static_cast<uint32_t>(rng.range(0, 15));
      codes[static_cast<size_t>(c * k + i)] = static_cast<uint8_t>(q);
      put(qweight, i, c, q);
    }
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t c = 0; c < n; ++c) {
      put(qzeros, gi, c, static_cast<uint32_t>(rng.range(0, 15)));
      scales.setFloat(gi * n + c, rng.scale());
    }
  return ck;
}

//===----------------------------------------------------------------------===//
// compressed-tensors (int weights): the nine args block_n, block_k, format,
// num_bits, strategy, group_size, asymmetric, g_idx, input_mode
//===----------------------------------------------------------------------===//

enum CtFormat { CtPacked = 0, CtInt = 1, CtNaive = 2 };
enum CtStrat { CtTensor = 0, CtChannel = 1, CtGroup = 2 };

struct CtCase {
  CtFormat format;
  int bits;
  CtStrat strategy;
  bool asym;
  int64_t n, k, groupSize;
  bool actOrder;
};

/// `codes` receive the stored signed values v as v + 2^(bits-1).
inline Checkpoint ctCheckpoint(const CtCase &c, Rng &rng,
                               std::vector<uint8_t> &codes) {
  const int64_t cols =
      c.strategy == CtGroup ? (c.k + c.groupSize - 1) / c.groupSize : 1;
  const std::vector<int64_t> grid = c.strategy == CtTensor
                                        ? std::vector<int64_t>{1}
                                        : std::vector<int64_t>{c.n, cols};
  const int64_t params = c.strategy == CtTensor ? 1 : c.n * cols;
  const int half = 1 << (c.bits - 1);
  Checkpoint ck;
  ck.args = {0,
             0,
             double(c.format),
             double(c.bits),
             double(c.strategy),
             c.strategy == CtGroup ? double(c.groupSize) : 0.0,
             c.asym ? 1.0 : 0.0,
             c.actOrder ? 1.0 : 0.0,
             0};
  std::vector<int32_t> values(static_cast<size_t>(c.n * c.k));
  codes.resize(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<int32_t>(rng.range(-half, half - 1));
    codes[i] = static_cast<uint8_t>(values[i] + half);
  }
  std::string error;
  if (c.format == CtPacked) {
    ck.tensors.emplace_back();
    if (!packCtInt32(values.data(), c.n, c.k, c.bits, 1, ck.tensors.back(),
                     error))
      ck.error = "weight_packed: " + error;
  } else {
    StoredTensor &w = ck.add(DType::I8, {c.n, c.k});
    for (size_t i = 0; i < values.size(); ++i)
      w.setBits(static_cast<int64_t>(i), static_cast<uint32_t>(values[i]));
  }
  StoredTensor &scale = ck.add(DType::BF16, grid);
  for (int64_t i = 0; i < params; ++i)
    scale.setFloat(i, rng.scale());
  if (c.asym) {
    std::vector<int32_t> zp(static_cast<size_t>(params));
    for (int32_t &z : zp)
      z = static_cast<int32_t>(rng.range(-half, half - 1));
    zp[0] = zp[0] == 0 ? 1 : zp[0]; // not all 0: stays Integer
    if (c.format == CtPacked && c.strategy != CtTensor) {
      ck.tensors.emplace_back();
      if (!packCtInt32(zp.data(), c.n, cols, c.bits, 0, ck.tensors.back(),
                       error))
        ck.error = "weight_zero_point: " + error;
    } else {
      StoredTensor &t = ck.add(DType::I8, grid);
      for (int64_t i = 0; i < params; ++i)
        t.setBits(i, static_cast<uint32_t>(zp[static_cast<size_t>(i)]));
    }
  }
  if (c.actOrder) {
    std::vector<int64_t> order(static_cast<size_t>(c.k));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng.gen);
    StoredTensor &g = ck.add(DType::I32, {c.k});
    for (int64_t j = 0; j < c.k; ++j)
      g.setBits(order[static_cast<size_t>(j)],
                static_cast<uint32_t>(j / c.groupSize));
  }
  if (c.format == CtPacked) {
    StoredTensor &shape = ck.add(DType::I64, {2});
    shape.setBits(0, static_cast<uint32_t>(c.n));
    shape.setBits(1, static_cast<uint32_t>(c.k));
  }
  return ck;
}

//===----------------------------------------------------------------------===//
// hqq: W_q, scale, zero; args nbits, group_size, axis, view_as_float,
// round_zero, optimize
//===----------------------------------------------------------------------===//

/// An axis-1 HQQ checkpoint (nbits 4, or 8/6/5 one code per byte);
/// groupSize 0 is one group per row.
inline Checkpoint hqqCheckpoint(int nbits, int64_t n, int64_t k,
                                int64_t groupSize, bool viewAsFloat, Rng &rng,
                                std::vector<uint8_t> &codes) {
  const int64_t g = groupSize == 0 ? k : groupSize;
  const int64_t rows = n * k / g, cols = g;
  const int maxCode = (1 << nbits) - 1;
  codes.resize(static_cast<size_t>(n * k));
  for (uint8_t &q : codes)
    q = static_cast<uint8_t>(rng.range(0, maxCode));
  Checkpoint ck;
  ck.args = {
      double(nbits), double(groupSize), 1, viewAsFloat ? 1.0 : 0.0, 0, 1};
  StoredTensor wq;
  if (nbits == 4) {
    // Plane 0 (grouped rows [0, R/2)) in the high nibble.
    wq.reset(DType::U8, {rows / 2, cols});
    for (int64_t r = 0; r < rows / 2; ++r)
      for (int64_t c = 0; c < cols; ++c)
        wq.setBits(
            r * cols + c,
            static_cast<uint32_t>(codes[static_cast<size_t>(r * cols + c)])
                    << 4 |
                codes[static_cast<size_t>((r + rows / 2) * cols + c)]);
  } else {
    wq.reset(DType::U8, {rows, cols});
    for (int64_t i = 0; i < rows * cols; ++i)
      wq.setBits(i, codes[static_cast<size_t>(i)]);
  }
  if (viewAsFloat) {
    wq.dtype = DType::F16;
    wq.shape.back() /= 2;
  }
  ck.tensors.push_back(std::move(wq));
  StoredTensor &scale = ck.add(DType::F16, {rows, 1});
  StoredTensor &zero = ck.add(DType::F16, {rows, 1});
  for (int64_t r = 0; r < rows; ++r) {
    scale.setFloat(r, rng.scale());
    zero.setFloat(r, rng.uniform(0.0f, static_cast<float>(maxCode)));
  }
  return ck;
}

//===----------------------------------------------------------------------===//
// torchao: args format, group_size, per_tensor
//===----------------------------------------------------------------------===//

/// Int4WeightOnly tile_packed_to_4d: _weight_qdata i32 [Np/8, Kp/128, 32, 4]
/// (Np = roundup(N, 8), Kp = roundup(K, 1024)) and _weight_scale_and_zero
/// bf16 [Kp/g, Np, 2]; `codes` [n * k] in [0, 16).
inline Checkpoint torchaoInt4TilePacked(int64_t n, int64_t k, int64_t g,
                                        Rng &rng, std::vector<uint8_t> &codes) {
  const int64_t np = (n + 7) / 8 * 8, kp = (k + 1023) / 1024 * 1024;
  std::vector<uint8_t> padded(static_cast<size_t>(np * kp), 0);
  codes.clear();
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      const uint8_t q = static_cast<uint8_t>(rng.range(0, 15));
      padded[static_cast<size_t>(r * kp + c)] = q;
      codes.push_back(q);
    }
  Checkpoint ck;
  ck.args = {1, double(g), 0};
  ck.tensors.emplace_back();
  std::string error;
  if (!packTinygemmInt4(padded.data(), np, kp, ck.tensors.back(), error))
    ck.error = "_weight_qdata: " + error;
  StoredTensor &sz = ck.add(DType::BF16, {kp / g, np, 2});
  for (int64_t i = 0; i < kp / g * np; ++i) {
    sz.setFloat(2 * i, rng.scale());
    sz.setFloat(2 * i + 1, rng.uniform(-0.5f, 0.5f));
  }
  return ck;
}

/// Int4WeightOnly plain: _weight_qdata i8 [N, K/2] (signed nibbles, even k
/// low), _weight_scale and _weight_zero_point bf16 [K/g, N].
inline Checkpoint torchaoInt4Plain(int64_t n, int64_t k, int64_t g, Rng &rng,
                                   std::vector<uint8_t> &codes) {
  Checkpoint ck;
  ck.args = {2, double(g), 0};
  StoredTensor &qdata = ck.add(DType::I8, {n, k / 2});
  codes.assign(static_cast<size_t>(n * k), 0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      const int64_t v = rng.range(-8, 7);
      codes[static_cast<size_t>(r * k + c)] = static_cast<uint8_t>(v + 8);
      const int64_t at = r * (k / 2) + c / 2;
      const uint32_t nibble = static_cast<uint32_t>(v) & 0xf;
      qdata.setBits(at, qdata.bitsAt(at) | (c % 2 ? nibble << 4 : nibble));
    }
  StoredTensor &scale = ck.add(DType::BF16, {k / g, n});
  StoredTensor &zp = ck.add(DType::BF16, {k / g, n});
  for (int64_t i = 0; i < k / g * n; ++i) {
    scale.setFloat(i, rng.scale());
    zp.setFloat(i, rng.uniform(-0.5f, 0.5f));
  }
  return ck;
}

/// Int8WeightOnly as torchao 0.18 writes it: _weight_qdata i8 [N, K],
/// _weight_scale f32 [N or 1, 1], _weight_zero_point i8 of the scale's shape,
/// all 0 (from_hp's symmetric mapping).
inline Checkpoint torchaoInt8(int64_t n, int64_t k, bool perTensor, Rng &rng,
                              std::vector<uint8_t> &codes) {
  Checkpoint ck;
  ck.args = {3, 0, perTensor ? 1.0 : 0.0};
  StoredTensor &qdata = ck.add(DType::I8, {n, k});
  codes.clear();
  for (int64_t i = 0; i < n * k; ++i) {
    const int64_t v = rng.range(-128, 127);
    codes.push_back(static_cast<uint8_t>(v + 128));
    qdata.setBits(i, static_cast<uint32_t>(v));
  }
  StoredTensor &scale = ck.add(DType::F32, {perTensor ? 1 : n, 1});
  for (int64_t i = 0; i < scale.numel(); ++i)
    scale.setFloat(i, rng.scale());
  ck.add(DType::I8, scale.shape);
  return ck;
}

//===----------------------------------------------------------------------===//
// quanto: args weights, bits, group_size; the layout ends with the scalar
// input_scale and output_scale
//===----------------------------------------------------------------------===//

inline void addQuantoActivationScales(Checkpoint &ck) {
  ck.add(DType::F16, {}).setFloat(0, 1.0f);
  ck.add(DType::F16, {}).setFloat(0, 1.0f);
}

/// qint8: weight._data i8 [N, K], weight._scale f16 [N, 1].
inline Checkpoint quantoInt8(int64_t n, int64_t k, Rng &rng,
                             std::vector<uint8_t> &codes) {
  Checkpoint ck;
  ck.args = {0, 8, 0};
  StoredTensor &data = ck.add(DType::I8, {n, k});
  codes.clear();
  for (int64_t i = 0; i < n * k; ++i) {
    const int64_t v = rng.range(-128, 127);
    codes.push_back(static_cast<uint8_t>(v + 128));
    data.setBits(i, static_cast<uint32_t>(v));
  }
  StoredTensor &scale = ck.add(DType::F16, {n, 1});
  for (int64_t i = 0; i < n; ++i)
    scale.setFloat(i, rng.scale());
  addQuantoActivationScales(ck);
  return ck;
}

/// qint4 with quanto's group size: planes of R' = ceil(R/2) rows, the first
/// in the low nibble. `shiftDtype` f16 (float shift) or ui8 / i8.
inline Checkpoint quantoInt4(int64_t n, int64_t k, DType shiftDtype, Rng &rng,
                             std::vector<uint8_t> &codes) {
  const int64_t g = quantoGroupSize(k), rows = n * k / g;
  const int64_t planeRows = (rows + 1) / 2;
  codes.resize(static_cast<size_t>(n * k));
  for (uint8_t &q : codes)
    q = static_cast<uint8_t>(rng.range(0, 15));
  Checkpoint ck;
  ck.args = {2, 4, double(g)};
  StoredTensor &data = ck.add(DType::U8, {planeRows, g});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < g; ++c) {
      const int64_t at = (r % planeRows) * g + c;
      data.setBits(
          at, data.bitsAt(at) |
                  static_cast<uint32_t>(codes[static_cast<size_t>(r * g + c)])
                      << (4 * (r / planeRows)));
    }
  StoredTensor &scale = ck.add(DType::F16, {rows, 1});
  StoredTensor &shift = ck.add(shiftDtype, {rows, 1});
  for (int64_t r = 0; r < rows; ++r) {
    scale.setFloat(r, rng.scale());
    if (shiftDtype == DType::F16)
      shift.setFloat(r, rng.uniform(-0.2f, 0.2f));
    else
      shift.setBits(r, static_cast<uint32_t>(rng.range(0, 15)));
  }
  addQuantoActivationScales(ck);
  return ck;
}

//===----------------------------------------------------------------------===//
// eetq: weight i8 [K, N] (FasterTransformer-preprocessed Wᵀ), weight_scales
// f16 [N]; no args
//===----------------------------------------------------------------------===//

/// N and K multiples of 64 (the sm80 layout).
inline Checkpoint eetqCheckpoint(int64_t n, int64_t k, Rng &rng,
                                 std::vector<uint8_t> &codes) {
  std::vector<int8_t> qt(static_cast<size_t>(k * n)); // Wᵀ [K, N]
  codes.assign(static_cast<size_t>(n * k), 0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t c = 0; c < n; ++c) {
      const int64_t v = rng.range(-128, 127);
      qt[static_cast<size_t>(i * n + c)] = static_cast<int8_t>(v);
      codes[static_cast<size_t>(c * k + i)] = static_cast<uint8_t>(v + 128);
    }
  Checkpoint ck;
  std::vector<int8_t> stored;
  std::string error;
  StoredTensor &weight = ck.add(DType::I8, {k, n});
  if (preprocessEetqWeight(qt.data(), k, n, stored, error) &&
      stored.size() == weight.bytes.size())
    std::memcpy(weight.bytes.data(), stored.data(), stored.size());
  else
    ck.error = "weight: " + (error.empty() ? "wrong size" : error);
  StoredTensor &scales = ck.add(DType::F16, {n});
  for (int64_t c = 0; c < n; ++c)
    scales.setFloat(c, rng.scale());
  return ck;
}

//===----------------------------------------------------------------------===//
// bitsandbytes 8-bit (Linear8bitLt): CB i8 [N, K] row-major, SCB f32 [N];
// args llm_int8_threshold
//===----------------------------------------------------------------------===//

/// A random LLM.int8() checkpoint; `codes` receive CB + 128 (the converter's
/// unsigned codes, symmetric around 128).
inline Checkpoint bnb8Checkpoint(int64_t n, int64_t k, double threshold, Rng &rng,
                                 std::vector<uint8_t> &codes) {
  Checkpoint ck;
  ck.args = {threshold};
  StoredTensor &cb = ck.add(DType::I8, {n, k});
  StoredTensor &scb = ck.add(DType::F32, {n});
  codes.clear();
  for (int64_t i = 0; i < n * k; ++i) {
    const int64_t v = rng.range(-127, 127);
    codes.push_back(static_cast<uint8_t>(v + 128));
    cb.setBits(i, static_cast<uint32_t>(v));
  }
  for (int64_t r = 0; r < n; ++r)
    scb.setFloat(r, rng.uniform(0.01f, 4.0f));
  return ck;
}

} // namespace hfq::kernels::builders

#endif // HFQ_TEST_UNIT_CHECKPOINTBUILDERS_H
