//===- Check.cpp - The status check lowered code calls --------------------===//
//
// Lowered IR checks a kernel's status with one call rather than an scf.if
// per kernel: a branch per call splits the function's block at every
// kernel, and lowering those splits is quadratic in the function's size
// (docs/model-import.md, "Compile time").
//
//===----------------------------------------------------------------------===//

#include "kernels/include/hfq_kernels.h"

extern "C" void hfq_kernel_check(int32_t status) {
  if (status != 0)
    hfq_kernel_fail(status);
}
