//===- FineGrainedFp8Entry.cpp - FineGrainedFP8 through the kernel ABI ----===//
//
// args: Fp8Args (specs/fp8.json layouts: block_n, block_k with 0, 0 = per
// tensor, static_activation, dequantize). Packed: weight, weight_scale_inv and,
// with activation_scheme "static", activation_scale.
//
// hfq_ref_fp8: FP8Linear (dynamic 1 x block_k activation quantization, or the
// static activation_scale; block-scaled GEMM). transformers quantizes FP8 at
// load, so `hfq_ref_fp8_quantize_f32` runs Fp8Quantize (not for a static
// activation scale, which needs calibration).
//
// hfq_fp8_dequant_bf16: the `dequantize` fallback (fp8's dequantize = true,
// compressed-tensors' float-quantized weights): W = bf16(fp8(weight) * scale),
// then a plain linear, no activation quantization. Shared by both methods,
// it reads only what both layouts start with (Fp8DequantBf16Args, the
// prefix their args share): args block_n, block_k first
// (0 = the whole dimension; per tensor is 0, 0), packed weight f8E4M3FN
// [N, K] then the scale [ceil(N/bn), ceil(K/bk)] in any float dtype ([],
// [1] or [1, 1] per tensor); further args and tensors are ignored.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/FineGrainedFp8.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

namespace {

bool checkBlock(int64_t bn, int64_t bk, std::string &error) {
  const std::pair<const char *, int64_t> sizes[] = {{"block_n", bn},
                                                    {"block_k", bk}};
  for (const auto &[name, v] : sizes)
    if (v < 0 || v > (1 << 30)) {
      error = std::string(name) + " must be a non-negative integer, got " +
              std::to_string(static_cast<double>(v));
      return false;
    }
  if ((bn == 0) != (bk == 0)) {
    error = "block_n and block_k must both be 0 (per tensor) or both positive";
    return false;
  }
  return true;
}

bool fp8Forward(const LinearCall &call, const Fp8Args &args,
                std::string &error) {
  if (!checkBlock(args.block_n, args.block_k, error))
    return false;
  const bool isStatic = args.static_activation;
  size_t expected = isStatic ? 3 : 2;
  if (call.packed.size() != expected) {
    error = "expected " + std::to_string(expected) +
            " packed tensors (weight, weight_scale_inv" +
            (isStatic ? ", activation_scale" : "") + "), got " +
            std::to_string(call.packed.size());
    return false;
  }
  if (args.dequantize) {
    std::vector<float> w;
    return dequantizeFp8Block(call.packed[0], call.packed[1], call.n, call.k,
                              args.block_n, args.block_k, w, error) &&
           linearWithWeight(call, w, error);
  }
  std::vector<float> y;
  if (!fp8Linear(call.x, call.m, call.packed[0], call.packed[1], call.n, call.k,
                 args.block_n, args.block_k,
                 isStatic ? &call.packed[2] : nullptr, nullptr, y, error))
    return false;
  return storeOutput(call, y, "fp8Linear", error);
}

bool fp8Quantize(const QuantizeCall &call, const Fp8Args &args,
                 std::vector<StoredTensor> &packed, std::string &error) {
  if (!checkBlock(args.block_n, args.block_k, error))
    return false;
  if (args.static_activation) {
    error = "activation_scale (activation_scheme 'static') needs calibration "
            "data; on-the-fly FP8 quantization supports activation_scheme "
            "'dynamic' only";
    return false;
  }
  Fp8Quantized q;
  if (!quantizeFp8Block(call.w, call.n, call.k, args.block_n, args.block_k, q,
                        error))
    return false;
  packed.push_back(std::move(q.weight));
  packed.push_back(std::move(q.scaleInv));
  return true;
}

bool fp8DequantBf16(const LinearCall &call, const Fp8DequantBf16Args &args,
                    std::vector<float> &w, std::string &error) {
  int64_t bn = args.block_n, bk = args.block_k;
  if (!checkBlock(bn, bk, error))
    return false;
  if (call.packed.size() < 2) {
    error = "expected at least 2 packed tensors (weight, scale, ...), got " +
            std::to_string(call.packed.size());
    return false;
  }
  if (!checkMatrixShape("fp8 dequantize", call.n, call.k, error))
    return false;
  const TensorView &weight = call.packed[0], &scale = call.packed[1];
  if (!expectView(weight, "weight", DType::F8E4M3FN, {call.n, call.k}, error))
    return false;
  int64_t sr = 1, sc = 1;
  if (bn == 0) {
    bn = call.n;
    bk = call.k;
  } else {
    sr = (call.n + bn - 1) / bn;
    sc = (call.k + bk - 1) / bk;
  }
  if (sr == 1 && sc == 1 && scale.shape.size() < 2) {
    // Per tensor: [] (FineGrainedFP8) or [1] (compressed-tensors).
    if (!expectFloatView(scale, "weight scale", scale.shape.empty()
                                                    ? std::vector<int64_t>{}
                                                    : std::vector<int64_t>{1},
                         error))
      return false;
  } else if (!expectFloatView(scale, "weight scale", {sr, sc}, error)) {
    return false;
  }
  w.assign(static_cast<size_t>(call.n * call.k), 0.0f);
  for (int64_t i = 0; i < call.n; ++i)
    for (int64_t j = 0; j < call.k; ++j) {
      uint8_t code = static_cast<uint8_t>(weight.bits(i * call.k + j));
      if ((code & 0x7f) == 0x7f) {
        error = "weight has a NaN at [" + std::to_string(i) + ", " +
                std::to_string(j) + "]";
        return false;
      }
      float s = scale.at((i / bn) * sc + j / bk);
      w[i * call.k + j] = roundToDType(DType::BF16, fp8e4m3ToFloat(code) * s);
    }
  return true;
}

} // namespace

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_fp8, fp8Forward)
HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_fp8, fp8Quantize)
HFQ_DEFINE_LINEAR_KERNEL(hfq_fp8_dequant_bf16, fp8DequantBf16)
