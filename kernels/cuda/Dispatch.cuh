//===- Dispatch.cuh - run-time values to kernel template arguments --------===//
//
// The kernels take their shape as template arguments (activation type, code
// width, zero kind, tiles per warp, K-steps per group), so the host maps
// run-time values onto a fixed set of instantiations. Every kernel file
// picks its kernel through these helpers: which instantiations exist is
// the list of values each call names, and nothing else.
//
//   onValue<V0, V1, .., Vn>(v, f)  calls f(Int<Vi>{}) for the first Vi equal
//                                  to v, f(Int<Vn>{}) when none is (the last
//                                  value is the default);
//   onAct(act, f)                  calls f(Type<T>{}) for the activation
//                                  type (__nv_bfloat16 or __half);
//   onWeight(w, f)                 calls f(Type<T>{}, Int<BITS>{}, Int<ZK>{})
//                                  for the weight's activation type, code
//                                  width and zero kind.
//
// Inside f, `typename decltype(type)::type` is the type and an Int argument
// converts to its value where a constant is needed.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_CUDA_DISPATCH_CUH
#define HFQ_KERNELS_CUDA_DISPATCH_CUH

#include "kernels/cuda/Fragments.cuh"
#include "kernels/cuda/WeightOnly.h"

#include <type_traits>
#include <utility>

namespace hfq::cuda::dispatch {

template <int V> using Int = std::integral_constant<int, V>;
template <typename T> struct Type { using type = T; };

template <int V, int... Rest, typename F> decltype(auto) onValue(int value, F &&f) {
  if constexpr (sizeof...(Rest) == 0) {
    (void)value;
    return f(Int<V>{});
  } else {
    if (value == V)
      return f(Int<V>{});
    return onValue<Rest...>(value, std::forward<F>(f));
  }
}

/// The zero kind as the kernels' template value (frag::kSym, kInt, kOff).
inline int zeroKindValue(ZeroKind zk) {
  return zk == ZeroKind::Symmetric ? frag::kSym : zk == ZeroKind::Integer ? frag::kInt : frag::kOff;
}

template <typename F> decltype(auto) onAct(ActType act, F &&f) {
  if (act == ActType::BF16)
    return f(Type<__nv_bfloat16>{});
  return f(Type<__half>{});
}

template <typename F> decltype(auto) onWeight(const DeviceWeight &w, F &&f) {
  return onAct(w.act, [&](auto type) {
    return onValue<4, 8>(w.bits, [&](auto bits) {
      return onValue<frag::kSym, frag::kInt, frag::kOff>(
          zeroKindValue(w.zeroKind), [&](auto zk) { return f(type, bits, zk); });
    });
  });
}

} // namespace hfq::cuda::dispatch

#endif // HFQ_KERNELS_CUDA_DISPATCH_CUH
