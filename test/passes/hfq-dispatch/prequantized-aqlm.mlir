// AQLM checkpoints (pre-quantized only: AqlmHfQuantizer requires
// calibration). Each linear becomes an aqlm QuantizedLinear over codes,
// codebooks and scales. The skip list is linear_weights_not_to_quantize
// alone — full *parameter* names such as "lm_head.weight" — with no
// default lm_head skip.
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch | FileCheck %s

// 1x16: one codebook of 2^16 entries, groups of 8 inputs x 1 output. codes
// [N, K/8, 1] i16 (16-bit codes), codebooks [1, 65536, 1, 8] and scales
// [N, 1, 1, 1] in the model dtype (f16).
// CHECK:       #aqlm = #hfq.method<"aqlm", {
// CHECK-SAME:    linear_weights_not_to_quantize = ["model.embed_tokens.weight", "lm_head.weight"]
// CHECK-LABEL: func.func @aqlm_1x16(
// CHECK-SAME:    %[[X:.*]]: tensor<1x128xf16>
// CHECK:         %[[WL:.*]] = hfq.weight "lm_head.weight" : tensor<64x256xf16>
// CHECK-NEXT:    %[[C:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.codes" : tensor<128x16x1xi16>
// CHECK-NEXT:    %[[CB:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.codebooks" : tensor<1x65536x1x8xf16>
// CHECK-NEXT:    %[[S:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.scales" : tensor<128x1x1x1xf16>
// CHECK-NEXT:    %[[Q:.*]] = hfq.qlinear "model.layers.0.self_attn.q_proj" %[[X]], packed(%[[C]], %[[CB]], %[[S]]) method #aqlm : tensor<1x128xf16>, (tensor<128x16x1xi16>, tensor<1x65536x1x8xf16>, tensor<128x1x1x1xf16>) -> tensor<1x128xf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.codes" : tensor<256x16x1xi16>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.codebooks" : tensor<1x65536x1x8xf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.scales" : tensor<256x1x1x1xf16>
// CHECK-NEXT:    %[[U:.*]] = hfq.qlinear "model.layers.0.mlp.up_proj" %[[Q]], packed({{.*}}) method #aqlm
// CHECK-NEXT:    hfq.linear "lm_head" %[[U]], %[[WL]]
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "aqlm", in_group_size = 8 : i64, out_group_size = 1 : i64,
                           num_codebooks = 1 : i64, nbits_per_codebook = 16 : i64,
                           linear_weights_not_to_quantize = ["model.embed_tokens.weight", "lm_head.weight"]}}} {
  func.func @aqlm_1x16(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
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

// Entries are matched the v5 way (regex anchored at the start, or suffix)
// against the parameter name: a module path prefix such as
// "model.layers.0.mlp" covers "model.layers.0.mlp.up_proj.weight". With no
// default skips, lm_head is quantized too: codes [64, 256/8, 1].
// CHECK-LABEL: func.func @aqlm_prefix_and_no_default_skips(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.linear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.weight "lm_head.codes" : tensor<64x32x1xi16>
// CHECK:         hfq.qlinear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "aqlm", in_group_size = 8 : i64, out_group_size = 1 : i64,
                           num_codebooks = 1 : i64, nbits_per_codebook = 16 : i64,
                           linear_weights_not_to_quantize = ["model.layers.0.mlp"]}}} {
  func.func @aqlm_prefix_and_no_default_skips(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
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

// The weight name skips exactly that layer.
// CHECK-LABEL: func.func @aqlm_weight_name(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.linear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.qlinear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "aqlm", in_group_size = 8 : i64, out_group_size = 1 : i64,
                           num_codebooks = 1 : i64, nbits_per_codebook = 16 : i64,
                           linear_weights_not_to_quantize = ["model.layers.0.mlp.up_proj.weight"]}}} {
  func.func @aqlm_weight_name(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
