// BitNet b1.58 checkpoints (BitNetHfQuantizer requires calibration). Offline
// mode stores packed ternary weights: 4 values a byte in planes along N,
// weight [N/4, K] uint8, plus one weight_scale in the weight's dtype.
// modules_to_not_convert None: default skips, lm_head stays in float.
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch='device-map=cuda:0' | FileCheck %s

// CHECK:       #bitnet = #hfq.method<"bitnet", {
// CHECK-SAME:    linear_class = "bitlinear"
// CHECK-SAME:    quantization_mode = "offline"
// CHECK-LABEL: func.func @bitnet_offline(
// CHECK-SAME:    %[[X:.*]]: tensor<1x128xbf16>
// CHECK:         %[[WL:.*]] = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
// CHECK-NEXT:    %[[W:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<32x128xui8>
// CHECK-NEXT:    %[[S:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight_scale" : tensor<1xbf16>
// CHECK-NEXT:    %[[Q:.*]] = hfq.qlinear "model.layers.0.self_attn.q_proj" %[[X]], packed(%[[W]], %[[S]]) method #bitnet : tensor<1x128xbf16>, (tensor<32x128xui8>, tensor<1xbf16>) -> tensor<1x128xbf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<64x128xui8>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight_scale" : tensor<1xbf16>
// CHECK-NEXT:    %[[U:.*]] = hfq.qlinear "model.layers.0.mlp.up_proj" %[[Q]], packed({{.*}}) method #bitnet
// CHECK-NEXT:    hfq.linear "lm_head" %[[U]], %[[WL]]
module attributes {hfq.model_config = {model_type = "bitnet", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "bitnet", linear_class = "bitlinear",
                           quantization_mode = "offline"}}} {
  func.func @bitnet_offline(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
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

// autobitlinear + online (the -bf16 checkpoints): bf16 master weights,
// ternarized in forward; the checkpoint holds the plain [N, K] weight.
// CHECK-LABEL: func.func @bitnet_online(
// CHECK:         hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #bitnet
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj"
// CHECK-NEXT:    hfq.linear "lm_head"
module attributes {hfq.model_config = {model_type = "bitnet", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "bitnet", linear_class = "autobitlinear",
                           quantization_mode = "online"}}} {
  func.func @bitnet_online(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
