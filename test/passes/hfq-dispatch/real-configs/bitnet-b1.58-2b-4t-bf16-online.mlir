// HF microsoft/bitnet-b1.58-2B-4T-bf16 config.json quantization_config,
// verbatim (full config dump,; same block quoted in 65879492193 and
// unslothai/unsloth#2390 test 70227086749)
//
// autobitlinear + online: bf16 master weights ternarized in forward, so
// each layer keeps its plain [N, K] weight. Defaults fill the other fields;
// default skips keep lm_head.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// CHECK-LABEL: func.func @bitnet_b1_58_2b_4t_bf16_online(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
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
// REPORT-NEXT:   "quantization_mode": "online",
// REPORT-NEXT:   "use_rms_norm": false,
// REPORT-NEXT:   "rms_norm_eps": 1e-06
// REPORT-NEXT: },
// REPORT-NEXT: "warnings": [],
module attributes {hfq.model_config = {model_type = "bitnet", torch_dtype = "bfloat16",
    quantization_config = {
      quant_method = "bitnet",
      linear_class = "autobitlinear",
      quantization_mode = "online"
    }}} {
  func.func @bitnet_b1_58_2b_4t_bf16_online(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
