//===- HqqEntry.cpp - HQQ through the kernel ABI --------------------------===//
//
// args: HqqArgs (specs/hqq.json: nbits 8, 6, 5, 4, 3, 2, 1.58 or 1,
// group_size with 0 = None, axis, view_as_float, round_zero, optimize).
// Packed: W_q, scale, zero. transformers quantizes HQQ at load, so
// `hfq_ref_hqq_quantize_f32` runs hqq's Quantizer.quantize: min-max, then,
// with optimize (hqq's default), its half-quadratic zero refinement; scale /
// zero in f16, the layout's dtype.
//
//===----------------------------------------------------------------------===//

#include "kernels/ref/Hqq.h"
#include "kernels/ref/Runner.h"

#include <cmath>

using namespace hfq::kernels;

bool hfq::kernels::hqqParams(const HqqArgs &args, HqqParams &p,
                             std::string &error) {
  const double nb = args.nbits;
  // 1.58-bit checkpoints use the 2-bit packing with values 0..2.
  p.ternary = std::fabs(nb - 1.58) < 1e-9;
  if (p.ternary)
    p.nbits = 2;
  else if (nb == 1 || nb == 2 || nb == 3 || nb == 4 || nb == 5 || nb == 6 ||
           nb == 8)
    p.nbits = static_cast<int>(nb);
  else {
    error = "nbits must be one of 8, 6, 5, 4, 3, 2, 1.58, 1, got " +
            std::to_string(nb);
    return false;
  }
  if (args.group_size < 0) {
    error = "group_size must be a non-negative integer (0 = None), got " +
            std::to_string(static_cast<double>(args.group_size));
    return false;
  }
  p.groupSize = args.group_size;
  if (args.axis != 0 && args.axis != 1) {
    error = "axis must be 0 or 1, got " +
            std::to_string(static_cast<double>(args.axis));
    return false;
  }
  p.axis = static_cast<int>(args.axis);
  p.viewAsFloat = args.view_as_float;
  p.roundZero = args.round_zero;
  p.optimize = args.optimize;
  return true;
}

namespace {

bool hqqDequantize(const LinearCall &call, const HqqArgs &args,
                   std::vector<float> &w, std::string &error) {
  HqqParams p;
  return hqqParams(args, p, error) &&
         expectLayoutTensors<HqqArgs>(call.packed, error) &&
         dequantizeHqq(call.packed[0], call.packed[1], call.packed[2], p.nbits,
                       call.n, call.k, p.groupSize, p.axis, w, error);
}

bool hqqQuantize(const QuantizeCall &call, const HqqArgs &args,
                 std::vector<StoredTensor> &packed, std::string &error) {
  HqqParams p;
  if (!hqqParams(args, p, error))
    return false;
  HqqQuantized q;
  if (!quantizeHqq(call.w, call.n, call.k, p.nbits, p.groupSize, p.axis,
                   DType::F16, q, error, p.roundZero, p.optimize))
    return false;
  if (p.viewAsFloat) {
    // view_as_float: the same bytes, reinterpreted as f16 along the last dim.
    std::vector<int64_t> &shape = q.wq.shape;
    int64_t elemBytes = q.wq.dtype == DType::I32 ? 4 : 1;
    if ((shape.back() * elemBytes) % 2 != 0) {
      error = "W_q's row length (" + std::to_string(shape.back()) +
              ") must be even to view it as float16";
      return false;
    }
    shape.back() = shape.back() * elemBytes / 2;
    q.wq.dtype = DType::F16;
  }
  packed.push_back(std::move(q.wq));
  packed.push_back(std::move(q.scale));
  packed.push_back(std::move(q.zero));
  return true;
}

} // namespace

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_hqq, hqqDequantize)
HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_hqq, hqqQuantize)
