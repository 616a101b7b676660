// HF TheBloke/zephyr-7B-alpha-AWQ config.json quantization_config, as shown
// in huggingface/transformers docs/source/en/quantization/awq.md
//
// AwqConfig reads the legacy key version into format; to_dict() is
// GPTQConfig's dict without checkpoint_format, plus version = format. AWQ
// always adds the default skips: lm_head stays.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT
// RUN: FileCheck %s --input-file=%t.json --check-prefix=DROPPED

// CHECK-LABEL: func.func @awq_thebloke_zephyr_7b_alpha(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj.qweight" : tensor<128x16xi32>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.qzeros" : tensor<1x16xi32>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.scales" : tensor<1x128xf16>
// CHECK-NEXT: hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #awq
// CHECK:      hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #awq
// CHECK-NEXT: hfq.linear "lm_head"
// REPORT:      "quant_method": "awq",
// REPORT-NEXT: "quantizer_class": "AwqQuantizer",
// REPORT-NEXT: "config_class": "AwqConfig",
// REPORT-NEXT: "pre_quantized": true,
// REPORT-NEXT: "config": {
// REPORT-NEXT:   "zero_point": true,
// REPORT-NEXT:   "modules_to_not_convert": null,
// REPORT-NEXT:   "quant_method": "awq",
// REPORT-NEXT:   "bits": 4,
// REPORT:        "group_size": 128,
// REPORT:        "format": "gemm",
// REPORT:        "backend": "auto",
// REPORT:        "version": "gemm"
// REPORT-NEXT: },
// REPORT-NEXT: "warnings": [],
// DROPPED-NOT: "checkpoint_format"
module attributes {hfq.model_config = {model_type = "mistral", torch_dtype = "float16",
    quantization_config = {
      quant_method = "awq",
      zero_point = true,
      group_size = 128 : i64,
      bits = 4 : i64,
      version = "gemm"
    }}} {
  func.func @awq_thebloke_zephyr_7b_alpha(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
