// HF openai/gpt-oss-20b config.json quantization_config, verbatim (quoted
// with blob link,
//
// mxfp4 is a transformers 5.17 method (Mxfp4HfQuantizer, specs/mxfp4.json):
// the attention and lm_head match modules_to_not_convert and stay dense; the
// MLP projection reads the MXFP4 blocks/scales pair (transformers converts only
// GptOssExperts; hfq's layout is that of one expert projection).
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// CHECK-LABEL: func.func @mxfp4_gpt_oss_20b(
// CHECK:         hfq.linear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.weight "model.layers.0.mlp.up_proj.blocks" : tensor<256x4x16xui8>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.scales" : tensor<256x4xui8>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} packed({{.*}}) method #mxfp4
// CHECK-NEXT:    hfq.linear "lm_head"
// REPORT:      "quant_method": "mxfp4",
// REPORT:      "pre_quantized": true,
module attributes {hfq.model_config = {model_type = "gpt_oss", torch_dtype = "bfloat16",
    quantization_config = {
      modules_to_not_convert = ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"],
      quant_method = "mxfp4"
    }}} {
  func.func @mxfp4_gpt_oss_20b(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
