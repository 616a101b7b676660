// BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_use_double_quant=True,
// bnb_4bit_compute_dtype=bfloat16) repr as printed in a public notebook
// (GitHub file,; shows the fp4 default quant_type when nf4 is not requested
// -- same dict that save_pretrained writes
//
// load_in_4bit selects Bnb4BitHfQuantizer. BitsAndBytesConfig takes the
// public flags; the private _load_in_4bit/_load_in_8bit copies and
// quant_method are unused kwargs. to_dict() writes __dict__ (both private
// flags, the dtypes as bare names) plus the public
// load_in_4bit/load_in_8bit properties, so both spellings come back.
// llm_int8_skip_modules None: default skips, lm_head stays.
// bnb_4bit_quant_type is the fp4 default; the layout is the same as NF4's.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// CHECK-LABEL: func.func @bnb_fp4_double_quant_notebook(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<8192x1xui8>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight.absmax" : tensor<256xui8>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight.quant_map" : tensor<16xf32>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight.nested_absmax" : tensor<1xf32>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight.nested_quant_map" : tensor<256xf32>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight.nested_offset" : tensor<f32>
// CHECK-NEXT: hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #bitsandbytes_4bit
// CHECK:      hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #bitsandbytes_4bit
// CHECK-NEXT: hfq.linear "lm_head"
// REPORT:      "quant_method": "bitsandbytes_4bit",
// REPORT-NEXT: "quantizer_class": "Bnb4BitHfQuantizer",
// REPORT-NEXT: "config_class": "BitsAndBytesConfig",
// REPORT-NEXT: "pre_quantized": true,
// REPORT-NEXT: "config": {
// REPORT-NEXT:   "quant_method": "bitsandbytes",
// REPORT-NEXT:   "_load_in_8bit": false,
// REPORT-NEXT:   "_load_in_4bit": true,
// REPORT-NEXT:   "llm_int8_threshold": 6.0,
// REPORT-NEXT:   "llm_int8_skip_modules": null,
// REPORT-NEXT:   "llm_int8_enable_fp32_cpu_offload": false,
// REPORT-NEXT:   "llm_int8_has_fp16_weight": false,
// REPORT-NEXT:   "bnb_4bit_quant_type": "fp4",
// REPORT-NEXT:   "bnb_4bit_use_double_quant": true,
// REPORT-NEXT:   "bnb_4bit_compute_dtype": "bfloat16",
// REPORT-NEXT:   "bnb_4bit_quant_storage": "uint8",
// REPORT-NEXT:   "load_in_4bit": true,
// REPORT-NEXT:   "load_in_8bit": false
// REPORT-NEXT: },
// REPORT-NEXT: "warnings": [],
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {
      _load_in_4bit = true,
      _load_in_8bit = false,
      bnb_4bit_compute_dtype = "bfloat16",
      bnb_4bit_quant_storage = "uint8",
      bnb_4bit_quant_type = "fp4",
      bnb_4bit_use_double_quant = true,
      llm_int8_enable_fp32_cpu_offload = false,
      llm_int8_has_fp16_weight = false,
      llm_int8_skip_modules = #hfq.none,
      llm_int8_threshold = 6.0 : f64,
      load_in_4bit = true,
      load_in_8bit = false,
      quant_method = "bitsandbytes"
    }}} {
  func.func @bnb_fp4_double_quant_notebook(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
