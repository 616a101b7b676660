// compressed-tensors checkpoints (pre-quantized only). The library applies
// each config_groups scheme to the modules its `targets` name (a class such
// as "Linear", "re:<regex>", or a module name) except those in `ignore`;
// transformers adds no skips of its own.
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch | FileCheck %s

// W4A16 (pack-quantized, int4, symmetric, group 128): weight_packed [N, K/8]
// int32 (8 codes a word along K), weight_scale [N, K/128] in the weight's
// dtype (bf16 here), weight_shape i64 [2]; symmetric, so no zero point.
// CHECK:       #compressed_tensors = #hfq.method<"compressed-tensors", {
// CHECK-LABEL: func.func @ct_w4a16(
// CHECK-SAME:    %[[X:.*]]: tensor<1x128xbf16>
// CHECK:         %[[WL:.*]] = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
// CHECK-NEXT:    %[[P:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight_packed" : tensor<128x16xi32>
// CHECK-NEXT:    %[[S:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight_scale" : tensor<128x1xbf16>
// CHECK-NEXT:    %[[SH:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight_shape" : tensor<2xi64>
// CHECK-NEXT:    %[[Q:.*]] = hfq.qlinear "model.layers.0.self_attn.q_proj" %[[X]], packed(%[[P]], %[[S]], %[[SH]]) method #compressed_tensors {scheme = {{.*}}targets = ["Linear"]{{.*}} : tensor<1x128xbf16>, (tensor<128x16xi32>, tensor<128x1xbf16>, tensor<2xi64>) -> tensor<1x128xbf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight_packed" : tensor<256x16xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight_scale" : tensor<256x1xbf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight_shape" : tensor<2xi64>
// CHECK-NEXT:    %[[U:.*]] = hfq.qlinear "model.layers.0.mlp.up_proj" %[[Q]], packed({{.*}}) method #compressed_tensors
// CHECK-NEXT:    hfq.linear "lm_head" %[[U]], %[[WL]]
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "compressed-tensors", format = "pack-quantized",
                           quantization_status = "compressed", ignore = ["lm_head"],
                           config_groups = {group_0 = {targets = ["Linear"],
                             input_activations = #hfq.none, output_activations = #hfq.none,
                             weights = {num_bits = 4 : i64, type = "int", symmetric = true,
                                        strategy = "group", group_size = 128 : i64,
                                        dynamic = false, actorder = #hfq.none}}}}}} {
  func.func @ct_w4a16(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
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

// W4A16_ASYM, group 64, aimed at q_proj by a regex target: the zero points
// are packed along N, weight_zero_point [N/8, K/64] int32. up_proj and
// lm_head are targeted by no group and stay as they are.
// CHECK-LABEL: func.func @ct_regex_target_asym(
// CHECK:         hfq.weight "model.layers.0.self_attn.q_proj.weight_packed" : tensor<128x16xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.weight_scale" : tensor<128x2xbf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.weight_zero_point" : tensor<16x2xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.weight_shape" : tensor<2xi64>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.linear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.linear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "compressed-tensors", format = "pack-quantized",
                           quantization_status = "compressed",
                           config_groups = {group_0 = {targets = ["re:.*q_proj$"],
                             weights = {num_bits = 4 : i64, type = "int", symmetric = false,
                                        strategy = "group", group_size = 64 : i64}}}}}} {
  func.func @ct_regex_target_asym(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
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

// CompressedTensorsConfig.post_init, run by the quantizer: compressed
// execution needs a checkpoint whose quantization_status is "compressed";
// a "frozen" one sets dequantize with a warning (5.17).
// CHECK-LABEL: func.func @ct_not_compressed(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj"
// expected-warning @+1 {{Compressed execution is only supported for compressed checkpoints. Setting `dequantize=True`.}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "compressed-tensors", format = "pack-quantized",
                           quantization_status = "frozen", ignore = ["lm_head"],
                           config_groups = {group_0 = {targets = ["Linear"],
                             weights = {num_bits = 4 : i64, type = "int", symmetric = true,
                                        strategy = "group", group_size = 128 : i64}}}}}} {
  func.func @ct_not_compressed(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
