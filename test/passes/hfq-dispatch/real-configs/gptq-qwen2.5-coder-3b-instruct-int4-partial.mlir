// HF Qwen/Qwen2.5-Coder-3B-Instruct-GPTQ-Int4 config.json
// quantization_config -- PARTIAL: only the fields the quoting note lists as
// identical to the 1.5B sibling
//
// GPTQConfig keeps its own fields only: the legacy hub keys (use_exllama,
// exllama_config, use_cuda_fp16) are dropped, backend None becomes "auto",
// and to_dict() adds checkpoint_format = format. The file names no block,
// so optimum converts the linears under "model.layers" and leaves lm_head.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT
// RUN: FileCheck %s --input-file=%t.json --check-prefix=DROPPED

// CHECK-LABEL: func.func @gptq_qwen2_5_coder_3b_instruct_int4_partial(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj.qweight" : tensor<16x128xi32>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.qzeros" : tensor<1x16xi32>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.scales" : tensor<1x128xf16>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj.g_idx" : tensor<128xi32>
// CHECK-NEXT: hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #gptq
// CHECK:      hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #gptq
// CHECK-NEXT: hfq.linear "lm_head"
// REPORT:      "quant_method": "gptq",
// REPORT-NEXT: "quantizer_class": "GptqHfQuantizer",
// REPORT-NEXT: "config_class": "GPTQConfig",
// REPORT-NEXT: "pre_quantized": true,
// REPORT-NEXT: "config": {
// REPORT-NEXT:   "quant_method": "gptq",
// REPORT-NEXT:   "bits": 4,
// REPORT:        "group_size": 128,
// REPORT-NEXT:   "damp_percent": 0.01,
// REPORT-NEXT:   "desc_act": false,
// REPORT-NEXT:   "act_group_aware": true,
// REPORT:        "format": "gptq",
// REPORT:        "backend": "auto",
// REPORT:        "checkpoint_format": "gptq"
// REPORT-NEXT: },
// REPORT:      "warnings": [],
// DROPPED-NOT: "use_exllama"
// DROPPED-NOT: "exllama_config"
// DROPPED-NOT: "use_cuda_fp16"
// DROPPED-NOT: "model_name_or_path"
// DROPPED-NOT: "model_file_base_name"
// DROPPED-NOT: "static_groups"
module attributes {hfq.model_config = {model_type = "qwen2", torch_dtype = "float16",
    quantization_config = {
      bits = 4 : i64,
      group_size = 128 : i64,
      desc_act = false,
      sym = true,
      quant_method = "gptq",
      use_exllama = true,
      exllama_config = {
        version = 1 : i64
      },
      damp_percent = 0.01 : f64,
      true_sequential = true,
      use_cuda_fp16 = false
    }}} {
  func.func @gptq_qwen2_5_coder_3b_instruct_int4_partial(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
