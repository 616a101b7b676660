// bitsandbytes checkpoints: the load_in_4bit / load_in_8bit flags pick the
// quantizer (AutoQuantizationConfig.from_dict, §1.2). Pre-quantized Linear4bit
// layers read the packed codes and their quant-state statistics; Linear8bitLt
// reads CB (stored as "weight") and SCB. With llm_int8_skip_modules None the
// skip list is transformers' default keys (tied weights, the last parameter,
// the output embedding), so lm_head stays in float. An unset device map is
// filled with the current accelerator, {"": 0}, and logged at info level
// (a remark with remarks=true, as is each module left unconverted).
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch | FileCheck %s
// RUN: hfq-opt %s -split-input-file --hfq-dispatch='remarks=true' -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK

// NF4 with double quantization, uint8 storage, blocks of 64. q_proj holds
// N*K = 16384 codes: weight [8192, 1] ui8 (two codes a byte), 256 blocks
// whose absmax are themselves quantized to ui8, quant_map [16] f32, and the
// nested statistics: one f32 absmax per 256 blocks, nested_quant_map [256],
// and the scalar nested_offset (from the quant_state blob, see the spec).
// CHECK:       #bitsandbytes_4bit = #hfq.method<"bitsandbytes_4bit", {
// CHECK-SAME:    bnb_4bit_compute_dtype = "bfloat16"
// CHECK-SAME:    bnb_4bit_quant_type = "nf4"
// CHECK-SAME:    bnb_4bit_use_double_quant = true
// CHECK-LABEL: func.func @bnb_nf4_double_quant(
// CHECK-SAME:    %[[X:.*]]: tensor<1x128xf16>
// CHECK:         %[[WL:.*]] = hfq.weight "lm_head.weight" : tensor<64x256xf16>
// CHECK-NEXT:    %[[W:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<8192x1xui8>
// CHECK-NEXT:    %[[A:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight.absmax" : tensor<256xui8>
// CHECK-NEXT:    %[[M:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight.quant_map" : tensor<16xf32>
// CHECK-NEXT:    %[[NA:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight.nested_absmax" : tensor<1xf32>
// CHECK-NEXT:    %[[NM:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight.nested_quant_map" : tensor<256xf32>
// CHECK-NEXT:    %[[NO:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight.nested_offset" : tensor<f32>
// CHECK-NEXT:    %[[Q:.*]] = hfq.qlinear "model.layers.0.self_attn.q_proj" %[[X]], packed(%[[W]], %[[A]], %[[M]], %[[NA]], %[[NM]], %[[NO]]) method #bitsandbytes_4bit : tensor<1x128xf16>, (tensor<8192x1xui8>, tensor<256xui8>, tensor<16xf32>, tensor<1xf32>, tensor<256xf32>, tensor<f32>) -> tensor<1x128xf16>
// up_proj: 32768 codes, 512 blocks, two nested absmax.
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<16384x1xui8>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight.absmax" : tensor<512xui8>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight.quant_map" : tensor<16xf32>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight.nested_absmax" : tensor<2xf32>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight.nested_quant_map" : tensor<256xf32>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight.nested_offset" : tensor<f32>
// CHECK-NEXT:    %[[U:.*]] = hfq.qlinear "model.layers.0.mlp.up_proj" %[[Q]], packed({{.*}}) method #bitsandbytes_4bit
// CHECK-NEXT:    hfq.linear "lm_head" %[[U]], %[[WL]]
// REMARK:      remark: The device_map was not initialized. Setting device_map to {'': 0}. If you want to use the model for inference, please set device_map ='auto' {{$}}
// REMARK:      remark: not quantized: {{.*}}'lm_head'
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_4bit = true, load_in_8bit = false,
                           bnb_4bit_quant_type = "nf4", bnb_4bit_use_double_quant = true,
                           bnb_4bit_compute_dtype = "bfloat16", bnb_4bit_quant_storage = "uint8"}}} {
  func.func @bnb_nf4_double_quant(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
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

// LLM.int8(): CB int8 [N, K] under the name "weight", SCB f32 [N] (one
// absmax per output row).
// CHECK:       #bitsandbytes_8bit = #hfq.method<"bitsandbytes_8bit", {
// CHECK-SAME:    load_in_8bit = true
// CHECK-LABEL: func.func @bnb_int8(
// CHECK-SAME:    %[[X:.*]]: tensor<1x128xf16>
// CHECK:         %[[WL:.*]] = hfq.weight "lm_head.weight" : tensor<64x256xf16>
// CHECK-NEXT:    %[[CB:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xi8>
// CHECK-NEXT:    %[[SCB:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.SCB" : tensor<128xf32>
// CHECK-NEXT:    %[[Q:.*]] = hfq.qlinear "model.layers.0.self_attn.q_proj" %[[X]], packed(%[[CB]], %[[SCB]]) method #bitsandbytes_8bit : tensor<1x128xf16>, (tensor<128x128xi8>, tensor<128xf32>) -> tensor<1x128xf16>
// CHECK-NEXT:    %[[UCB:.*]] = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xi8>
// CHECK-NEXT:    %[[USCB:.*]] = hfq.weight "model.layers.0.mlp.up_proj.SCB" : tensor<256xf32>
// CHECK-NEXT:    %[[U:.*]] = hfq.qlinear "model.layers.0.mlp.up_proj" %[[Q]], packed(%[[UCB]], %[[USCB]]) method #bitsandbytes_8bit
// CHECK-NEXT:    hfq.linear "lm_head" %[[U]], %[[WL]]
// REMARK:      remark: The device_map was not initialized. Setting device_map to {'': 0}. If you want to use the model for inference, please set device_map ='auto' {{$}}
// REMARK:      remark: not quantized: {{.*}}'lm_head'
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_8bit = true, load_in_4bit = false,
                           llm_int8_threshold = 6.0 : f64}}} {
  func.func @bnb_int8(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
