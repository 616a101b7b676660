// supports_quant_method and AutoQuantizationConfig.from_dict (§1.2, §1.5):
// which method a quantization_config dict names. The "supported types" list
// is list(AUTO_QUANTIZER_MAPPING.keys()) restricted to the methods hfq
// implements (the in-scope rows of §1.1, in the mapping's order).
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch | FileCheck %s

// An unknown method in config.json only warns, and the model loads
// unquantized: the IR is unchanged.
// CHECK-LABEL: func.func @unknown_method(
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
// CHECK-NEXT:    hfq.weight "lm_head.weight" : tensor<64x256xf16>
// CHECK-NEXT:    hfq.linear "model.layers.0.self_attn.q_proj"
// CHECK-NEXT:    hfq.linear "model.layers.0.mlp.up_proj"
// CHECK-NEXT:    hfq.linear "lm_head"
// CHECK-NEXT:    return
// expected-warning @+1 {{Unknown quantization type, got foo - supported types are: ['awq', 'bitsandbytes_4bit', 'bitsandbytes_8bit', 'gptq', 'aqlm', 'quanto', 'quark', 'fouroversix', 'fp_quant', 'eetq', 'higgs', 'hqq', 'compressed-tensors', 'fbgemm_fp8', 'torchao', 'bitnet', 'vptq', 'spqr', 'fp8', 'gguf', 'nvfp4', 'mxfp8', 'auto-round', 'mxfp4', 'metal', 'sinq', 'gemma']. Hence, we will skip the quantization. To remove the warning, you can delete the quantization_config attribute in config.json}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "foo", bits = 4 : i64}}} {
  func.func @unknown_method(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
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

// "bitsandbytes" is the enum value, not a mapping key: without a load flag
// it is unknown too.
// CHECK-LABEL: func.func @bitsandbytes_without_flags(
// CHECK-NOT:     hfq.qlinear
// expected-warning @+1 {{Unknown quantization type, got bitsandbytes - supported types are: ['awq', 'bitsandbytes_4bit', 'bitsandbytes_8bit', 'gptq', 'aqlm', 'quanto', 'quark', 'fouroversix', 'fp_quant', 'eetq', 'higgs', 'hqq', 'compressed-tensors', 'fbgemm_fp8', 'torchao', 'bitnet', 'vptq', 'spqr', 'fp8', 'gguf', 'nvfp4', 'mxfp8', 'auto-round', 'mxfp4', 'metal', 'sinq', 'gemma']. Hence, we will skip the quantization.}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_4bit = false, load_in_8bit = false}}} {
  func.func @bitsandbytes_without_flags(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
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

// No quant_method and no load flag: the ValueError, and the pass fails.
// expected-error @+1 {{ValueError: The model's quantization config from the arguments has no `quant_method` attribute. Make sure that the model has been correctly quantized}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {bits = 4 : i64, group_size = 128 : i64}}} {
  func.func @no_quant_method(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
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

// A truthy load flag overrides quant_method: this dict is a
// BitsAndBytesConfig (8-bit), not a GPTQConfig — GPTQ's required `bits` is
// never asked for. Linear8bitLt tensors, and the info about the unset
// device map.
// CHECK-LABEL: func.func @load_flag_overrides_quant_method(
// CHECK:         hfq.weight "model.layers.0.self_attn.q_proj.SCB" : tensor<128xf32>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #bitsandbytes_8bit
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", load_in_8bit = true}}} {
  func.func @load_flag_overrides_quant_method(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
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

// load_in_4bit is tested first, so a dict with both flags is resolved as
// bitsandbytes_4bit — and BitsAndBytesConfig itself then refuses both.
// expected-error @+1 {{ValueError: load_in_4bit and load_in_8bit are both True, but only one can be used at the same time}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "awq", load_in_4bit = true, load_in_8bit = true}}} {
  func.func @both_load_flags(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
