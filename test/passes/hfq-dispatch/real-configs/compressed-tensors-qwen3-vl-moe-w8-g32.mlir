// User-posted config.json of a Qwen3-VL-MoE
// (Qwen3VLMoeForConditionalGeneration) W8 group-32 checkpoint in vllm-
// project/llm-compressor issue #1914 thread -- ignore list TRUNCATED in the
// source excerpt (only the first entries kept)
//
// pack-quantized int8, group 32, symmetric: weight_packed [N, K/4] (4 codes
// a word), weight_scale [N, K/32], weight_shape i64 [2]. The ignore list
// (truncated in the source) names only vision blocks, and the group targets
// every Linear, so lm_head is quantized too. No quantization_status: the
// default "initialized" is not "compressed", so post_init sets dequantize
// with a warning (5.17).
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// CHECK-LABEL: func.func @compressed_tensors_qwen3_vl_moe_w8_g32(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj.weight_packed" : tensor<128x32xi32>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight_scale" : tensor<128x4xbf16>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight_shape" : tensor<2xi64>
// CHECK-NEXT: hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #compressed_tensors
// CHECK:      hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #compressed_tensors
// CHECK:      hfq.weight "lm_head.weight_packed" : tensor<64x64xi32>
// CHECK-NEXT: hfq.weight "lm_head.weight_scale" : tensor<64x8xbf16>
// CHECK:      hfq.qlinear "lm_head" {{.*}} method #compressed_tensors
// REPORT:      "quant_method": "compressed-tensors",
// REPORT-NEXT: "quantizer_class": "CompressedTensorsHfQuantizer",
// REPORT-NEXT: "config_class": "CompressedTensorsConfig",
// REPORT-NEXT: "pre_quantized": true,
// REPORT-NEXT: "config": {
// REPORT-DAG:    "format": "pack-quantized",
// REPORT-DAG:    "quantization_status": "initialized",
// REPORT-DAG:    "moe_sparsity_config": null
// REPORT:      "warnings": [
// REPORT-NEXT:   "Compressed execution is only supported for compressed checkpoints. Setting `dequantize=True`."
// REPORT-NEXT: ],
// REPORT-COUNT-3: "action": "quantized",
// expected-warning @+1 {{Compressed execution is only supported for compressed checkpoints. Setting `dequantize=True`.}}
module attributes {hfq.model_config = {model_type = "qwen3_vl_moe", torch_dtype = "bfloat16",
    quantization_config = {
      config_groups = {
        group_0 = {
          format = "pack-quantized",
          input_activations = #hfq.none,
          output_activations = #hfq.none,
          targets = ["Linear"],
          weights = {
            actorder = #hfq.none,
            block_structure = #hfq.none,
            dynamic = false,
            group_size = 32 : i64,
            num_bits = 8 : i64,
            observer = "mse",
            observer_kwargs = {},
            strategy = "group",
            symmetric = true,
            type = "int"
          }
        }
      },
      format = "pack-quantized",
      global_compression_ratio = #hfq.none,
      ignore = ["model.visual.blocks.0.attn.qkv", "model.visual.blocks.0.attn.proj", "model.visual.blocks.0.mlp.linear_fc1", "model.visual.blocks.0.mlp.linear_fc2"],
      quant_method = "compressed-tensors"
    }}} {
  func.func @compressed_tensors_qwen3_vl_moe_w8_g32(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
