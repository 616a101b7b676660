// neuralmagic example of dynamic per-token int8 activations (W8A8 INT8,
// llm-compressor GPTQModifier scheme W8A8) quoted by a maintainer in vllm-
// project/llm-compressor issue #2078 -- PARTIAL (group_0 input_activations
// only)
//
// A partial config: its one group has input_activations but no targets, so
// no module is targeted and nothing is rewritten. The top-level format
// defaults to "dense"; dequantize is set with a warning (5.17).
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT
// RUN: FileCheck %s --input-file=%t.json --check-prefix=DROPPED

// CHECK-LABEL: func.func @compressed_tensors_w8a8_int8_partial(
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.weight"
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight"
// CHECK-NEXT:    hfq.weight "lm_head.weight"
// CHECK-NEXT:    hfq.linear "model.layers.0.self_attn.q_proj"
// CHECK-NEXT:    hfq.linear "model.layers.0.mlp.up_proj"
// CHECK-NEXT:    hfq.linear "lm_head"
// REPORT:      "quant_method": "compressed-tensors",
// REPORT:      "config": {
// REPORT-DAG:    "format": "dense",
// REPORT-DAG:    "quantization_status": "initialized",
// REPORT-DAG:    "moe_sparsity_config": null
// DROPPED-NOT: "action": "quantized"
// expected-warning @+1 {{Compressed execution is only supported for compressed checkpoints. Setting `dequantize=True`.}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {
      quant_method = "compressed-tensors",
      config_groups = {
        group_0 = {
          format = "int-quantized",
          input_activations = {
            actorder = #hfq.none,
            block_structure = #hfq.none,
            dynamic = true,
            group_size = #hfq.none,
            num_bits = 8 : i64,
            observer = #hfq.none,
            observer_kwargs = {},
            scale_dtype = #hfq.none,
            strategy = "token",
            symmetric = true,
            type = "int",
            zp_dtype = #hfq.none
          }
        }
      }
    }}} {
  func.func @compressed_tensors_w8a8_int8_partial(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
