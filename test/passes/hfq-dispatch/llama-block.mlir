// The acceptance case: examples/llama-block.mlir is a Llama decoder block
// whose config.json carries a GPTQ 4-bit (group 32) quantization_config, so
// transformers treats it as pre-quantized (§1.7 step 1), builds GPTQConfig
// from the dict and lets optimum's convert_model replace the linears inside
// the transformer blocks ("model.layers", the first of optimum's block
// patterns that names a module). The seven projections become GPTQ
// QuantLinears over qweight/qzeros/scales/g_idx; lm_head lies outside the
// blocks and stays a float linear.
//
// RUN: hfq-opt %hfq_src_root/examples/llama-block.mlir -verify-diagnostics --hfq-dispatch='target=sm_90 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// Group 32 over K = 64 (attention, gate/up) or K = 128 (down): G = K / 32;
// 4-bit codes, 8 per int32: qweight [K/8, N], qzeros [G, N/8], scales
// [G, N] f16, g_idx [K] i32.
// CHECK:       #gptq = #hfq.method<"gptq", {
// CHECK-SAME:    bits = 4 : i64
// CHECK-SAME:    format = "gptq"
// CHECK-SAME:    group_size = 32 : i64
// CHECK-LABEL: func.func @llama_block(
// CHECK-SAME:    %[[X:.*]]: tensor<1x64xf16>
// The float projection weights are no longer bound; lm_head's is.
// CHECK-NOT:     hfq.weight "model.layers.0.{{.*}}.weight"
// CHECK:         %[[WL:.*]] = hfq.weight "lm_head.weight" : tensor<256x64xf16>
// CHECK-NOT:     hfq.weight "model.layers.0.{{.*}}.weight"
// CHECK:         %[[QW:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.qweight" : tensor<8x64xi32>
// CHECK-NEXT:    %[[QZ:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.qzeros" : tensor<2x8xi32>
// CHECK-NEXT:    %[[QS:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.scales" : tensor<2x64xf16>
// CHECK-NEXT:    %[[QG:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.g_idx" : tensor<64xi32>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj" %[[X]], packed(%[[QW]], %[[QZ]], %[[QS]], %[[QG]]) method #gptq : tensor<1x64xf16>, (tensor<8x64xi32>, tensor<2x8xi32>, tensor<2x64xf16>, tensor<64xi32>) -> tensor<1x64xf16>
// CHECK:         hfq.qlinear "model.layers.0.self_attn.k_proj" %[[X]], packed({{.*}}) method #gptq : tensor<1x64xf16>, (tensor<8x64xi32>, tensor<2x8xi32>, tensor<2x64xf16>, tensor<64xi32>) -> tensor<1x64xf16>
// CHECK:         %[[V:.*]] = hfq.qlinear "model.layers.0.self_attn.v_proj" %[[X]], packed({{.*}}) method #gptq
// CHECK:         hfq.qlinear "model.layers.0.self_attn.o_proj" %[[V]], packed({{.*}}) method #gptq
// CHECK:         hfq.weight "model.layers.0.mlp.gate_proj.qweight" : tensor<8x128xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.gate_proj.qzeros" : tensor<2x16xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.gate_proj.scales" : tensor<2x128xf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.gate_proj.g_idx" : tensor<64xi32>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.mlp.gate_proj"
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.weight "model.layers.0.mlp.down_proj.qweight" : tensor<16x64xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.down_proj.qzeros" : tensor<4x8xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.down_proj.scales" : tensor<4x64xf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.down_proj.g_idx" : tensor<128xi32>
// CHECK-NEXT:    %[[D:.*]] = hfq.qlinear "model.layers.0.mlp.down_proj" {{.*}} -> tensor<1x64xf16>
// CHECK:         %[[H:.*]] = arith.addf %{{.*}}, %[[D]]
// CHECK-NEXT:    %[[L:.*]] = hfq.linear "lm_head" %[[H]], %[[WL]] : tensor<1x64xf16>, tensor<256x64xf16> -> tensor<1x256xf16>
// CHECK-NEXT:    return %[[L]]

// GPTQ's update_device_map puts an unset map on the CPU; the checkpoint's
// torch_dtype float16 is kept (GPTQ's update_dtype only suggests float16),
// so there is no message at all.
// REPORT:      "quant_method": "gptq",
// REPORT-NEXT: "quantizer_class": "GptqHfQuantizer",
// REPORT-NEXT: "config_class": "GPTQConfig",
// REPORT-NEXT: "pre_quantized": true,
// REPORT:      "checkpoint_format": "gptq"
// REPORT:      "warnings": [],
// merge_quantization_configs' logger.info("") (5.17 quantizers/auto.py:282).
// REPORT-NEXT: "infos": [
// REPORT-NEXT:   ""
// REPORT-NEXT: ],
// REPORT-NEXT: "error": null,
// REPORT-NEXT: "dtype": "float16",
// REPORT-NEXT: "device_map": {
// REPORT-NEXT:   "": "cpu"
// REPORT-NEXT: },
// Exactly seven modules quantized, then lm_head skipped, and nothing else.
// REPORT-COUNT-7: "action": "quantized",
// REPORT-NOT:  "action"
// REPORT:      "name": "lm_head",
// REPORT-NEXT: "action": "skipped",
// REPORT-NOT:  "action"
