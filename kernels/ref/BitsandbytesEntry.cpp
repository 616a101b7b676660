//===- BitsandbytesEntry.cpp - bitsandbytes 4-bit and LLM.int8() ABI ------===//
//
// hfq_ref_bnb4 (specs/bitsandbytes.json, bitsandbytes_4bit layout)
//   args: Bitsandbytes4bitArgs (blocksize, quant_type_nf4 (nf4, else fp4),
//         double_quant, nested_blocksize).
//   packed: weight, weight.absmax, weight.quant_map, and with double quant
//           weight.nested_absmax, weight.nested_quant_map,
//           weight.nested_offset (f32 scalar: the quant_state blob's
//           "nested_offset", see the layout's doc).
// hfq_ref_bnb8 (bitsandbytes_8bit layout)
//   args: Bitsandbytes8bitArgs (llm_int8_threshold). packed: weight (CB),
//   SCB. The forward is LLM.int8()'s mixed decomposition (bnbInt8Linear),
//   not a plain dequantize-and-multiply.
// Both are quantized by transformers at load, so both have quantizers.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Bitsandbytes.h"
#include "kernels/ref/Runner.h"

#include <cstring>

using namespace hfq::kernels;

static Bnb4Params bnb4Params(const Bitsandbytes4bitArgs &args) {
  Bnb4Params p;
  p.blocksize = args.blocksize;
  p.type = args.quant_type_nf4 ? Bnb4Type::NF4 : Bnb4Type::FP4;
  p.doubleQuant = args.double_quant;
  p.nestedBlocksize = args.nested_blocksize;
  return p;
}

bool hfq::kernels::bnb4Operands(const Bitsandbytes4bitArgs &args,
                                const std::vector<TensorView> &packed,
                                int64_t n, int64_t k, Bnb4Operands &out,
                                std::string &error) {
  Bnb4Params p = bnb4Params(args);
  size_t expected = p.doubleQuant ? 6 : 3;
  if (packed.size() != expected) {
    error = std::string("expected ") + std::to_string(expected) +
            " packed tensors (weight, weight.absmax, weight.quant_map" +
            (p.doubleQuant ? ", weight.nested_absmax, weight.nested_quant_map, "
                             "weight.nested_offset"
                           : "") +
            "), got " + std::to_string(packed.size());
    return false;
  }
  if (!checkBnb4QuantMap(packed[2], p.type, error))
    return false;
  out = Bnb4Operands();
  out.weight = packed[0];
  out.absmax = packed[1];
  if (p.doubleQuant) {
    const TensorView &offset = packed[5];
    if (!expectView(offset, "weight.nested_offset", DType::F32, {}, error))
      return false;
    p.nestedOffset = offset.at(0);
    out.nestedAbsmax = packed[3];
    out.nestedQuantMap = packed[4];
  }
  out.params = p;
  return checkBnb4Layout(out.weight, out.absmax, out.nestedAbsmax,
                         out.nestedQuantMap, n, k, p, error);
}

static bool bnb4Dequantize(const LinearCall &call,
                           const Bitsandbytes4bitArgs &args,
                           std::vector<float> &w, std::string &error) {
  Bnb4Operands op;
  return bnb4Operands(args, call.packed, call.n, call.k, op, error) &&
         dequantizeBnb4(op.weight, op.absmax, op.nestedAbsmax,
                        op.nestedQuantMap, call.n, call.k, op.params, w, error);
}

static bool bnb4Quantize(const QuantizeCall &call,
                         const Bitsandbytes4bitArgs &args,
                         std::vector<StoredTensor> &packed,
                         std::string &error) {
  Bnb4Params p = bnb4Params(args);
  Bnb4Quantized q;
  if (!quantizeBnb4(call.w, call.n, call.k, p, q, error))
    return false;
  packed.push_back(std::move(q.weight));
  packed.push_back(std::move(q.absmax));
  packed.push_back(std::move(q.quantMap));
  if (p.doubleQuant) {
    packed.push_back(std::move(q.nestedAbsmax));
    packed.push_back(std::move(q.nestedQuantMap));
    StoredTensor offset;
    offset.reset(DType::F32, {});
    uint32_t bits;
    std::memcpy(&bits, &q.nestedOffset, 4);
    offset.setBits(0, bits);
    packed.push_back(std::move(offset));
  }
  return true;
}

bool hfq::kernels::bnb8Threshold(const Bitsandbytes8bitArgs &args,
                                 float &threshold, std::string &error) {
  if (args.llm_int8_threshold < 0.0) {
    error = "llm_int8_threshold must be finite and non-negative, got " +
            std::to_string(args.llm_int8_threshold);
    return false;
  }
  threshold = static_cast<float>(args.llm_int8_threshold);
  return true;
}

static bool bnb8Forward(const LinearCall &call,
                        const Bitsandbytes8bitArgs &args, std::string &error) {
  float threshold;
  if (!bnb8Threshold(args, threshold, error) ||
      !expectLayoutTensors<Bitsandbytes8bitArgs>(call.packed, error))
    return false;
  std::vector<float> y;
  return bnbInt8Linear(call.x, call.m, call.packed[0], call.packed[1], call.n,
                       call.k, threshold, nullptr, y, error) &&
         storeOutput(call, y, "LLM.int8() forward", error);
}

static bool bnb8Quantize(const QuantizeCall &call,
                         const Bitsandbytes8bitArgs &args,
                         std::vector<StoredTensor> &packed,
                         std::string &error) {
  float threshold;
  if (!bnb8Threshold(args, threshold, error))
    return false;
  StoredTensor cb, scb;
  if (!quantizeBnbInt8(call.w, call.n, call.k, cb, scb, error))
    return false;
  packed.push_back(std::move(cb));
  packed.push_back(std::move(scb));
  return true;
}

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_bnb4, bnb4Dequantize)
HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_bnb4, bnb4Quantize)
HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_bnb8, bnb8Forward)
HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_bnb8, bnb8Quantize)
