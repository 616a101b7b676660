// Transformers-serialized AwqConfig as pinned by a Qwen3 AWQ loader test
// (llmserve fixture,; same keys written by an exporter) -- FIXTURE
// mirroring the shape transformers 4.x save_pretrained writes
//
// The legacy backend "autoawq" is read as "auto"; do_fuse (an AutoAWQ
// fusing flag) is dropped. to_dict() adds version = format.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT
// RUN: FileCheck %s --input-file=%t.json --check-prefix=DROPPED

// CHECK-LABEL: func.func @awq_qwen3_fixture_autoawq_backend(
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
// DROPPED-NOT: "do_fuse"
// DROPPED-NOT: "autoawq"
module attributes {hfq.model_config = {model_type = "qwen3", torch_dtype = "float16",
    quantization_config = {
      quant_method = "awq",
      backend = "autoawq",
      bits = 4 : i64,
      group_size = 128 : i64,
      version = "gemm",
      zero_point = true,
      do_fuse = false
    }}} {
  func.func @awq_qwen3_fixture_autoawq_backend(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
