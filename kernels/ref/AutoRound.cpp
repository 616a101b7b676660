//===- AutoRound.cpp - AutoRound checkpoint reference ---------------------===//

#include "kernels/ref/AutoRound.h"

#include "kernels/abi/Abi.h"
#include "kernels/generated/MethodArgs.h"

namespace hfq::kernels {

GptqParams autoRoundGptqParams(const AutoRoundArgs &args) {
  GptqParams p;
  p.bits = static_cast<int>(args.bits);
  p.groupSize = args.group_size;
  p.zeroStoredMinusOne = args.zero_stored_minus_one;
  return p;
}

AwqParams autoRoundAwqParams(const AutoRoundArgs &args) {
  AwqParams p;
  p.version = AwqVersion::Gemm;
  p.bits = static_cast<int>(args.bits);
  p.groupSize = args.group_size;
  return p;
}

bool dequantizeAutoRoundGptq(const std::vector<TensorView> &packed, int64_t n,
                             int64_t k, const AutoRoundArgs &args,
                             std::vector<float> &w, std::string &error) {
  if (!expectTensorCount(packed.size(), args.g_idx ? 4 : 3,
                         args.g_idx ? "qweight, qzeros, scales, g_idx"
                                    : "qweight, qzeros, scales",
                         error))
    return false;
  // Without g_idx the group of input channel k is k / group_size, which the
  // gptq reference takes from an empty view.
  const TensorView gIdx = args.g_idx ? packed[3] : TensorView{};
  return dequantizeGptq(packed[0], packed[1], packed[2], gIdx, n, k,
                        autoRoundGptqParams(args), w, error);
}

bool dequantizeAutoRoundAwq(const std::vector<TensorView> &packed, int64_t n,
                            int64_t k, const AutoRoundArgs &args,
                            std::vector<float> &w, std::string &error) {
  if (args.zero_stored_minus_one || args.g_idx) {
    // A GPTQ packing's args: the spec's kernel rules and layouts disagree.
    error = "the AWQ packing stores the zero as is and has no g_idx, but "
            "zero_stored_minus_one or g_idx is set";
    return false;
  }
  return expectTensorCount(packed.size(), 3, "qweight, qzeros, scales",
                           error) &&
         dequantizeAwq(packed[0], packed[1], packed[2], n, k,
                       autoRoundAwqParams(args), w, error);
}

} // namespace hfq::kernels
