// HF mistralai/Devstral-Small-2-24B-Instruct-2512 config.json
// quantization_config, 'config.json REEL verifie' in a test docstring; per-
// tensor FP8 (weight_block_size null), see also NVIDIA-NeMo/Automodel PR
// #2654
//
// Per-tensor FP8 (weight_block_size null) with static activations: one
// weight scale and one activation scale a layer. modules_to_not_convert is
// given (it includes lm_head).
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// CHECK-LABEL: func.func @fp8_devstral_small_2_24b_per_tensor(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf8E4M3FN>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight_scale_inv" : tensor<f32>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.activation_scale" : tensor<f32>
// CHECK-NEXT: hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #fp8
// CHECK:      hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #fp8
// CHECK-NEXT: hfq.linear "lm_head"
// REPORT:      "quant_method": "fp8",
// REPORT-NEXT: "quantizer_class": "FineGrainedFP8HfQuantizer",
// REPORT-NEXT: "config_class": "FineGrainedFP8Config",
// REPORT-NEXT: "pre_quantized": true,
// REPORT-NEXT: "config": {
// REPORT-NEXT:   "quant_method": "fp8",
// REPORT-NEXT:   "modules_to_not_convert": [
// REPORT-NEXT:     "model.vision_tower",
// REPORT-NEXT:     "model.multi_modal_projector",
// REPORT-NEXT:     "lm_head"
// REPORT-NEXT:   ],
// REPORT-NEXT:   "modules_to_convert": null,
// REPORT-NEXT:   "activation_scheme": "static",
// REPORT-NEXT:   "weight_block_size": null,
// REPORT-NEXT:   "dequantize": false,
// REPORT-NEXT:   "scale_fmt": "float"
// REPORT-NEXT: },
// REPORT-NEXT: "warnings": [],
module attributes {hfq.model_config = {model_type = "mistral3", torch_dtype = "bfloat16",
    quantization_config = {
      activation_scheme = "static",
      dequantize = false,
      modules_to_not_convert = ["model.vision_tower", "model.multi_modal_projector", "lm_head"],
      quant_method = "fp8",
      weight_block_size = #hfq.none
    }}} {
  func.func @fp8_devstral_small_2_24b_per_tensor(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
