//===- QuantoEntry.cpp - optimum-quanto through the kernel ABI ------------===//
//
// args: QuantoArgs (specs/quanto.json: weights with 0 = int8, 1 = float8,
// 2 = int4, 3 = int2; bits; group_size for int4 / int2, 0 for the 8-bit
// layouts). Packed: weight._data (or weight._data._data), weight._scale,
// [weight._shift,] input_scale, output_scale. transformers rejects
// activation quantization, so input_scale / output_scale are quanto's ones
// and are only checked to be float scalars. transformers quantizes quanto
// at load; the quantizer takes the model dtype to be the scales' f16.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Quanto.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

bool hfq::kernels::quantoParams(const QuantoArgs &args, QuantoParams &p,
                                std::string &error) {
  static const int kBits[4] = {8, 8, 4, 2};
  if (args.weights < 0 || args.weights > 3 ||
      kBits[args.weights] != args.bits) {
    error = "quanto weights code " +
            std::to_string(static_cast<double>(args.weights)) + " with bits " +
            std::to_string(static_cast<double>(args.bits)) +
            " is not one of int8 (0, 8), float8 (1, 8), int4 (2, 4), "
            "int2 (3, 2)";
    return false;
  }
  p.weights = static_cast<QuantoWeights>(args.weights);
  p.bits = static_cast<int>(args.bits);
  p.groupSize = args.group_size;
  if (p.bits < 8 && p.groupSize < 1) {
    error = "quanto group_size must be a positive integer, got " +
            std::to_string(static_cast<double>(args.group_size));
    return false;
  }
  return true;
}

bool hfq::kernels::checkQuantoTable(const QuantoParams &p,
                                    const std::vector<TensorView> &packed,
                                    std::string &error) {
  const size_t expected = p.bits == 8 ? 4 : 5;
  return expectTensorCount(packed.size(), expected,
                           p.bits == 8 ? "weight._data, weight._scale, "
                                         "input_scale, output_scale"
                                       : "weight._data._data, weight._scale, "
                                         "weight._shift, input_scale, "
                                         "output_scale",
                           error) &&
         expectFloatView(packed[expected - 2], "input_scale", {}, error) &&
         expectFloatView(packed[expected - 1], "output_scale", {}, error);
}

static bool quantoDequantize(const LinearCall &call, const QuantoArgs &args,
                             std::vector<float> &w, std::string &error) {
  QuantoParams q;
  if (!quantoParams(args, q, error) || !checkQuantoTable(q, call.packed, error))
    return false;
  if (q.bits == 8)
    return dequantizeQuantoBytes(call.packed[0], call.packed[1], call.n,
                                 call.k, w, error);
  return dequantizeQuantoBits(call.packed[0], call.packed[1], call.packed[2],
                              q.bits, call.n, call.k, q.groupSize, w, error);
}

static bool quantoQuantize(const QuantizeCall &call, const QuantoArgs &args,
                           std::vector<StoredTensor> &packed,
                           std::string &error) {
  QuantoParams q;
  if (!quantoParams(args, q, error))
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

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_quanto, quantoDequantize)
HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_quanto, quantoQuantize)
