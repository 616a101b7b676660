// Legacy (transformers <= 4.5x, string quant_type) TorchAoConfig repr from
// huggingface/transformers TorchAoConfig docstring
// 'TorchAoConfig("uint4wo", group_size=32)' -- DOC EXAMPLE; the newest
// TorchAoConfig rejects string quant_type
//
// The <= 4.5x string form: 5.17's TorchAoConfig.from_dict asserts a
// {"default": ...} dict first, so the AssertionError comes before post_init's
// "String-based" ValueError (recorded: test/fidelity
// torchao-legacy-string-quant-type).
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' -o /dev/null
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// REPORT:      "error": {
// REPORT-NEXT:   "kind": "AssertionError",
// REPORT-NEXT:   "message": "Expected only one key 'default' in quant_type dictionary"
// REPORT-NEXT: },
// expected-error @+1 {{AssertionError: Expected only one key 'default' in quant_type dictionary}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {
      modules_to_not_convert = #hfq.none,
      quant_method = "torchao",
      quant_type = "uint4wo",
      quant_type_kwargs = {
        group_size = 32 : i64
      }
    }}} {
  func.func @torchao_legacy_string_quant_type(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
