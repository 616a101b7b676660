// An AWQ checkpoint (quant_method "awq", version "gemm") is pre-quantized:
// AwqQuantizer (requires_calibration) swaps each linear for WQLinear_GEMM
// over the checkpoint's qweight/qzeros/scales. Its skip list is the config's
// modules_to_not_convert *plus* transformers' default skips, always
// (add_default_skips=True), plus _keep_in_fp32_modules: lm_head stays a
// float linear even when modules_to_not_convert is given.
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch='device-map=cuda:0' | FileCheck %s

// K = 128, group_size 64: two groups. 4-bit codes, 8 per int32 along N:
// qweight [K, N/8], qzeros [K/64, N/8], scales [K/64, N] f16.
// CHECK:       #awq = #hfq.method<"awq", {
// CHECK-SAME:    format = "gemm"
// CHECK-SAME:    group_size = 64 : i64
// CHECK-LABEL: func.func @awq_gemm(
// CHECK-SAME:    %[[X:.*]]: tensor<1x128xf16>
// CHECK:         %[[WL:.*]] = hfq.weight "lm_head.weight" : tensor<64x256xf16>
// CHECK-NEXT:    %[[QW:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.qweight" : tensor<128x16xi32>
// CHECK-NEXT:    %[[QZ:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.qzeros" : tensor<2x16xi32>
// CHECK-NEXT:    %[[QS:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.scales" : tensor<2x128xf16>
// CHECK-NEXT:    %[[Q:.*]] = hfq.qlinear "model.layers.0.self_attn.q_proj" %[[X]], packed(%[[QW]], %[[QZ]], %[[QS]]) method #awq : tensor<1x128xf16>, (tensor<128x16xi32>, tensor<2x16xi32>, tensor<2x128xf16>) -> tensor<1x128xf16>
// CHECK-NEXT:    %[[UW:.*]] = hfq.weight "model.layers.0.mlp.up_proj.qweight" : tensor<128x32xi32>
// CHECK-NEXT:    %[[UZ:.*]] = hfq.weight "model.layers.0.mlp.up_proj.qzeros" : tensor<2x32xi32>
// CHECK-NEXT:    %[[US:.*]] = hfq.weight "model.layers.0.mlp.up_proj.scales" : tensor<2x256xf16>
// CHECK-NEXT:    %[[U:.*]] = hfq.qlinear "model.layers.0.mlp.up_proj" %[[Q]], packed(%[[UW]], %[[UZ]], %[[US]]) method #awq : tensor<1x128xf16>, (tensor<128x32xi32>, tensor<2x32xi32>, tensor<2x256xf16>) -> tensor<1x256xf16>
// CHECK-NEXT:    %[[L:.*]] = hfq.linear "lm_head" %[[U]], %[[WL]] : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
// CHECK-NEXT:    return %[[L]]
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "awq", bits = 4 : i64, group_size = 64 : i64,
                           zero_point = true, version = "gemm"}}} {
  func.func @awq_gemm(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}

// -----

// modules_to_not_convert ["up_proj"] (a v5 pattern: matched as a suffix of
// the module name) keeps up_proj in float; the default skips still hold
// lm_head back.
// CHECK-LABEL: func.func @awq_modules_to_not_convert(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.linear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.linear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "awq", bits = 4 : i64, group_size = 64 : i64,
                           zero_point = true, version = "gemm",
                           modules_to_not_convert = ["up_proj"]}}} {
  func.func @awq_modules_to_not_convert(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
