// The kernel rules see the activation element type (`act_dtype`: f32, f16
// or bf16). The CUDA weight-only kernels serve f16 and bf16 activations
// only (kernels/cuda/Entry.cpp refuses f32 at run time), so on sm_90 an f32
// layer falls through to the CPU reference, and the rejected CUDA rules say
// which condition failed.
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-spec-path=%S/Inputs/no-kernel.json --hfq-select-kernel=target=sm_90 | FileCheck %s

#gptq4 = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>

// CHECK-LABEL: func.func @gptq_f32_decode(
// CHECK:         hfq.qlinear {{.*}} {kernel = "hfq_ref_gptq", rejected_kernels = ["hfq_gptq_w4a16_gemv: 'bits == 4 and target.cuda and target.sm >= 80 and act_dtype in ['f16', 'bf16'] and {{.*}}' does not hold", "hfq_gptq_w4a16_gemm: {{.*}}act_dtype in ['f16', 'bf16']{{.*}} does not hold"
// CHECK-SAME:    : tensor<1x64xf32>
func.func @gptq_f32_decode(%x: tensor<1x64xf32>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                           %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf32> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq4
      : tensor<1x64xf32>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf32>
  return %y : tensor<1x128xf32>
}

// -----

#gptq4 = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>

// The same layer with f16 activations runs the CUDA GEMV, nothing rejected.
// CHECK-LABEL: func.func @gptq_f16_decode(
// CHECK:         hfq.qlinear {{.*}} {kernel = "hfq_gptq_w4a16_gemv"}
// CHECK-SAME:    : tensor<1x64xf16>
func.func @gptq_f16_decode(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                           %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq4
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

#gptq4 = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>

// bf16 prefill (M = 1024): the GEMV's M rejects, the CUDA GEMM runs.
// CHECK-LABEL: func.func @gptq_bf16_prefill(
// CHECK:         hfq.qlinear {{.*}} {kernel = "hfq_gptq_w4a16_gemm", rejected_kernels = ["hfq_gptq_w4a16_gemv: {{.*}}M <= 16{{.*}} does not hold"]}
// CHECK-SAME:    : tensor<1024x64xbf16>
func.func @gptq_bf16_prefill(%x: tensor<1024x64xbf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                             %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1024x128xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq4
      : tensor<1024x64xbf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1024x128xbf16>
  return %y : tensor<1024x128xbf16>
}

// -----

#awq4 = #hfq.method<"awq", {bits = 4 : i64, group_size = 32 : i64}>

// Every method's CUDA rules read it: an f32 AWQ layer runs the reference.
// CHECK-LABEL: func.func @awq_f32(
// CHECK:         hfq.qlinear {{.*}} {kernel = "hfq_ref_awq", rejected_kernels = ["hfq_awq_w4a16_gemv: {{.*}}act_dtype in ['f16', 'bf16']{{.*}} does not hold", "hfq_awq_w4a16_gemm: {{.*}}act_dtype in ['f16', 'bf16']{{.*}} does not hold"]}
func.func @awq_f32(%x: tensor<1x64xf32>, %qw: tensor<64x16xi32>, %qz: tensor<2x16xi32>,
                   %s: tensor<2x128xf16>) -> tensor<1x128xf32> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s) method #awq4
      : tensor<1x64xf32>, (tensor<64x16xi32>, tensor<2x16xi32>, tensor<2x128xf16>) -> tensor<1x128xf32>
  return %y : tensor<1x128xf32>
}
