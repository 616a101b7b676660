// HF nm-testing/Meta-Llama-3.1-8B-Instruct-FP8-hf config.json
// quantization_config, SIMPLIFIED (default/empty entries removed) as shown
// in huggingface/transformers docs quantization/compressed_tensors.md
// (index ids 1495961898, 54513967943)
//
// naive-quantized FP8, per-tensor weights and (static) per-tensor input
// activations: weight e4m3 [N, K], weight_scale [1] and input_scale [1] in
// the model dtype. quantization_status is "frozen", not "compressed", so
// post_init sets dequantize with a warning (5.17). to_dict() is
// compressed-tensors' QuantizationConfig.model_dump(): each scheme with its
// defaults filled in, moe_sparsity_config null, no sparsity_config. lm_head
// is in ignore.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// CHECK-LABEL: func.func @compressed_tensors_meta_llama_3_1_8b_instruct_fp8(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf8E4M3FN>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight_scale" : tensor<1xbf16>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.input_scale" : tensor<1xbf16>
// CHECK-NEXT: hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #compressed_tensors
// CHECK:      hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #compressed_tensors
// CHECK-NEXT: hfq.linear "lm_head"
// REPORT:      "quant_method": "compressed-tensors",
// REPORT-NEXT: "quantizer_class": "CompressedTensorsHfQuantizer",
// REPORT-NEXT: "config_class": "CompressedTensorsConfig",
// REPORT-NEXT: "pre_quantized": true,
// REPORT-NEXT: "config": {
// REPORT-DAG:    "format": "naive-quantized",
// REPORT-DAG:    "quantization_status": "frozen",
// REPORT-DAG:    "ignore": [
// REPORT-DAG:      "lm_head"
// REPORT-DAG:    "moe_sparsity_config": null
// REPORT:      "warnings": [
// REPORT-NEXT:   "Compressed execution is only supported for compressed checkpoints. Setting `dequantize=True`."
// REPORT-NEXT: ],
// expected-warning @+1 {{Compressed execution is only supported for compressed checkpoints. Setting `dequantize=True`.}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {
      config_groups = {
        group_0 = {
          input_activations = {
            num_bits = 8 : i64,
            strategy = "tensor",
            type = "float"
          },
          targets = ["Linear"],
          weights = {
            num_bits = 8 : i64,
            strategy = "tensor",
            type = "float"
          }
        }
      },
      format = "naive-quantized",
      ignore = ["lm_head"],
      quant_method = "compressed-tensors",
      quantization_status = "frozen"
    }}} {
  func.func @compressed_tensors_meta_llama_3_1_8b_instruct_fp8(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
