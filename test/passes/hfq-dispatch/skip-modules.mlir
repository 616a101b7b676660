// Which linears a method leaves alone (get_modules_to_not_convert and v5
// should_convert_module, §2): a pattern skips a module when it matches at
// the start of the name as a regex (optionally followed by a dot) or is a
// suffix of it. The default keys — tied weights, the last parameter, the
// output embedding — are used only when the method's own list is None
// (AWQ: always), and _keep_in_fp32_modules is added for the methods that
// take it.
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch='device-map=cuda:0' | FileCheck %s

// bitsandbytes with llm_int8_skip_modules set: the list replaces the default
// keys, so lm_head is quantized. "q_proj" skips by suffix; "self_attn" would
// not (it neither starts the name nor ends it).
// CHECK-LABEL: func.func @bnb_skip_modules_replace_defaults(
// CHECK:         hfq.linear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.qlinear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_8bit = true,
                           llm_int8_skip_modules = ["q_proj", "self_attn"]}}} {
  func.func @bnb_skip_modules_replace_defaults(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
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

// A regex pattern, as in gpt-oss' "model.layers.*.self_attn": ".*" spans the
// layer index.
// CHECK-LABEL: func.func @fp8_regex_pattern(
// CHECK:         hfq.linear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.qlinear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "fp8", weight_block_size = #hfq.none,
                           modules_to_not_convert = ["model.layers.*.self_attn"]}}} {
  func.func @fp8_regex_pattern(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}

// -----

// _keep_in_fp32_modules joins the skip list (quanto, bnb, fp8, eetq, torchao,
// bitnet, AWQ take it).
// CHECK-LABEL: func.func @keep_in_fp32_modules(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.linear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.linear "lm_head"
module attributes {hfq.keep_in_fp32_modules = ["up_proj"],
                   hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_4bit = true}}} {
  func.func @keep_in_fp32_modules(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
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

// ...but not for compressed-tensors, whose only skip list is `ignore`.
// CHECK-LABEL: func.func @keep_in_fp32_not_for_compressed_tensors(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.linear "lm_head"
module attributes {hfq.keep_in_fp32_modules = ["up_proj"],
                   hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "compressed-tensors", format = "pack-quantized",
                           quantization_status = "compressed", ignore = ["lm_head"],
                           config_groups = {group_0 = {targets = ["Linear"],
                             weights = {num_bits = 4 : i64, type = "int", symmetric = true,
                                        strategy = "group", group_size = 128 : i64}}}}}} {
  func.func @keep_in_fp32_not_for_compressed_tensors(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}

// -----

// The default skip is the model's output embedding, whatever its name
// (GPT-NeoX calls it embed_out): hfq.output_embeddings names it.
// CHECK-LABEL: func.func @output_embedding_by_name(
// CHECK:         hfq.qlinear "gpt_neox.layers.0.mlp.dense_h_to_4h"
// CHECK:         hfq.linear "embed_out"
module attributes {hfq.output_embeddings = ["embed_out"],
                   hfq.model_config = {model_type = "gpt_neox", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_8bit = true}}} {
  func.func @output_embedding_by_name(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wu = hfq.weight "gpt_neox.layers.0.mlp.dense_h_to_4h.weight" : tensor<256x128xf16>
    %wl = hfq.weight "embed_out.weight" : tensor<64x256xf16>
    %u = hfq.linear "gpt_neox.layers.0.mlp.dense_h_to_4h" %x, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "embed_out" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}

// -----

// torchao's include_input_output_embeddings removes the embeddings' names
// from the finished skip list: lm_head is quantized too (Int8 weight-only,
// per row: _weight_qdata [64, 256], _weight_scale and _weight_zero_point
// [64, 1]).
// CHECK-LABEL: func.func @torchao_include_embeddings(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.weight "lm_head._weight_qdata" : tensor<64x256xi8>
// CHECK-NEXT:    hfq.weight "lm_head._weight_scale" : tensor<64x1xf32>
// CHECK-NEXT:    hfq.weight "lm_head._weight_zero_point" : tensor<64x1xi8>
// CHECK-NEXT:    hfq.qlinear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "torchao", include_input_output_embeddings = true,
                           quant_type = {default = {_type = "Int8WeightOnlyConfig", _version = 2 : i64,
                                                    _data = {group_size = #hfq.none}}}}}} {
  func.func @torchao_include_embeddings(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
