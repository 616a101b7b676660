// MXFP8 through the CPU reference (hfq_ref_mxfp8), values worked by hand
// (test/unit/RefMxfp8Test.cpp's DequantizeByHand): N = 2, K = 32,
// weight_block_size [1, 32], x = [2, 1, ..., 1].
// Row 0 (e8m0 127, x1): 0x38 0xbc 0x7e -> 1 -1.5 448, the rest 0:
//   y0 = 2 * 1 - 1.5 + 448 = 448.5.
// Row 1 (e8m0 129, x4): 0x3c -> 1.5 * 4 = 6 at k = 0, 0xc0 -> -2 * 4 = -8 at k = 31:
//   y1 = 2 * 6 - 8 = 4.
// REQUIRES: jit
// RUN: hfq-opt %s --hfq-lower-to-llvm=target=cpu \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%hfq_kernels_ref,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

// CHECK: sizes = [1, 2]
// CHECK-NEXT: {{\[\[}}448.5,{{ +}}4]]

#method = #hfq.method<"mxfp8", {quant_method = "mxfp8", activation_scheme = "dynamic", dequantize = true, modules_to_not_convert = #hfq.none, modules_to_convert = #hfq.none, scale_fmt = "ue8m0", weight_block_size = [1 : i64, 32 : i64]}>
func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @main() {
  %x = arith.constant dense<[[2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]> : tensor<1x32xf32>
  %weight = arith.constant dense<[[1.0, -1.5, 448.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -2.0]]> : tensor<2x32xf8E4M3FN>
  %scales = arith.constant dense<[[127], [129]]> : tensor<2x1xui8>
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%weight, %scales) method #method
      : tensor<1x32xf32>, (tensor<2x32xf8E4M3FN>, tensor<2x1xui8>) -> tensor<1x2xf32>
  %buf = bufferization.to_buffer %y : tensor<1x2xf32> to memref<1x2xf32>
  %u = memref.cast %buf : memref<1x2xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}
