// merge_quantization_configs (§1.4): a pre-quantized checkpoint given a
// quantization_config= as well. The checkpoint's config wins; for the
// loading-attribute classes (GPTQ, AWQ, compressed-tensors, FP8, ...) the
// user's get_loading_attributes() are copied over it and the message says
// so; a different config class is an error; FP8 logs the message at info
// level instead of warning.
//
// RUN: split-file %s %t

// GPTQ checkpoint (4-bit) + GPTQConfig(bits=8, backend="marlin"): bits comes
// from the file, backend from the user. GPTQConfig's loading attributes are
// filtered from its __dict__, so both are listed (max_input_length with its
// default None), in attribute order. No space before "However".
// RUN: hfq-opt %t/gptq.mlir -verify-diagnostics --hfq-dispatch='quantization-config={"quant_method":"gptq","bits":8,"backend":"marlin"} report=%t/gptq.json' | FileCheck %s --check-prefix=GPTQ
// RUN: FileCheck %s --input-file=%t/gptq.json --check-prefix=GPTQ-REPORT
// GPTQ:       #gptq = #hfq.method<"gptq", {
// GPTQ-SAME:    backend = "marlin"
// GPTQ-SAME:    bits = 4 : i64
// GPTQ:         hfq.weight "model.layers.0.self_attn.q_proj.qweight" : tensor<16x128xi32>
// GPTQ-REPORT:      "quant_method": "gptq",
// GPTQ-REPORT:      "pre_quantized": true,
// GPTQ-REPORT-NEXT: "config": {
// GPTQ-REPORT-NEXT:   "quant_method": "gptq",
// GPTQ-REPORT-NEXT:   "bits": 4,
// GPTQ-REPORT:        "backend": "marlin",
// GPTQ-REPORT:        "max_input_length": null,
// GPTQ-REPORT:      "warnings": [
// GPTQ-REPORT-NEXT:   "You passed `quantization_config` or equivalent parameters to `from_pretrained` but the model you're loading already has a `quantization_config` attribute. The `quantization_config` from the model will be used.However, loading attributes (e.g. ['backend', 'max_input_length']) will be overwritten with the one you passed to `from_pretrained`. The rest will be ignored."
// GPTQ-REPORT-NEXT: ],

// GPTQ checkpoint + AwqConfig: a different class (compared by name, although
// AwqConfig subclasses GPTQConfig) is a ValueError.
// RUN: not hfq-opt %t/gptq.mlir --hfq-dispatch='quantization-config={"quant_method":"awq"}' 2>&1 | FileCheck %s --check-prefix=MISMATCH
// MISMATCH: error: ValueError: The model is quantized with GPTQConfig but you are passing a AwqConfig config. Please make sure to pass the same quantization config class to `from_pretrained` with different loading attributes.

// FP8 checkpoint + FineGrainedFP8Config(dequantize=True): the merge message
// is an info (a remark with remarks=true, no warning), dequantize is copied,
// and validate_environment returns at once (no device-map warning).
// RUN: hfq-opt %t/fp8.mlir -verify-diagnostics --hfq-dispatch='quantization-config={"quant_method":"fp8","dequantize":true} report=%t/fp8.json' -o /dev/null
// RUN: hfq-opt %t/fp8.mlir --hfq-dispatch='quantization-config={"quant_method":"fp8","dequantize":true} remarks=true' -o /dev/null 2>&1 | FileCheck %s --check-prefix=FP8-REMARK
// RUN: FileCheck %s --input-file=%t/fp8.json --check-prefix=FP8-REPORT
// FP8-REMARK-NOT: warning:
// FP8-REMARK:     remark: You passed `quantization_config` or equivalent parameters to `from_pretrained` but the model you're loading already has a `quantization_config` attribute. The `quantization_config` from the model will be used.However, loading attributes (e.g. ['dequantize', 'modules_to_not_convert']) will be overwritten with the one you passed to `from_pretrained`. The rest will be ignored.
// FP8-REMARK-NOT: warning:
// FP8-REPORT:      "dequantize": true
// FP8-REPORT:      "warnings": [],
// FP8-REPORT-NEXT: "infos": [
// FP8-REPORT-NEXT:   "You passed `quantization_config` or equivalent parameters to `from_pretrained` but the model you're loading already has a `quantization_config` attribute. The `quantization_config` from the model will be used.However, loading attributes (e.g. ['dequantize', 'modules_to_not_convert']) will be overwritten with the one you passed to `from_pretrained`. The rest will be ignored."
// FP8-REPORT-NEXT: ],

// bnb 4-bit checkpoint + BitsAndBytesConfig(load_in_8bit=True): not a
// loading-attribute class, so nothing is copied and the warning stops after
// its first part; the checkpoint's 4-bit config wins.
// RUN: hfq-opt %t/bnb.mlir -verify-diagnostics --hfq-dispatch='quantization-config={"load_in_8bit":true} device-map=cuda:0 report=%t/bnb.json' | FileCheck %s --check-prefix=BNB
// RUN: FileCheck %s --input-file=%t/bnb.json --check-prefix=BNB-REPORT
// BNB:         hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #bitsandbytes_4bit
// BNB-REPORT:      "quant_method": "bitsandbytes_4bit",
// BNB-REPORT:        "_load_in_8bit": false,
// BNB-REPORT-NEXT:   "_load_in_4bit": true,
// BNB-REPORT:      "warnings": [
// BNB-REPORT-NEXT:   "You passed `quantization_config` or equivalent parameters to `from_pretrained` but the model you're loading already has a `quantization_config` attribute. The `quantization_config` from the model will be used."
// BNB-REPORT-NEXT: ],

// compressed-tensors checkpoint + CompressedTensorsConfig(run_compressed=
// False): run_compressed is deprecated and sets dequantize; 5.17's loading
// attributes are dequantize and use_optimized_inference (recorded case
// ct-merge-user-dequantize).
// RUN: hfq-opt %t/ct.mlir -verify-diagnostics --hfq-dispatch='quantization-config={"quant_method":"compressed-tensors","run_compressed":false}' -o /dev/null

// A checkpoint whose method is unknown is not pre-quantized, so the user's
// config quantizes on the fly: no merge, only the unknown-type warning.
// RUN: hfq-opt %t/unknown.mlir -verify-diagnostics --hfq-dispatch='quantization-config={"load_in_8bit":true} device-map=cuda:0' | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: hfq.quantize "model.layers.0.self_attn.q_proj" {{.*}} method #bitsandbytes_8bit

// The user's config is an object before from_pretrained runs: its unknown
// method is from_dict's ValueError (no "Hence" sentence), whatever the
// checkpoint holds.
// RUN: not hfq-opt %t/gptq.mlir --hfq-dispatch='quantization-config={"quant_method":"foo"}' 2>&1 | FileCheck %s --check-prefix=USER-UNKNOWN
// USER-UNKNOWN: error: ValueError: Unknown quantization type, got foo - supported types are: ['awq', 'bitsandbytes_4bit', 'bitsandbytes_8bit', 'gptq', 'aqlm', 'quanto', 'quark', 'fouroversix', 'fp_quant', 'eetq', 'higgs', 'hqq', 'compressed-tensors', 'fbgemm_fp8', 'torchao', 'bitnet', 'vptq', 'spqr', 'fp8', 'gguf', 'nvfp4', 'mxfp8', 'auto-round', 'mxfp4', 'metal', 'sinq', 'gemma']{{$}}

//--- gptq.mlir
// expected-warning @+1 {{You passed `quantization_config` or equivalent parameters to `from_pretrained` but the model you're loading already has a `quantization_config` attribute. The `quantization_config` from the model will be used.However, loading attributes (e.g. ['backend', 'max_input_length']) will be overwritten with the one you passed to `from_pretrained`. The rest will be ignored.}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, group_size = 64 : i64}}} {
  func.func @gptq(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}

//--- fp8.mlir
module attributes {hfq.model_config = {model_type = "deepseek_v3", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "fp8", activation_scheme = "dynamic",
                           weight_block_size = [128 : i64, 128 : i64]}}} {
  func.func @fp8(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}

//--- bnb.mlir
// expected-warning @+1 {{You passed `quantization_config` or equivalent parameters to `from_pretrained` but the model you're loading already has a `quantization_config` attribute. The `quantization_config` from the model will be used.}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_4bit = true,
                           bnb_4bit_quant_type = "nf4"}}} {
  func.func @bnb(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}

//--- ct.mlir
// expected-warning @+2 {{`run_compressed` is deprecated and will be removed in a future version. Use `dequantize=True` instead of `run_compressed=False`.}}
// expected-warning @+1 {{You passed `quantization_config` or equivalent parameters to `from_pretrained` but the model you're loading already has a `quantization_config` attribute. The `quantization_config` from the model will be used.However, loading attributes (e.g. ['dequantize', 'use_optimized_inference']) will be overwritten with the one you passed to `from_pretrained`. The rest will be ignored.}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "compressed-tensors", format = "pack-quantized",
                           quantization_status = "compressed", ignore = ["lm_head"],
                           config_groups = {group_0 = {targets = ["Linear"],
                             weights = {num_bits = 4 : i64, type = "int", symmetric = true,
                                        strategy = "group", group_size = 128 : i64}}}}}} {
  func.func @ct(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}

//--- unknown.mlir
// expected-warning @+1 {{Unknown quantization type, got foo - supported types are: ['awq', 'bitsandbytes_4bit', 'bitsandbytes_8bit', 'gptq', 'aqlm', 'quanto', 'quark', 'fouroversix', 'fp_quant', 'eetq', 'higgs', 'hqq', 'compressed-tensors', 'fbgemm_fp8', 'torchao', 'bitnet', 'vptq', 'spqr', 'fp8', 'gguf', 'nvfp4', 'mxfp8', 'auto-round', 'mxfp4', 'metal', 'sinq', 'gemma']. Hence, we will skip the quantization. To remove the warning, you can delete the quantization_config attribute in config.json}}
module attributes {hfq.model_config = {model_type = "gpt_oss", torch_dtype = "float16",
    quantization_config = {quant_method = "foo"}}} {
  func.func @unknown(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
