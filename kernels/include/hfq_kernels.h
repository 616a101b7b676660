//===- hfq_kernels.h - The one C ABI of hfq's kernels -----------*- C++ -*-===//
//
// The contract between the compiler (hfq-lower-to-runtime) and the kernels:
// the CPU reference (kernels/ref, always built: libhfq_kernels_ref.so) and
// CUDA (kernels/cuda: libhfq_kernels_cuda.so) implement their kernels
// through this one signature, so lowered IR links against them unchanged.
// Which kernels each library defines, and each kernel's `args` as typed
// fields with a checking decoder, are generated from the specs
// (kernels/generated/MethodArgs.h in the build tree; docs/kernels.md).
//
// Every kernel of a spec's `kernels` rules, for activation element type
// <act> in {f32, f16, bf16}, is one entry point
//
//   int32_t _mlir_ciface_<kernel>_<act>(
//       StridedMemRefType<Act, 2> *y,        // [M, N] output, written whole
//       StridedMemRefType<Act, 2> *x,        // [M, K] activations
//       StridedMemRefType<Act, 1> *bias,     // [N], or [0] for no bias
//       StridedMemRefType<double, 1> *args,  // the layout's `args`
//       StridedMemRefType<int64_t, 2> *packed); // the tensor table, below
//
// which is what MLIR's `llvm.emit_c_interface` produces for
//
//   func.func private @<kernel>_<act>(memref<?x?xAct>, memref<?x?xAct>,
//       memref<?xAct>, memref<?xf64>, memref<?x8xi64>) -> i32
//
// One signature for every kernel: a method's packed tensors differ in number
// and element type from layout to layout (bnb 4-bit with or without double
// quantization, FP8 with a static activation scale, ...), so they travel as a
// table rather than as typed arguments. Row t of `packed` describes the t-th
// tensor of the method's layout, in layout order:
//
//   [0] address of the first element    [1] element type (HfqDType below)
//   [2] rank (0..4)                     [3..6] sizes, row-major contiguous
//   [7] reserved (0)
//
// On-the-fly quantization (`hfq.quantize`) has the mirror-image entry point
//
//   int32_t _mlir_ciface_<kernel>_quantize_<wt>(
//       StridedMemRefType<Wt, 2> *w,         // [N, K] float weight
//       StridedMemRefType<double, 1> *args,
//       StridedMemRefType<int64_t, 2> *packed); // tensors to fill
//
// Preconditions are checked, never assumed: every shape, element type and
// argument is validated against the method's format before any memory is
// touched. A kernel returns 0 on success; otherwise it returns non-zero,
// leaves `y` untouched, and hfq_kernel_last_error() describes the failure
// (naming the tensor). The lowered IR passes every status to
// hfq_kernel_check, which turns a non-zero one into a runtime error with
// that message.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_H
#define HFQ_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Element types in the tensor table (column 1).
enum HfqDType {
  HFQ_I8 = 1,
  HFQ_U8 = 2,
  HFQ_I16 = 3,
  HFQ_I32 = 4,
  HFQ_F16 = 5,
  HFQ_BF16 = 6,
  HFQ_F32 = 7,
  HFQ_F8E4M3FN = 8,
  HFQ_F8E5M2 = 9,
  HFQ_I64 = 10,
};

/// Columns of a tensor-table row.
enum { HFQ_TABLE_COLUMNS = 8, HFQ_MAX_RANK = 4 };

/// The message of the last failed kernel call on this thread ("" if none).
/// Defined once for every library, in libhfq_kernel_abi.so (kernels/abi).
const char *hfq_kernel_last_error(void);

/// Prints the last error to stderr and exits with status 1 (std::_Exit: no
/// destructors run): what lowered IR calls when a kernel returns non-zero, so a precondition failure is a clear message,
/// never undefined behaviour downstream.
void hfq_kernel_fail(int32_t status);

/// hfq_kernel_fail(status) when status is non-zero, else nothing: what
/// lowered IR calls after every kernel (one call, no branch).
void hfq_kernel_check(int32_t status);

#ifdef __cplusplus
}
#endif

#endif // HFQ_KERNELS_H
