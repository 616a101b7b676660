//===- TorchAo.h - torchao reference (de)quantizers -------------*- C++ -*-===//
//
// torchao v2 tensor subclasses as transformers saves them
// (specs/torchao.json; quant-formats-and-kernels.md §2.11). transformers
// quantizes with torchao at load, so both directions are here. Saving
// flattens a subclass weight: its data attribute <attr> is the checkpoint
// tensor `<module>._weight_<attr>` (torchao's flatten_tensor_state_dict), so
// `qdata` below is `_weight_qdata`, and so on.
//
// Int4 "tile_packed_to_4d" (Int4TilePackedTo4dTensor, the tinygemm layout of
// torch._weight_int4pack_mm; bf16 only). W is zero-padded to [Np, Kp]
// (Np = N rounded up to 8, Kp = K rounded up to 1024). Codes q in [0, 15];
// `qdata` i32 [Np/8, Kp/128, 32, 4] is torch._convert_weight_to_int4pack's
// CUDA layout with inner_k_tiles = 8, written here from PyTorch's
// matrix_to_m16n8k16_Bint4_layout: word qdata[nt][kt][t][j] belongs to
// output row n = 8*nt + t/4 (t = warp lane: one m16n8k16 B fragment per
// lane), covers the two 16-wide k-tiles starting at k0 = kt*128 + j*32, and
// with c = t % 4 its nibble i (bits 4i..4i+3) holds
//     k = k0 + 2c + 8*(i & 3) + (i >> 2)
// i.e. nibbles 0..3 hold k0+2c, +8, +16, +24 and nibbles 4..7 the next
// (odd) k of each, so that `(word >> 4s) & 0x000f000f` is a bf16x2 pair
// (k, k+1). `scale_and_zero` bf16 [Kp/g, Np, 2] holds (scale, zero) of group
// k/g and row n; w = (q - 8) * scale + zero, the zero in the float domain.
//
// Int4 "plain" (Int4Tensor, default v2): `qdata` i8 [N, K/2], two signed
// int4 values per byte along K, element 2j in the LOW nibble and 2j+1 in the
// high nibble (mslk pack_int4); `scale` and `zero_point` [K/g, N] in the
// weight dtype; w = q * scale + zero_point with q in [-8, 7].
//
// Int8 (Int8WeightOnlyConfig, Int8DynamicActivationInt8WeightConfig):
// `qdata` i8 [N, K], `scale` [N, 1] per row or [1, 1] per tensor (f32 from
// torchao 0.18) and `zero_point` i8 of the scale's shape (0 under the
// symmetric mapping, which is all from_hp uses for weights);
// w = (q - zp) * s.
// Float8 (Float8WeightOnly / Float8DynamicActivationFloat8Weight): `qdata`
// f8E4M3FN or f8E5M2 [N, K], `scale` f32 [N, 1] or [1, 1]; w = q * s.
//
// Dequantizers return the real value in f32 (tinygemm's kernel rounds
// (q-8)*scale+zero once to bf16 with an fma; here it is one f32 fma).
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REF_TORCHAO_H
#define HFQ_KERNELS_REF_TORCHAO_H

#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"

#include <string>
#include <vector>

namespace hfq::kernels {

struct TorchaoArgs; // kernels/generated/MethodArgs.h

/// The layout args (specs/torchao.json), checked (TorchAoEntry.cpp): format
/// 1 = int4 tile_packed_to_4d (tinygemm), 2 = int4 plain, 3 =
/// Int8WeightOnly, 4 = Int8DynamicActivationInt8Weight, 5 =
/// Float8WeightOnly, 6 = Float8DynamicActivationFloat8Weight.
struct TorchaoParams {
  int format = 1;
  int64_t groupSize = 0;
  bool perTensor = false;
};

/// `args` as TorchaoParams, checking the group size (positive for int4) and
/// that `tensors` is the number of tensors of the format's layout.
bool torchaoParams(const TorchaoArgs &args, size_t tensors, TorchaoParams &p,
                   std::string &error);

//===--- int4 tile_packed_to_4d (tinygemm) --------------------------------===//

/// _convert_weight_to_int4pack (inner_k_tiles 8) of codes q [np, kp] (values
/// 0..15, row-major); np a multiple of 8, kp of 128.
bool packTinygemmInt4(const uint8_t *q, int64_t np, int64_t kp,
                      StoredTensor &qdata, std::string &error);

/// The inverse: codes [np * kp] from qdata i32 [np/8, kp/128, 32, 4].
bool unpackTinygemmInt4(const TensorView &qdata, int64_t np, int64_t kp,
                        std::vector<uint8_t> &q, std::string &error);

/// Dequantizes the tile-packed int4 weight of logical shape [N, K] (padding
/// dropped). groupSize in {32, 64, 128, 256} (the kernel's set).
bool dequantizeTorchaoInt4Tiled(const TensorView &qdata,
                                const TensorView &scaleAndZero, int64_t n,
                                int64_t k, int64_t groupSize,
                                std::vector<float> &w, std::string &error);

struct TorchaoInt4Tiled {
  StoredTensor qdata;        // i32 [Np/8, Kp/128, 32, 4]
  StoredTensor scaleAndZero; // bf16 [Kp/g, Np, 2]
};

/// Int4TilePackedTo4dTensor.from_hp with the TINYGEMM qparams algorithm:
/// the weight is taken as bf16 and padded; per (row, group) in bf16
/// arithmetic (each op rounded to bf16, as torch computes on bf16 tensors):
/// scale = max((max - min) / 15, 2^-126), zero = min + scale * 8,
/// q = clamp(round((w - (zero - scale * 8)) / scale), 0, 15).
bool quantizeTorchaoInt4Tiled(const float *w, int64_t n, int64_t k,
                              int64_t groupSize, TorchaoInt4Tiled &out,
                              std::string &error);

//===--- int4 plain -------------------------------------------------------===//

bool dequantizeTorchaoInt4Plain(const TensorView &qdata,
                                const TensorView &scale,
                                const TensorView &zeroPoint, int64_t n,
                                int64_t k, int64_t groupSize,
                                std::vector<float> &w, std::string &error);

struct TorchaoInt4Plain {
  StoredTensor qdata;     // i8 [N, K/2]
  StoredTensor scale;     // dtype [K/g, N]
  StoredTensor zeroPoint; // dtype [K/g, N]
};

/// Int4Tensor.from_hp (mslk int4_row_quantize_zp), in f32: per (row, group)
/// scale = max(max - min, 1e-6) / 15, zero = min + 8 * scale,
/// q = clamp(round((w - min) / scale), 0, 15) - 8; scale and zero are then
/// stored in `dtype` (the weight's, bf16 in practice; the weight is taken as
/// stored in it). K must be even and a multiple of groupSize.
bool quantizeTorchaoInt4Plain(const float *w, int64_t n, int64_t k,
                              int64_t groupSize, DType dtype,
                              TorchaoInt4Plain &out, std::string &error);

//===--- int8 and float8 --------------------------------------------------===//

/// Checks Int8Tensor's `qdata` i8 [N, K], `scale` [N, 1] or [1, 1] (any
/// float dtype: torchao 0.17 and older stored the weight's) and `zeroPoint`
/// i8 of the scale's shape; `perTensor` tells which scale shape it is.
bool checkTorchaoInt8(const TensorView &qdata, const TensorView &scale,
                      const TensorView &zeroPoint, int64_t n, int64_t k,
                      bool &perTensor, std::string &error);

/// w = (qdata - zeroPoint) * scale over the tensors checkTorchaoInt8 takes.
bool dequantizeTorchaoInt8(const TensorView &qdata, const TensorView &scale,
                           const TensorView &zeroPoint, int64_t n, int64_t k,
                           std::vector<float> &w, std::string &error);

/// `qdata` f8E4M3FN / f8E5M2 [N, K], `scale` f32 [N, 1] or [1, 1].
bool dequantizeTorchaoFloat8(const TensorView &qdata, const TensorView &scale,
                             int64_t n, int64_t k, std::vector<float> &w,
                             std::string &error);

struct TorchaoInt8 {
  StoredTensor qdata;     // i8 [N, K]
  StoredTensor scale;     // [N, 1] or [1, 1]
  StoredTensor zeroPoint; // i8, the scale's shape
};

/// Int8Tensor.from_hp, symmetric: the weight taken as `dtype` (its model
/// dtype); scale = max(amax / 127.5, 2^-23) computed and rounded in `dtype`
/// (choose_qparams_affine runs in the input's dtype), stored as
/// `scaleDtype` (f32 from torchao 0.18, the layout's);
/// q = clamp(round(w * (1 / scale)), -128, 127) in f32; the zero point 0.
bool quantizeTorchaoInt8(const float *w, int64_t n, int64_t k, bool perTensor,
                         DType dtype, DType scaleDtype, TorchaoInt8 &out,
                         std::string &error);

/// The dynamic per-token activation quantization of
/// Int8DynamicActivationInt8WeightConfig (same rule, per row of x [M, K]);
/// `dtype` is the activation dtype.
bool quantizeTorchaoInt8Activation(const float *x, int64_t m, int64_t k,
                                   DType dtype, std::vector<int8_t> &xq,
                                   std::vector<float> &scales,
                                   std::string &error);

/// Int8DynamicActivationInt8WeightConfig's linear:
/// y = dtype(float(sum xq * (wq - zp)) * s_x) * s_w (+ bias), the integer
/// sum exact and the intermediate rounded to the activation `dtype` as
/// torchao does (whose weights are symmetric: zp = 0).
bool torchaoInt8DynamicLinear(const float *x, int64_t m,
                              const TensorView &qdata, const TensorView &scale,
                              const TensorView &zeroPoint, int64_t n, int64_t k,
                              const float *bias, DType dtype,
                              std::vector<float> &y, std::string &error);

} // namespace hfq::kernels

#endif // HFQ_KERNELS_REF_TORCHAO_H
