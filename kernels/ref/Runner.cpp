//===- Runner.cpp - The CPU reference's entry points, decoded -------------===//

#include "kernels/ref/Runner.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

namespace hfq::kernels {

bool linearWithWeight(const LinearCall &call, const std::vector<float> &w,
                      std::string &error) {
  if (static_cast<int64_t>(w.size()) != call.n * call.k) {
    error = "the dequantized weight has " + std::to_string(w.size()) +
            " elements, expected N*K = " + std::to_string(call.n * call.k);
    return false;
  }
  referenceLinear(call.x, w.data(), nullptr, call.m, call.n, call.k, call.y);
  return true;
}

bool storeOutput(const LinearCall &call, const std::vector<float> &y,
                 const char *what, std::string &error) {
  if (static_cast<int64_t>(y.size()) != call.m * call.n) {
    error = std::string(what) + " produced " + std::to_string(y.size()) +
            " outputs, expected M*N = " + std::to_string(call.m * call.n);
    return false;
  }
  std::copy(y.begin(), y.end(), call.y);
  return true;
}

Quantizer refuseQuantize(const char *why) {
  return [why](const QuantizeCall &, std::vector<StoredTensor> &,
               std::string &error) {
    error = why;
    return false;
  };
}

namespace {

/// M, N and K of a call are each at most kMaxKernelDim, and the dequantized
/// weight [n, k] of floats has a byte size that fits (so every product the
/// forwards compute from them fits int64).
bool checkCallSizes(int64_t m, int64_t n, int64_t k, std::string &error) {
  for (auto [name, size] : {std::pair{"M", m}, {"N", n}, {"K", k}})
    if (size > kMaxKernelDim) {
      error = std::string(name) + " = " + std::to_string(size) +
              " is over the kernels' limit of " +
              std::to_string(kMaxKernelDim) +
              " (kMaxKernelDim in kernels/abi/Abi.h)";
      return false;
    }
  int64_t weightBytes;
  if (__builtin_mul_overflow(n, k, &weightBytes) ||
      __builtin_mul_overflow(weightBytes, int64_t(sizeof(float)),
                             &weightBytes)) {
    error = "N*K = " + std::to_string(n) + "*" + std::to_string(k) +
            " floats overflow 64 bits";
    return false;
  }
  return true;
}

/// Runs `body` (which returns the ABI status) with nothing thrown across the
/// C ABI: a scratch buffer the host cannot allocate is an error naming the
/// call's sizes.
template <typename Body>
int32_t withoutExceptions(const char *kernel, int64_t m, int64_t n, int64_t k,
                          Body body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return failKernel(kernel, "out of memory for the scratch buffers of M=" +
                                  std::to_string(m) + ", N=" +
                                  std::to_string(n) + ", K=" +
                                  std::to_string(k));
  } catch (const std::exception &e) {
    return failKernel(kernel, e.what());
  }
}

} // namespace

template <typename Act>
int32_t runLinearKernel(const char *kernel, ActMemRef<Act, 2> *y,
                        ActMemRef<Act, 2> *x, ActMemRef<Act, 1> *bias,
                        StridedMemRefType<double, 1> *args,
                        StridedMemRefType<int64_t, 2> *table,
                        const LinearForward &forward) {
  if (!y || !x || !bias)
    return failKernel(kernel, "null memref descriptor");
  std::string error;
  // Every descriptor is checked (sizes, their products, data, strides)
  // before anything is allocated or read through it.
  if (!checkMemRef(y, "y", error) || !checkMemRef(x, "x", error) ||
      !checkMemRef(bias, "bias", error))
    return failKernel(kernel, error);
  int64_t m = x->sizes[0], k = x->sizes[1], n = y->sizes[1];
  if (y->sizes[0] != m)
    return failKernel(kernel, "y has " + std::to_string(y->sizes[0]) +
                                  " rows but x has " + std::to_string(m));
  if (bias->sizes[0] != 0 && bias->sizes[0] != n)
    return failKernel(kernel,
                      "bias has " + std::to_string(bias->sizes[0]) +
                          " elements, expected 0 or N = " + std::to_string(n));
  LinearCall call;
  if (!checkCallSizes(m, n, k, error) ||
      !decodeTable(table, call.packed, error) ||
      !decodeArgs(args, call.args, error))
    return failKernel(kernel, error);
  return withoutExceptions(kernel, m, n, k, [&]() -> int32_t {
    std::vector<float> xs = loadActivations<Act>(*x),
                       ys(static_cast<size_t>(m * n), 0.0f);
    call.x = xs.data();
    call.act = Act::kDType;
    call.m = m;
    call.n = n;
    call.k = k;
    call.y = ys.data();
    if (!forward(call, error))
      return failKernel(kernel, error);
    for (int64_t j = 0; j < n; ++j) {
      float b = bias->sizes[0]
                    ? Act::load(bias->data[bias->offset + j * bias->strides[0]])
                    : 0.0f;
      for (int64_t i = 0; i < m; ++i)
        ys[static_cast<size_t>(i * n + j)] += b;
    }
    storeActivations<Act>(ys, *y);
    return 0;
  });
}

template <typename Wt>
int32_t runQuantizeKernel(const char *kernel, ActMemRef<Wt, 2> *w,
                          StridedMemRefType<double, 1> *args,
                          StridedMemRefType<int64_t, 2> *table,
                          const Quantizer &quantize) {
  if (!w)
    return failKernel(kernel, "null memref descriptor");
  std::vector<TensorView> outputs;
  QuantizeCall call;
  std::string error;
  if (!checkMemRef(w, "w", error) ||
      !checkCallSizes(0, w->sizes[0], w->sizes[1], error) ||
      !decodeTable(table, outputs, error) ||
      !decodeArgs(args, call.args, error))
    return failKernel(kernel, error);
  return withoutExceptions(kernel, 0, w->sizes[0], w->sizes[1], [&]() -> int32_t {
    std::vector<float> ws = loadActivations<Wt>(*w);
    call.w = ws.data();
    call.n = w->sizes[0];
    call.k = w->sizes[1];
    std::vector<StoredTensor> packed;
    if (!quantize(call, packed, error))
      return failKernel(kernel, error);
    if (packed.size() != outputs.size())
      return failKernel(kernel, "the quantizer produced " +
                                    std::to_string(packed.size()) +
                                    " tensors, the layout has " +
                                    std::to_string(outputs.size()));
    for (size_t i = 0; i < packed.size(); ++i) {
      const TensorView &out = outputs[i];
      if (out.dtype != packed[i].dtype || out.shape != packed[i].shape)
        return failKernel(kernel, "packed tensor #" + std::to_string(i) +
                                      " is " + dtypeName(out.dtype) +
                                      shapeString(out.shape) +
                                      " in the layout but the quantizer made " +
                                      dtypeName(packed[i].dtype) +
                                      shapeString(packed[i].shape));
    }
    for (size_t i = 0; i < packed.size(); ++i)
      std::memcpy(const_cast<void *>(outputs[i].data), packed[i].bytes.data(),
                  packed[i].bytes.size());
    return 0;
  });
}

HFQ_RUNNER_INSTANCES(template, F32Activation)
HFQ_RUNNER_INSTANCES(template, F16Activation)
HFQ_RUNNER_INSTANCES(template, Bf16Activation)

} // namespace hfq::kernels
