// HF microsoft/bitnet-b1.58-2B-4T (packed ternary weights) config.json
// quantization_config as documented by a vLLM BitNet config class
// docstring: offline mode; online is the -bf16 variant)
//
// autobitlinear + offline: packed ternary weights, weight [N/4, K] uint8
// and one weight_scale. Default skips keep lm_head.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// CHECK-LABEL: func.func @bitnet_b1_58_2b_4t_offline(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<32x128xui8>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.weight_scale" : tensor<1xbf16>
// CHECK-NEXT: hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #bitnet
// CHECK:      hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #bitnet
// CHECK-NEXT: hfq.linear "lm_head"
// REPORT:      "quant_method": "bitnet",
// REPORT-NEXT: "quantizer_class": "BitNetHfQuantizer",
// REPORT-NEXT: "config_class": "BitNetQuantConfig",
// REPORT-NEXT: "pre_quantized": true,
// REPORT-NEXT: "config": {
// REPORT-NEXT:   "quant_method": "bitnet",
// REPORT-NEXT:   "modules_to_not_convert": null,
// REPORT-NEXT:   "linear_class": "autobitlinear",
// REPORT-NEXT:   "quantization_mode": "offline",
// REPORT-NEXT:   "use_rms_norm": false,
// REPORT-NEXT:   "rms_norm_eps": 1e-06
// REPORT-NEXT: },
// REPORT-NEXT: "warnings": [],
module attributes {hfq.model_config = {model_type = "bitnet", torch_dtype = "bfloat16",
    quantization_config = {
      quant_method = "bitnet",
      linear_class = "autobitlinear",
      quantization_mode = "offline"
    }}} {
  func.func @bitnet_b1_58_2b_4t_offline(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
