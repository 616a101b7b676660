// HF BlackSamorez/Llama-2-7b-AQLM-2Bit-1x16-hf config.json
// quantization_config, as quoted (with link) in a vLLM AQLM config comment
//
// AqlmConfig as is (no to_dict override). The skip list is
// linear_weights_not_to_quantize, full weight names: lm_head.weight keeps
// lm_head in float (the embedding is no linear).
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// CHECK-LABEL: func.func @aqlm_blacksamorez_llama_2_7b_2bit_1x16(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj.codes" : tensor<128x16x1xi16>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.codebooks" : tensor<1x65536x1x8xf16>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.scales" : tensor<128x1x1x1xf16>
// CHECK-NEXT: hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #aqlm
// CHECK:      hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #aqlm
// CHECK-NEXT: hfq.linear "lm_head"
// REPORT:      "quant_method": "aqlm",
// REPORT-NEXT: "quantizer_class": "AqlmHfQuantizer",
// REPORT-NEXT: "config_class": "AqlmConfig",
// REPORT-NEXT: "pre_quantized": true,
// REPORT-NEXT: "config": {
// REPORT-NEXT:   "quant_method": "aqlm",
// REPORT-NEXT:   "in_group_size": 8,
// REPORT-NEXT:   "out_group_size": 1,
// REPORT-NEXT:   "num_codebooks": 1,
// REPORT-NEXT:   "nbits_per_codebook": 16,
// REPORT-NEXT:   "linear_weights_not_to_quantize": [
// REPORT-NEXT:     "model.embed_tokens.weight",
// REPORT-NEXT:     "lm_head.weight"
// REPORT-NEXT:   ]
// REPORT-NEXT: },
// REPORT-NEXT: "warnings": [],
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {
      in_group_size = 8 : i64,
      nbits_per_codebook = 16 : i64,
      num_codebooks = 1 : i64,
      out_group_size = 1 : i64,
      quant_method = "aqlm",
      linear_weights_not_to_quantize = ["model.embed_tokens.weight", "lm_head.weight"]
    }}} {
  func.func @aqlm_blacksamorez_llama_2_7b_2bit_1x16(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
