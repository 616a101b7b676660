// What --hfq-dispatch leaves in the IR for the passes after it: each
// rewritten op records its layout, resolved once here (tensor names and
// types, kernel arguments in order), and the module records the decision
// as `hfq.dispatch`: the report without kernels, to_dict() in its order.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0' | FileCheck %s

// CHECK:       #layout = #hfq.layout<(qweight: tensor<16x128xi32>, qzeros: tensor<2x16xi32>, scales: tensor<2x128xf16>, g_idx: tensor<128xi32>), args(bits = 4.0, group_size = 64.0, zero_stored_minus_one = 1.0)>
// CHECK:       module attributes {hfq.dispatch = #hfq.json<{"quant_method": "gptq", "quantizer_class": "GptqHfQuantizer", "config_class": "GPTQConfig", "pre_quantized": true, "config": {"quant_method": "gptq", "bits": 4,
// CHECK-SAME:    "target": "sm_90", "modules": [{"name": "model.layers.0.self_attn.q_proj", "action": "quantized", "rule": "pre-quantized checkpoint tensors", "method": "gptq"}, {"name": "lm_head", "action": "skipped", "rule": "outside the quantized blocks (block_name_to_quantize = 'model.layers')", "method": null}]}>
// CHECK-LABEL: func.func @gptq(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} -> tensor<1x128xf16> layout #layout
// CHECK:         hfq.linear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, group_size = 64 : i64}}} {
  func.func @gptq(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x128xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %l = hfq.linear "lm_head" %q, %wl : tensor<1x128xf16>, tensor<64x128xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
