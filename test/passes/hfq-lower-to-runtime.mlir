// hfq-lower-to-runtime: quantized ops become calls through the kernel ABI.
// RUN: hfq-opt %s --split-input-file --hfq-select-kernel=target=cpu --hfq-lower-to-runtime -verify-diagnostics | FileCheck %s

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>

// The ABI declaration, once, with the C interface; the status check.
// CHECK-DAG: func.func private @hfq_kernel_check(i32)
// CHECK-DAG: func.func private @hfq_ref_gptq_f32(memref<?x?xf32>, memref<?x?xf32>, memref<?xf32>, memref<?xf64>, memref<?x8xi64>) -> i32 attributes {llvm.emit_c_interface}
// The layout's args (bits, group_size, zero_stored_minus_one) as one
// constant shared by both calls; the 4-row tensor table copied from its
// constant template (element types, ranks, sizes), then the addresses.
// CHECK-DAG: memref.global "private" constant @[[$ARGS:__hfq_const_[0-9A-F_]+]] : memref<3xf64> = dense<[4.000000e+00, 3.200000e+01, 1.000000e+00]>
// CHECK-DAG: memref.global "private" constant @[[$TABLE:__hfq_const_[0-9A-F_]+]] : memref<4x8xi64> = dense<{{\[}}[0, 4, 2, 8, 128, 0, 0, 0], [0, 4, 2, 2, 16, 0, 0, 0], [0, 5, 2, 2, 128, 0, 0, 0], [0, 4, 1, 64, 0, 0, 0, 0]]>
// CHECK-LABEL: func.func @two_layers
// CHECK: memref.get_global @[[$ARGS]] : memref<3xf64>
// CHECK: %[[T:.*]] = memref.alloca() : memref<4x8xi64>
// CHECK: memref.copy %{{.*}}, %[[T]]
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: %[[ST:.*]] = call @hfq_ref_gptq_f32(
// CHECK-NEXT: call @hfq_kernel_check(%[[ST]])
// CHECK: call @hfq_ref_gptq_f32(
// CHECK-NOT: hfq.qlinear
func.func @two_layers(%x: tensor<2x64xf32>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                      %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<2x128xf32> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<2x64xf32>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<2x128xf32>
  %z = hfq.qlinear "model.layers.0.mlp.gate_proj" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<2x64xf32>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<2x128xf32>
  %r = arith.addf %y, %z : tensor<2x128xf32>
  return %r : tensor<2x128xf32>
}

// -----

// The unquantized linear is a call of hfq_linear_<act> (hfq_model_ops.h)
// with the [N, K] weight as its one packed tensor; [2, 3, 64] is
// collapsed to [6, 64] and the [6, 16] result expanded back.
// CHECK-DAG: func.func private @hfq_linear_f32(memref<?x?xf32>, memref<?x?xf32>, memref<?xf32>, memref<?xf64>, memref<?x8xi64>) -> i32 attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @dense
// CHECK: tensor.collapse_shape
// CHECK: memref.alloc() : memref<6x16xf32>
// CHECK: memref.alloca() : memref<0xf64>
// CHECK: memref.alloca() : memref<1x8xi64>
// CHECK: call @hfq_linear_f32(
// CHECK: tensor.expand_shape
func.func @dense(%x: tensor<2x3x64xf32>, %w: tensor<16x64xf32>) -> tensor<2x3x16xf32> {
  %y = hfq.linear "lm_head" %x, %w : tensor<2x3x64xf32>, tensor<16x64xf32> -> tensor<2x3x16xf32>
  return %y : tensor<2x3x16xf32>
}

// -----

// A checkpoint tensor is not a constant: it becomes the loader's buffer
// (resolved by --hfq-resolve-weights after deallocation), read-only.
// CHECK-LABEL: func.func @unbound
// CHECK: %[[B:.*]] = hfq.weight_buffer "lm_head.weight" : memref<4xf32>
// CHECK: bufferization.to_tensor %[[B]] restrict : memref<4xf32>
func.func @unbound() -> tensor<4xf32> {
  %w = hfq.weight "lm_head.weight" : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// The model's hfq.* attributes (with #hfq.none inside) do not survive into
// the lowered module, which tools without the hfq dialect must parse.
// CHECK-LABEL: module {
// CHECK-NOT: hfq.model_config
// CHECK-LABEL: func.func @attrs
module attributes {hfq.model_config = {quantization_config = #hfq.none}, hfq.output_embeddings = ["lm_head"]} {
  func.func @attrs() {
    return
  }
}
