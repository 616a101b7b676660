// A loop in IR that feeds a layer's output back as its next input, as a
// decode loop written in IR does: the yielded value is a kernel's output,
// which bufferizes as a fresh allocation per iteration
// (allow-return-allocs-from-loops), freed by the deallocation pipeline.
// y = x * diag(0.5, 2), three times from [1, 1]: [0.125, 8].
// REQUIRES: jit
// RUN: hfq-opt %s --hfq-lower-to-llvm=target=cpu \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%hfq_kernels_ref,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

// CHECK: sizes = [1, 2]
// CHECK-NEXT: {{\[\[}}0.125, 8]]
func.func @main() {
  %w = arith.constant dense<[[0.5, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>
  %x0 = arith.constant dense<[[1.0, 1.0]]> : tensor<1x2xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%x = %x0) -> tensor<1x2xf32> {
    %y = hfq.linear "layer" %x, %w : tensor<1x2xf32>, tensor<2x2xf32> -> tensor<1x2xf32>
    scf.yield %y : tensor<1x2xf32>
  }
  %u = tensor.cast %r : tensor<1x2xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}
func.func private @printMemrefF32(tensor<*xf32>)
