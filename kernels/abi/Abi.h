//===- Abi.h - The kernel ABI, decoded, for every runtime -------*- C++ -*-===//
//
// kernels/include/hfq_kernels.h defines one C signature for every kernel.
// This is the part of its runtime every implementation shares (the CPU
// reference in kernels/ref, the CUDA entry points in kernels/cuda): the
// tensor table and the args decoded and checked, and the one last-error
// mechanism (hfq_kernel_last_error, hfq_kernel_fail). It lives in
// libhfq_kernel_abi.so, which libhfq_kernels_ref.so and libhfq_kernels_cuda.so
// both link, so a process that loads both has one last error
// (docs/kernels.md, "The libraries").
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_ABI_ABI_H
#define HFQ_KERNELS_ABI_ABI_H

#include "kernels/abi/Args.h"
#include "kernels/abi/Tensor.h"
#include "kernels/include/hfq_kernels.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <string>
#include <vector>

namespace hfq::kernels {

/// Decodes the tensor table (hfq_kernels.h) into views of contiguous
/// row-major buffers, checking its column count, every element type code,
/// rank and size, and that a non-empty tensor has an address; false with an
/// error naming the row otherwise. Every entry point decodes through this.
bool decodeTable(const StridedMemRefType<int64_t, 2> *table,
                 std::vector<TensorView> &views, std::string &error);

/// The kernel arguments, in order (none for a null descriptor). The
/// generated decoders (kernels/abi/Args.h) check and type them.
std::vector<double> decodeArgs(const StridedMemRefType<double, 1> *args);

/// Records "<kernel>: <message>" as this thread's hfq_kernel_last_error()
/// and returns the non-zero ABI status: how every entry point reports a
/// failure.
int32_t failKernel(const char *kernel, const std::string &message);

/// `got` packed tensors are exactly `count`; otherwise "expected <count>
/// packed tensors (<names>), got <got>".
bool expectTensorCount(size_t got, size_t count, const char *names,
                       std::string &error);

/// expectTensorCount with the tensors of a method whose layouts all have the
/// same ones (`Args` a generated struct with kTensorCount / kTensorNames).
template <typename Args>
bool expectLayoutTensors(const std::vector<TensorView> &packed,
                         std::string &error) {
  return expectTensorCount(packed.size(), Args::kTensorCount,
                           Args::kTensorNames, error);
}

} // namespace hfq::kernels

#endif // HFQ_KERNELS_ABI_ABI_H
