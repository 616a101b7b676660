// HF TheBloke/TinyLlama-1.1B-Chat-v1.0-GPTQ quantize_config.json (NOT
// config.json; AutoGPTQ side-file, no quant_method key -- transformers
// ignores this file), verbatim
//
// AutoGPTQ's side file quantize_config.json has no quant_method
// (transformers never reads it; used as a quantization_config it is
// supports_quant_method's ValueError).
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' -o /dev/null
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// REPORT:      "error": {
// REPORT-NEXT:   "kind": "ValueError",
// REPORT-NEXT:   "message": "The model's quantization config from the arguments has no `quant_method` attribute. Make sure that the model has been correctly quantized"
// REPORT-NEXT: },
// expected-error @+1 {{ValueError: The model's quantization config from the arguments has no `quant_method` attribute. Make sure that the model has been correctly quantized}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {
      bits = 4 : i64,
      group_size = 128 : i64,
      damp_percent = 0.1 : f64,
      desc_act = true,
      static_groups = false,
      sym = true,
      true_sequential = true,
      model_name_or_path = #hfq.none,
      model_file_base_name = "model"
    }}} {
  func.func @gptq_thebloke_tinyllama_quantize_config(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
