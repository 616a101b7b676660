// neuralmagic example of dynamic per-token int8 activations (W8A8 INT8,
// llm-compressor GPTQModifier scheme W8A8) quoted by a maintainer in vllm-
// project/llm-compressor issue #2078 -- PARTIAL (group_0 input_activations
// only)
//
// A partial config: its one group has input_activations but no `targets`.
// With compressed-tensors installed, 5.17 validates the config with pydantic
// and fails (test/fidelity records it as ct-w8a8-int8-partial): both
// members of config_groups' union report, QuantizationScheme a missing
// `targets` and the list[str] preset a wrong type.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' -o /dev/null
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// REPORT:      "error": {
// REPORT-NEXT:   "kind": "ValidationError",
// REPORT-NEXT:   "message": "2 validation errors for QuantizationConfig\nconfig_groups.group_0.function-after[validate_model_after(), QuantizationScheme].targets\n  Field required [type=missing, input_value={'format': 'int-quantized...int', 'zp_dtype': None}}, input_type=dict]
// expected-error-re @+1 {{ValidationError: 2 validation errors for QuantizationConfig{{.*}}}}
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
