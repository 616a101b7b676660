// MXFP4 through the CPU reference (hfq_ref_mxfp4), values worked by hand
// (test/unit/RefMxfp4Test.cpp's DequantizeByHand): N = 2, K = 32, x = [2, 1, ..., 1].
// Row 0 (scale 127, x1): 0x21 0xf7 0x8a -> 0.5 1 | 6 -6 | -1 -0, the rest 0:
//   y0 = 2 * 0.5 + 1 + 6 - 6 - 1 - 0 = 1.
// Row 1 (scale 129, x4): 0x53 -> 6 12; last byte 0x4c -> -8 8 at k = 30, 31:
//   y1 = 2 * 6 + 12 - 8 + 8 = 24.
// REQUIRES: jit
// RUN: hfq-opt %s --hfq-lower-to-llvm=target=cpu \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%hfq_kernels_ref,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

// CHECK: sizes = [1, 2]
// CHECK-NEXT: {{\[\[}}1,{{ +}}24]]

#method = #hfq.method<"mxfp4", {quant_method = "mxfp4", dequantize = false, modules_to_not_convert = #hfq.none}>
func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @main() {
  %x = arith.constant dense<[[2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]> : tensor<1x32xf32>
  %blocks = arith.constant dense<[[[33, 247, 138, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], [[83, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 76]]]> : tensor<2x1x16xui8>
  %scales = arith.constant dense<[[127], [129]]> : tensor<2x1xui8>
  %y = hfq.qlinear "model.layers.0.mlp.experts.up_proj" %x, packed(%blocks, %scales) method #method
      : tensor<1x32xf32>, (tensor<2x1x16xui8>, tensor<2x1xui8>) -> tensor<1x2xf32>
  %buf = bufferization.to_buffer %y : tensor<1x2xf32> to memref<1x2xf32>
  %u = memref.cast %buf : memref<1x2xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}
