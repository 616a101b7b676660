// HF deepseek-ai DeepSeek-V4 (model_type deepseek_v4, 61 layers, 384 routed
// experts) config.json quantization_config, verbatim from a config dump;
// note scale_fmt ue8m0
//
// FineGrainedFP8Config drops the unknown key fmt and keeps 5.17's scale_fmt;
// 128x128 weight blocks, dynamic activations. Default skips: lm_head stays.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT
// RUN: FileCheck %s --input-file=%t.json --check-prefix=DROPPED

// CHECK-LABEL: func.func @fp8_deepseek_v4(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf8E4M3FN>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight_scale_inv" : tensor<1x1xf32>
// CHECK-NEXT: hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #fp8
// CHECK:      hfq.weight "model.layers.0.mlp.up_proj.weight_scale_inv" : tensor<2x1xf32>
// CHECK-NEXT: hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #fp8
// CHECK-NEXT: hfq.linear "lm_head"
// REPORT:      "quant_method": "fp8",
// REPORT-NEXT: "quantizer_class": "FineGrainedFP8HfQuantizer",
// REPORT-NEXT: "config_class": "FineGrainedFP8Config",
// REPORT-NEXT: "pre_quantized": true,
// REPORT-NEXT: "config": {
// REPORT-NEXT:   "quant_method": "fp8",
// REPORT-NEXT:   "modules_to_not_convert": null,
// REPORT-NEXT:   "modules_to_convert": null,
// REPORT-NEXT:   "activation_scheme": "dynamic",
// REPORT-NEXT:   "weight_block_size": [
// REPORT-NEXT:     128,
// REPORT-NEXT:     128
// REPORT-NEXT:   ],
// REPORT-NEXT:   "dequantize": false,
// REPORT-NEXT:   "scale_fmt": "ue8m0"
// REPORT-NEXT: },
// REPORT-NEXT: "warnings": [],
// DROPPED-NOT: "fmt"
module attributes {hfq.model_config = {model_type = "deepseek_v4", torch_dtype = "bfloat16",
    quantization_config = {
      activation_scheme = "dynamic",
      fmt = "e4m3",
      quant_method = "fp8",
      scale_fmt = "ue8m0",
      weight_block_size = [128 : i64, 128 : i64]
    }}} {
  func.func @fp8_deepseek_v4(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
