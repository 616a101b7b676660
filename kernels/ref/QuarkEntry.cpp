//===- QuarkEntry.cpp - AMD Quark through the kernel ABI ------------------===//
//
// args: QuarkArgs (specs/quark.json: static_activation, symmetric). Packed,
// by the weight's dtype: fp8 per-tensor (weight f8E4M3FN [N, K],
// weight_scale []) or int8 per-channel (weight i8 [N, K], weight_scale [N],
// weight_zero_point i8 [N]), then input_scale [] when static_activation;
// scales in the model's dtype (f32, f16 or bf16).
//
// hfq_ref_quark: QParamsLinear's generic forward (Quark.h): x fake-quantized
// to e4m3 with input_scale when static_activation, W dequantized, then
// y = x'·Wᵀ, each step rounded to the activations' type as quark's is. The
// spec's kernel rule sends only exports whose input is
// unquantized or static fp8_e4m3 per-tensor here, so static_activation
// means exactly that. `symmetric` is not read: quark applies the stored
// zero point either way.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Quark.h"
#include "kernels/ref/Runner.h"

using namespace hfq::kernels;

static bool quarkForward(const LinearCall &call, const QuarkArgs &args,
                         std::string &error) {
  if (call.packed.empty()) {
    error = "expected the packed tensors of a Quark export, got none";
    return false;
  }
  const bool int8 = call.packed[0].dtype == DType::I8;
  const char *names =
      int8 ? (args.static_activation
                  ? "weight, weight_scale, weight_zero_point, input_scale"
                  : "weight, weight_scale, weight_zero_point")
           : (args.static_activation ? "weight, weight_scale, input_scale"
                                     : "weight, weight_scale");
  const size_t count =
      (int8 ? 3 : 2) + static_cast<size_t>(args.static_activation);
  if (!expectTensorCount(call.packed.size(), count, names, error))
    return false;
  std::vector<float> w;
  if (!dequantizeQuark(call.packed[0], call.packed[1],
                       int8 ? &call.packed[2] : nullptr, call.n, call.k,
                       call.act, w, error))
    return false;
  std::vector<float> xq;
  const float *x = call.x;
  if (args.static_activation) {
    if (!fakeQuantizeQuarkFp8Input(call.x, call.m * call.k, call.packed.back(),
                                   call.act, xq, error))
      return false;
    x = xq.data();
  }
  referenceLinear(x, w.data(), nullptr, call.m, call.n, call.k, call.y);
  return true;
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_quark, quarkForward)
