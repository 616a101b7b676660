// FBGEMM FP8 through the CPU reference (hfq_ref_fbgemm_fp8), values worked
// by hand: N = 2, K = 32, x = [2, 1, ..., 1], one f32 scale per row.
// Row 0 (e4m3 1, 448, -1, then 0; scale 0.5): y0 = (2 + 448 - 1) * 0.5 = 224.5.
// Row 1 (e4m3 2, 0, 1.5, then 0; scale 4):    y1 = (4 + 0 + 1.5) * 4 = 22.
// REQUIRES: jit
// RUN: hfq-opt %s --hfq-lower-to-llvm=target=cpu \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%hfq_kernels_ref,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

// CHECK: sizes = [1, 2]
// CHECK-NEXT: {{\[\[}}224.5,{{ +}}22]]

#method = #hfq.method<"fbgemm_fp8", {quant_method = "fbgemm_fp8", activation_scale_ub = 1200.0 : f64, modules_to_not_convert = #hfq.none}>
func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @main() {
  %x = arith.constant dense<[[2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]> : tensor<1x32xf32>
  %weight = arith.constant dense<[[1.0, 448.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [2.0, 0.0, 1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<2x32xf8E4M3FN>
  %weight_scale = arith.constant dense<[[0.5], [4.0]]> : tensor<2x1xf32>
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%weight, %weight_scale) method #method
      : tensor<1x32xf32>, (tensor<2x32xf8E4M3FN>, tensor<2x1xf32>) -> tensor<1x2xf32>
  %buf = bufferization.to_buffer %y : tensor<1x2xf32> to memref<1x2xf32>
  %u = memref.cast %buf : memref<1x2xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}
