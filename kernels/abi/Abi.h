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

//===----------------------------------------------------------------------===//
// Limits on a kernel call (docs/limits.md, "The kernel ABI")
//===----------------------------------------------------------------------===//

/// Rows of one tensor table and values of one `args` descriptor. A layout
/// has at most nine of either; more is a malformed call, refused before
/// anything is read through the descriptor.
constexpr int64_t kMaxTableRows = 64;
constexpr int64_t kMaxKernelArgs = 64;

/// M, N and K of a linear or quantize call: int32, what every kernel
/// indexes with (limits::kMaxLinearDim on the compiler's side), so a
/// product of two of them fits int64.
constexpr int64_t kMaxKernelDim = (int64_t(1) << 31) - 1;

//===----------------------------------------------------------------------===//
// Descriptors
//===----------------------------------------------------------------------===//

/// A memref descriptor's fields, checked before anything reads through them:
/// no negative size, an element count whose byte size fits (checked with
/// overflow builtins), data wherever it has an element, and an offset and
/// strides that keep every element index in [0, 2^63) without overflow and
/// the byte range inside the address space. False with "<name> ..."
/// otherwise. Whether the memory is really there no descriptor can say.
bool checkDescriptor(const void *data, int64_t offset, const int64_t *sizes,
                     const int64_t *strides, int rank, size_t elementBytes,
                     const char *name, std::string &error);

/// checkDescriptor on a (possibly null) memref descriptor.
template <typename T, int N>
bool checkMemRef(const StridedMemRefType<T, N> *m, const char *name,
                 std::string &error) {
  if (!m) {
    error = std::string(name) + " is a null memref descriptor";
    return false;
  }
  return checkDescriptor(m->data, m->offset, m->sizes, m->strides, N,
                         sizeof(T), name, error);
}

/// Decodes the tensor table (hfq_kernels.h) into views of contiguous
/// row-major buffers, checking the table's own descriptor (checkMemRef, at
/// most kMaxTableRows rows of HFQ_TABLE_COLUMNS), every element type code,
/// rank (0 to HFQ_MAX_RANK) and size, that each tensor's element count and
/// byte size fit (overflow builtins) and that a non-empty tensor has an
/// address whose bytes do not wrap; false with an error naming the row
/// otherwise. Every entry point decodes through this.
bool decodeTable(const StridedMemRefType<int64_t, 2> *table,
                 std::vector<TensorView> &views, std::string &error);

/// The kernel arguments, in order (none for a null descriptor); false with
/// an error if the descriptor is malformed (checkMemRef) or has more than
/// kMaxKernelArgs values. The generated decoders (kernels/abi/Args.h) then
/// check and type them.
bool decodeArgs(const StridedMemRefType<double, 1> *args,
                std::vector<double> &out, std::string &error);

/// decodeArgs for a caller that reports through the generated decoders: a
/// malformed descriptor decodes as no arguments, which a decoder that
/// expects any refuses by count.
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
