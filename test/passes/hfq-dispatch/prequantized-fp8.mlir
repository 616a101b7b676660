// Fine-grained FP8 checkpoints (DeepSeek-V3 style): each linear becomes an
// FP8Linear over the e4m3 weight and its block scales (weight_scale_inv, the
// multiplier despite its name). modules_to_not_convert None means
// transformers' default skips, so lm_head stays in float.
//
// On sm_90 with a device map there is nothing to say. The compute
// capability and CPU cases are in environment-fp8.mlir.
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch='target=sm_90 device-map=cuda:0' | FileCheck %s

// 128x128 blocks: q_proj [128, 128] has one scale, up_proj [256, 128] two.
// CHECK:       #fp8 = #hfq.method<"fp8", {
// CHECK-SAME:    activation_scheme = "dynamic"
// CHECK-SAME:    dequantize = false
// CHECK-SAME:    weight_block_size = [128, 128]
// CHECK-LABEL: func.func @fp8_block(
// CHECK-SAME:    %[[X:.*]]: tensor<1x128xbf16>
// CHECK:         %[[WL:.*]] = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
// CHECK-NEXT:    %[[W:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf8E4M3FN>
// CHECK-NEXT:    %[[S:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight_scale_inv" : tensor<1x1xf32>
// CHECK-NEXT:    %[[Q:.*]] = hfq.qlinear "model.layers.0.self_attn.q_proj" %[[X]], packed(%[[W]], %[[S]]) method #fp8 : tensor<1x128xbf16>, (tensor<128x128xf8E4M3FN>, tensor<1x1xf32>) -> tensor<1x128xbf16>
// CHECK-NEXT:    %[[UW:.*]] = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf8E4M3FN>
// CHECK-NEXT:    %[[US:.*]] = hfq.weight "model.layers.0.mlp.up_proj.weight_scale_inv" : tensor<2x1xf32>
// CHECK-NEXT:    %[[U:.*]] = hfq.qlinear "model.layers.0.mlp.up_proj" %[[Q]], packed(%[[UW]], %[[US]]) method #fp8 : tensor<1x128xbf16>, (tensor<256x128xf8E4M3FN>, tensor<2x1xf32>) -> tensor<1x256xbf16>
// CHECK-NEXT:    hfq.linear "lm_head" %[[U]], %[[WL]]
module attributes {hfq.model_config = {model_type = "deepseek_v3", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "fp8", activation_scheme = "dynamic", fmt = "e4m3",
                           weight_block_size = [128 : i64, 128 : i64]}}} {
  func.func @fp8_block(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}

// -----

// Per-tensor FP8 (weight_block_size null) with static activations: one f32
// weight scale and one activation scale per layer.
// CHECK-LABEL: func.func @fp8_per_tensor_static(
// CHECK:         hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf8E4M3FN>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.weight_scale_inv" : tensor<f32>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.activation_scale" : tensor<f32>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj"
// CHECK-NEXT:    hfq.linear "lm_head"
module attributes {hfq.model_config = {model_type = "mistral3", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "fp8", activation_scheme = "static",
                           weight_block_size = #hfq.none}}} {
  func.func @fp8_per_tensor_static(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
