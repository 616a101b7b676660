//===- Runner.cpp - The CPU reference's entry points, decoded -------------===//

#include "kernels/ref/Runner.h"

#include <algorithm>
#include <cstring>

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

template <typename Act>
int32_t runLinearKernel(const char *kernel, ActMemRef<Act, 2> *y,
                        ActMemRef<Act, 2> *x, ActMemRef<Act, 1> *bias,
                        StridedMemRefType<double, 1> *args,
                        StridedMemRefType<int64_t, 2> *table,
                        const LinearForward &forward) {
  if (!y || !x || !bias)
    return failKernel(kernel, "null memref descriptor");
  int64_t m = x->sizes[0], k = x->sizes[1], n = y->sizes[1];
  if (m < 0 || k < 0 || n < 0 || y->sizes[0] < 0 || bias->sizes[0] < 0)
    return failKernel(kernel, "negative memref size");
  if (y->sizes[0] != m)
    return failKernel(kernel, "y has " + std::to_string(y->sizes[0]) +
                                  " rows but x has " + std::to_string(m));
  if (bias->sizes[0] != 0 && bias->sizes[0] != n)
    return failKernel(kernel,
                      "bias has " + std::to_string(bias->sizes[0]) +
                          " elements, expected 0 or N = " + std::to_string(n));
  LinearCall call;
  std::string error;
  if (!decodeTable(table, call.packed, error))
    return failKernel(kernel, error);
  std::vector<float> xs = loadActivations<Act>(*x),
                     ys(static_cast<size_t>(m * n), 0.0f);
  call.x = xs.data();
  call.m = m;
  call.n = n;
  call.k = k;
  call.args = decodeArgs(args);
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
}

template <typename Wt>
int32_t runQuantizeKernel(const char *kernel, ActMemRef<Wt, 2> *w,
                          StridedMemRefType<double, 1> *args,
                          StridedMemRefType<int64_t, 2> *table,
                          const Quantizer &quantize) {
  if (!w)
    return failKernel(kernel, "null memref descriptor");
  if (w->sizes[0] < 0 || w->sizes[1] < 0)
    return failKernel(kernel, "negative memref size");
  std::vector<TensorView> outputs;
  std::string error;
  if (!decodeTable(table, outputs, error))
    return failKernel(kernel, error);
  std::vector<float> ws = loadActivations<Wt>(*w);
  QuantizeCall call{ws.data(), w->sizes[0], w->sizes[1], decodeArgs(args)};
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
      return failKernel(kernel, "packed tensor #" + std::to_string(i) + " is " +
                                    dtypeName(out.dtype) +
                                    shapeString(out.shape) +
                                    " in the layout but the quantizer made " +
                                    dtypeName(packed[i].dtype) +
                                    shapeString(packed[i].shape));
  }
  for (size_t i = 0; i < packed.size(); ++i)
    std::memcpy(const_cast<void *>(outputs[i].data), packed[i].bytes.data(),
                packed[i].bytes.size());
  return 0;
}

HFQ_RUNNER_INSTANCES(template, F32Activation)
HFQ_RUNNER_INSTANCES(template, F16Activation)
HFQ_RUNNER_INSTANCES(template, Bf16Activation)

} // namespace hfq::kernels
