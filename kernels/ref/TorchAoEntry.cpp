//===- TorchAoEntry.cpp - torchao through the kernel ABI ------------------===//
//
// args: TorchaoArgs (specs/torchao.json: format, group_size, per_tensor;
// the format codes are TorchaoParams'). Packed: _weight_qdata then
// _weight_scale_and_zero (1), or _weight_scale and _weight_zero_point (2-4),
// or _weight_scale (5, 6).
//
// The int8 dynamic forward quantizes x per token and runs the exact integer
// GEMM (in f32: the activation dtype of this entry). Float8 dynamic has no
// reference activation quantizer yet and is reported as unsupported.
// transformers quantizes torchao at load: `hfq_ref_torchao_quantize_f32`
// runs the int4 / int8 from_hp quantizers (scales in the layout's dtype:
// bf16 for int4, whose torchao paths take the weight as bf16 only; f32 for
// int8).
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Runner.h"
#include "kernels/ref/TorchAo.h"

using namespace hfq::kernels;

namespace {

const char *packedNames(int format) {
  switch (format) {
  case 1: return "_weight_qdata, _weight_scale_and_zero";
  case 2:
  case 3:
  case 4: return "_weight_qdata, _weight_scale, _weight_zero_point";
  default: return "_weight_qdata, _weight_scale";
  }
}

/// The tensors of each format's layout.
size_t tensorCount(int64_t format) {
  return format >= 2 && format <= 4 ? 3 : 2;
}

} // namespace

bool hfq::kernels::torchaoParams(const TorchaoArgs &args, size_t tensors,
                                 TorchaoParams &p, std::string &error) {
  p.format = static_cast<int>(args.format);
  if (args.group_size < 0 || args.group_size > (1 << 30)) {
    error = "group_size must be a non-negative integer, got " +
            std::to_string(static_cast<double>(args.group_size));
    return false;
  }
  p.groupSize = args.group_size;
  p.perTensor = args.per_tensor;
  if (p.format <= 2 && p.groupSize == 0) {
    error = "int4 layouts need a positive group_size";
    return false;
  }
  return expectTensorCount(tensors, tensorCount(p.format),
                           packedNames(p.format), error);
}

namespace {

bool torchaoDequantize(const TorchaoParams &a, const LinearCall &call,
                       std::vector<float> &w, std::string &error) {
  const auto &p = call.packed;
  switch (a.format) {
  case 1:
    return dequantizeTorchaoInt4Tiled(p[0], p[1], call.n, call.k, a.groupSize,
                                      w, error);
  case 2:
    return dequantizeTorchaoInt4Plain(p[0], p[1], p[2], call.n, call.k,
                                      a.groupSize, w, error);
  case 3:
  case 4:
    return dequantizeTorchaoInt8(p[0], p[1], p[2], call.n, call.k, w, error);
  default:
    return dequantizeTorchaoFloat8(p[0], p[1], call.n, call.k, w, error);
  }
}

bool torchaoForward(const LinearCall &call, const TorchaoArgs &args,
                    std::string &error) {
  TorchaoParams a;
  if (!torchaoParams(args, call.packed.size(), a, error))
    return false;
  if (a.format == 6) {
    error = "Float8DynamicActivationFloat8WeightConfig has no CPU reference "
            "forward (dynamic float8 activation quantization)";
    return false;
  }
  if (a.format == 4) {
    std::vector<float> y;
    if (!torchaoInt8DynamicLinear(call.x, call.m, call.packed[0],
                                  call.packed[1], call.packed[2], call.n,
                                  call.k, nullptr, DType::F32, y, error))
      return false;
    return storeOutput(call, y, "the int8 dynamic linear", error);
  }
  std::vector<float> w;
  if (!torchaoDequantize(a, call, w, error))
    return false;
  return linearWithWeight(call, w, error);
}

bool torchaoQuantize(const QuantizeCall &call, const TorchaoArgs &args,
                     std::vector<StoredTensor> &packed, std::string &error) {
  TorchaoParams a;
  // The quantizer fills the layout's tensors: their count follows the format.
  if (!torchaoParams(args, tensorCount(args.format), a, error))
    return false;
  switch (a.format) {
  case 1: {
    TorchaoInt4Tiled q;
    if (!quantizeTorchaoInt4Tiled(call.w, call.n, call.k, a.groupSize, q,
                                  error))
      return false;
    packed.push_back(std::move(q.qdata));
    packed.push_back(std::move(q.scaleAndZero));
    return true;
  }
  case 2: {
    TorchaoInt4Plain q;
    if (!quantizeTorchaoInt4Plain(call.w, call.n, call.k, a.groupSize,
                                  DType::BF16, q, error))
      return false;
    packed.push_back(std::move(q.qdata));
    packed.push_back(std::move(q.scale));
    packed.push_back(std::move(q.zeroPoint));
    return true;
  }
  case 3:
  case 4: {
    TorchaoInt8 q;
    if (!quantizeTorchaoInt8(call.w, call.n, call.k, a.perTensor, DType::F32,
                             DType::F32, q, error))
      return false;
    packed.push_back(std::move(q.qdata));
    packed.push_back(std::move(q.scale));
    packed.push_back(std::move(q.zeroPoint));
    return true;
  }
  default:
    error = "torchao float8 on-the-fly quantization has no CPU reference "
            "quantizer";
    return false;
  }
}

} // namespace

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_torchao, torchaoForward)
HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_torchao, torchaoQuantize)
