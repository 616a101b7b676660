// hfq-lower-to-runtime reads the layout an op records, not the registry:
// the kernel arguments stored for the call are the recorded ones (here
// zero_stored_minus_one = 0, where the spec would say 1 for format "gptq"),
// and a quantize call goes to the kernel --hfq-select-kernel chose.
// RUN: hfq-opt %s --split-input-file -verify-diagnostics --hfq-lower-to-runtime | FileCheck %s

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
#l = #hfq.layout<(qweight: tensor<8x128xi32>, qzeros: tensor<2x16xi32>, scales: tensor<2x128xf16>, g_idx: tensor<64xi32>), args(bits = 4, group_size = 32, zero_stored_minus_one = 0)>

// CHECK:       memref.global "private" constant @[[$ARGS:.*]] : memref<3xf64> = dense<[4.000000e+00, 3.200000e+01, 0.000000e+00]>
// CHECK-LABEL: func.func @recorded_args
// CHECK:         memref.get_global @[[$ARGS]] : memref<3xf64>
// CHECK:         call @hfq_ref_gptq_f32(
func.func @recorded_args(%x: tensor<2x64xf32>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                         %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<2x128xf32> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq {kernel = "hfq_ref_gptq"}
      : tensor<2x64xf32>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<2x128xf32>
      layout #l
  return %y : tensor<2x128xf32>
}

// -----

#bnb8 = #hfq.method<"bitsandbytes_8bit", {load_in_8bit = true}>

// CHECK-LABEL: func.func @quantize_kernel
// CHECK:         call @hfq_ref_bnb8_quantize_f32(
func.func @quantize_kernel(%w: tensor<128x64xf32>) -> (tensor<128x64xi8>, tensor<128xf32>) {
  %q:2 = hfq.quantize "model.layers.0.mlp.up_proj" %w method #bnb8 {kernel = "hfq_ref_bnb8"}
      : tensor<128x64xf32> -> (tensor<128x64xi8>, tensor<128xf32>)
  return %q#0, %q#1 : tensor<128x64xi8>, tensor<128xf32>
}

// -----

#bnb8 = #hfq.method<"bitsandbytes_8bit", {load_in_8bit = true}>

func.func @quantize_without_kernel(%w: tensor<128x64xf32>) -> (tensor<128x64xi8>, tensor<128xf32>) {
  // expected-error @+1 {{'hfq.quantize' op has no kernel; run --hfq-select-kernel first}}
  %q:2 = hfq.quantize "model.layers.0.mlp.up_proj" %w method #bnb8
      : tensor<128x64xf32> -> (tensor<128x64xi8>, tensor<128xf32>)
  return %q#0, %q#1 : tensor<128x64xi8>, tensor<128xf32>
}
