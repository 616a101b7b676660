// On-the-fly quantization: the checkpoint has no quantization_config, so the
// user's config is used as is (get_hf_quantizer §1.7 step 3) and each
// converted linear quantizes its float weight (hfq.quantize) into the
// method's layout. modules_to_not_convert None means the default skips:
// lm_head stays in float.
//
// quanto int8 (weights only): WeightQBytesTensor _data int8 [N, K] with one
// scale per output row, plus the QLinear's scalar input/output scales, all
// in the model dtype.
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='quantization-config={"quant_method":"quanto","weights":"int8"} device-map=cuda:0 report=%t.quanto.json' | FileCheck %s --check-prefix=QUANTO
// RUN: FileCheck %s --input-file=%t.quanto.json --check-prefix=QUANTO-REPORT
// QUANTO:       #quanto = #hfq.method<"quanto", {activations = #hfq.none, {{.*}}weights = "int8"}>
// QUANTO-LABEL: func.func @float_model(
// QUANTO-SAME:    %[[X:.*]]: tensor<1x128xf16>
// QUANTO:         %[[WQ:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
// QUANTO-NEXT:    %[[WU:.*]] = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
// QUANTO-NEXT:    %[[WL:.*]] = hfq.weight "lm_head.weight" : tensor<64x256xf16>
// QUANTO-NEXT:    %[[P:.*]]:4 = hfq.quantize "model.layers.0.self_attn.q_proj" %[[WQ]] method #quanto : tensor<128x128xf16> -> (tensor<128x128xi8>, tensor<128x1xf16>, tensor<f16>, tensor<f16>)
// QUANTO-NEXT:    %[[Q:.*]] = hfq.qlinear "model.layers.0.self_attn.q_proj" %[[X]], packed(%[[P]]#0, %[[P]]#1, %[[P]]#2, %[[P]]#3) method #quanto : tensor<1x128xf16>, (tensor<128x128xi8>, tensor<128x1xf16>, tensor<f16>, tensor<f16>) -> tensor<1x128xf16>
// QUANTO-NEXT:    %[[PU:.*]]:4 = hfq.quantize "model.layers.0.mlp.up_proj" %[[WU]] method #quanto : tensor<256x128xf16> -> (tensor<256x128xi8>, tensor<256x1xf16>, tensor<f16>, tensor<f16>)
// QUANTO-NEXT:    %[[U:.*]] = hfq.qlinear "model.layers.0.mlp.up_proj" %[[Q]], packed(%[[PU]]#0, %[[PU]]#1, %[[PU]]#2, %[[PU]]#3) method #quanto
// QUANTO-NEXT:    hfq.linear "lm_head" %[[U]], %[[WL]]
// QUANTO-REPORT:      "quant_method": "quanto",
// QUANTO-REPORT-NEXT: "quantizer_class": "QuantoHfQuantizer",
// QUANTO-REPORT-NEXT: "config_class": "QuantoConfig",
// QUANTO-REPORT-NEXT: "pre_quantized": false,
// QUANTO-REPORT-NEXT: "config": {
// QUANTO-REPORT-NEXT:   "quant_method": "quanto",
// QUANTO-REPORT-NEXT:   "weights": "int8",
// QUANTO-REPORT-NEXT:   "activations": null,
// QUANTO-REPORT-NEXT:   "modules_to_not_convert": null
// QUANTO-REPORT-NEXT: },
// QUANTO-REPORT-NEXT: "warnings": [],

// EETQ int8 (needs a GPU): weight int8 [K, N] (transposed, preprocessed for
// the FasterTransformer kernel) and weight_scales [N] f16.
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='quantization-config={"quant_method":"eetq"} device-map={"":0}' | FileCheck %s --check-prefix=EETQ
// EETQ:       #eetq = #hfq.method<"eetq", {modules_to_not_convert = #hfq.none, quant_method = "eetq", weights = "int8"}>
// EETQ-LABEL: func.func @float_model(
// EETQ:         %[[P:.*]]:2 = hfq.quantize "model.layers.0.self_attn.q_proj" %{{.*}} method #eetq : tensor<128x128xf16> -> (tensor<128x128xi8>, tensor<128xf16>)
// EETQ-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj" %{{.*}}, packed(%[[P]]#0, %[[P]]#1) method #eetq
// EETQ-NEXT:    %[[PU:.*]]:2 = hfq.quantize "model.layers.0.mlp.up_proj" %{{.*}} method #eetq : tensor<256x128xf16> -> (tensor<128x256xi8>, tensor<256xf16>)
// EETQ-NEXT:    hfq.qlinear "model.layers.0.mlp.up_proj" %{{.*}}, packed(%[[PU]]#0, %[[PU]]#1) method #eetq
// EETQ-NEXT:    hfq.linear "lm_head"

// HQQ 4-bit, group 64, axis 1 (HqqConfig as to_dict writes it; from_dict
// requires quant_config and skip_modules). Its skip list is skip_modules,
// ["lm_head"] by default. W [N, K] is grouped into R = N*K/64 rows of 64,
// W_q packs two 4-bit rows a byte: [R/2, 64] uint8; scale and zero [R, 1].
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='quantization-config=@%S/Inputs/hqq-4bit-g64.json device-map={"":0}' | FileCheck %s --check-prefix=HQQ
// HQQ:       #hqq = #hfq.method<"hqq", {
// HQQ-SAME:    skip_modules = ["lm_head"]
// HQQ-LABEL: func.func @float_model(
// HQQ:         %[[P:.*]]:3 = hfq.quantize "model.layers.0.self_attn.q_proj" %{{.*}} method #hqq : tensor<128x128xf16> -> (tensor<128x64xui8>, tensor<256x1xf16>, tensor<256x1xf16>)
// HQQ-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj" %{{.*}}, packed(%[[P]]#0, %[[P]]#1, %[[P]]#2) method #hqq
// HQQ-NEXT:    %[[PU:.*]]:3 = hfq.quantize "model.layers.0.mlp.up_proj" %{{.*}} method #hqq : tensor<256x128xf16> -> (tensor<256x64xui8>, tensor<512x1xf16>, tensor<512x1xf16>)
// HQQ-NEXT:    hfq.qlinear "model.layers.0.mlp.up_proj"
// HQQ-NEXT:    hfq.linear "lm_head"

// torchao Int4WeightOnlyConfig (version 2, plain packing, group 64):
// _weight_qdata [N, K/2] (two int4 a byte), _weight_scale and
// _weight_zero_point [K/64, N] bf16.
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='quantization-config=@%S/Inputs/torchao-int4-g64.json device-map={"":0}' | FileCheck %s --check-prefix=TORCHAO
// TORCHAO:       #torchao = #hfq.method<"torchao", {
// TORCHAO-SAME:    _type = "Int4WeightOnlyConfig"
// TORCHAO-LABEL: func.func @float_model(
// TORCHAO:         %[[P:.*]]:3 = hfq.quantize "model.layers.0.self_attn.q_proj" %{{.*}} method #torchao : tensor<128x128xf16> -> (tensor<128x64xi8>, tensor<2x128xbf16>, tensor<2x128xbf16>)
// TORCHAO-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj" %{{.*}}, packed(%[[P]]#0, %[[P]]#1, %[[P]]#2) method #torchao
// TORCHAO-NEXT:    %[[PU:.*]]:3 = hfq.quantize "model.layers.0.mlp.up_proj" %{{.*}} method #torchao : tensor<256x128xf16> -> (tensor<256x64xi8>, tensor<2x256xbf16>, tensor<2x256xbf16>)
// TORCHAO-NEXT:    hfq.qlinear "model.layers.0.mlp.up_proj"
// TORCHAO-NEXT:    hfq.linear "lm_head"

module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16"}} {
  func.func @float_model(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
