//===- QuantoEntry.cpp - optimum-quanto through the kernel ABI -------------===//
//
// args (specs/quanto.json layouts): weights (0 = int8, 1 = float8, 2 = int4,
// 3 = int2), bits, group_size (int4 / int2; 0 for the 8-bit layouts).
// Packed: weight._data (or weight._data._data), weight._scale,
// [weight._shift,] input_scale, output_scale. transformers rejects
// activation quantization, so input_scale / output_scale are quanto's ones
// and are only checked to be float scalars. transformers quantizes quanto
// at load; the quantizer takes the model dtype to be the scales' f16.
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Abi.h"
#include "kernels/ref/Quanto.h"

#include <cmath>

using namespace hfq::kernels;

namespace {
struct QuantoArgs {
  QuantoWeights weights = QuantoWeights::Int8;
  int bits = 8;
  int64_t groupSize = 0;
};
} // namespace

static bool quantoArgs(const std::vector<double> &args, QuantoArgs &q,
                       std::string &error) {
  if (!expectArgs(args, {"weights", "bits", "group_size"}, error))
    return false;
  int code = static_cast<int>(args[0]);
  int bits = static_cast<int>(args[1]);
  static const int kBits[4] = {8, 8, 4, 2};
  if (args[0] != code || code < 0 || code > 3 || kBits[code] != bits ||
      args[1] != bits) {
    error = "quanto weights code " + std::to_string(args[0]) + " with bits " +
            std::to_string(args[1]) +
            " is not one of int8 (0, 8), float8 (1, 8), int4 (2, 4), "
            "int2 (3, 2)";
    return false;
  }
  q.weights = static_cast<QuantoWeights>(code);
  q.bits = bits;
  q.groupSize = static_cast<int64_t>(args[2]);
  if (bits < 8 && (args[2] != std::floor(args[2]) || q.groupSize < 1)) {
    error = "quanto group_size must be a positive integer, got " +
            std::to_string(args[2]);
    return false;
  }
  return true;
}

static bool quantoDequantize(const LinearCall &call, std::vector<float> &w,
                             std::string &error) {
  QuantoArgs q;
  if (!quantoArgs(call.args, q, error))
    return false;
  size_t expected = q.bits == 8 ? 4 : 5;
  if (call.packed.size() != expected) {
    error = std::string("expected ") + std::to_string(expected) +
            " packed tensors (" +
            (q.bits == 8 ? "weight._data, weight._scale"
                         : "weight._data._data, weight._scale, weight._shift") +
            ", input_scale, output_scale), got " +
            std::to_string(call.packed.size());
    return false;
  }
  if (!expectFloatView(call.packed[expected - 2], "input_scale", {}, error) ||
      !expectFloatView(call.packed[expected - 1], "output_scale", {}, error))
    return false;
  if (q.bits == 8)
    return dequantizeQuantoBytes(call.packed[0], call.packed[1], call.n,
                                 call.k, w, error);
  return dequantizeQuantoBits(call.packed[0], call.packed[1], call.packed[2],
                              q.bits, call.n, call.k, q.groupSize, w, error);
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_quanto,
                         forwardByDequantizing(quantoDequantize))

static bool quantoQuantize(const QuantizeCall &call,
                           std::vector<StoredTensor> &packed,
                           std::string &error) {
  QuantoArgs q;
  if (!quantoArgs(call.args, q, error))
    return false;
  QuantoQuantized out;
  if (!quantizeQuanto(call.w, call.n, call.k, q.weights, DType::F16, out,
                      error))
    return false;
  if (q.bits < 8 && out.groupSize != q.groupSize) {
    error = "quanto picked group size " + std::to_string(out.groupSize) +
            " for K = " + std::to_string(call.k) + " but the layout has " +
            std::to_string(q.groupSize);
    return false;
  }
  packed.push_back(std::move(out.data));
  packed.push_back(std::move(out.scale));
  if (q.bits < 8)
    packed.push_back(std::move(out.shift));
  for (int i = 0; i < 2; ++i) { // input_scale, output_scale: quanto's ones
    StoredTensor one;
    one.reset(DType::F16, {});
    one.setFloat(0, 1.0f);
    packed.push_back(std::move(one));
  }
  return true;
}

HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_quanto, quantoQuantize)
