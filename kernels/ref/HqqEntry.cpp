//===- HqqEntry.cpp - HQQ through the kernel ABI ---------------------------===//
//
// args (specs/hqq.json layouts): nbits (8, 6, 5, 4, 3, 2, 1.58, 1),
// group_size (0 = None), axis, view_as_float, round_zero, optimize.
// Packed: W_q, scale, zero. transformers quantizes HQQ at load, so
// `hfq_ref_hqq_quantize_f32` runs hqq's Quantizer.quantize: min-max, then,
// with optimize (hqq's default), its half-quadratic zero refinement; scale /
// zero in f16, the layout's dtype.
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Abi.h"
#include "kernels/ref/Hqq.h"

#include <cmath>

using namespace hfq::kernels;

namespace {

struct HqqArgs {
  int nbits;
  int64_t groupSize;
  int axis;
  bool viewAsFloat;
  bool roundZero;
  bool optimize;
};

bool decodeHqqArgs(const std::vector<double> &args, HqqArgs &a,
                   std::string &error) {
  if (!expectArgs(args, {"nbits", "group_size", "axis", "view_as_float",
                         "round_zero", "optimize"},
                  error))
    return false;
  double nb = args[0];
  // 1.58-bit checkpoints use the 2-bit packing with values 0..2.
  if (std::fabs(nb - 1.58) < 1e-9)
    a.nbits = 2;
  else if (nb == 1 || nb == 2 || nb == 3 || nb == 4 || nb == 5 || nb == 6 ||
           nb == 8)
    a.nbits = static_cast<int>(nb);
  else {
    error = "nbits must be one of 8, 6, 5, 4, 3, 2, 1.58, 1, got " +
            std::to_string(nb);
    return false;
  }
  if (args[1] < 0 || args[1] != std::floor(args[1])) {
    error = "group_size must be a non-negative integer (0 = None), got " +
            std::to_string(args[1]);
    return false;
  }
  a.groupSize = static_cast<int64_t>(args[1]);
  if (args[2] != 0 && args[2] != 1) {
    error = "axis must be 0 or 1, got " + std::to_string(args[2]);
    return false;
  }
  a.axis = static_cast<int>(args[2]);
  a.viewAsFloat = args[3] != 0.0;
  a.roundZero = args[4] != 0.0;
  a.optimize = args[5] != 0.0;
  return true;
}

bool hqqDequantize(const LinearCall &call, std::vector<float> &w,
                   std::string &error) {
  HqqArgs a;
  if (!decodeHqqArgs(call.args, a, error))
    return false;
  if (call.packed.size() != 3) {
    error = "expected 3 packed tensors (W_q, scale, zero), got " +
            std::to_string(call.packed.size());
    return false;
  }
  return dequantizeHqq(call.packed[0], call.packed[1], call.packed[2], a.nbits,
                       call.n, call.k, a.groupSize, a.axis, w, error);
}

bool hqqQuantize(const QuantizeCall &call, std::vector<StoredTensor> &packed,
                 std::string &error) {
  HqqArgs a;
  if (!decodeHqqArgs(call.args, a, error))
    return false;
  HqqQuantized q;
  if (!quantizeHqq(call.w, call.n, call.k, a.nbits, a.groupSize, a.axis,
                   DType::F16, q, error, a.roundZero, a.optimize))
    return false;
  if (a.viewAsFloat) {
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

HFQ_DEFINE_LINEAR_KERNEL(hfq_ref_hqq, forwardByDequantizing(hqqDequantize))
HFQ_DEFINE_QUANTIZE_KERNEL(hfq_ref_hqq, hqqQuantize)
