// On the fly, hfq.quantize records the same layout as the hfq.qlinear it
// feeds; a model that loads unquantized still has its decision recorded.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='quantization-config={"quant_method":"quanto","weights":"int8"} device-map=cuda:0' | FileCheck %s
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch | FileCheck %s --check-prefix=NONE

// CHECK:       #layout = #hfq.layout<(weight._data: tensor<128x128xi8>, weight._scale: tensor<128x1xf16>, input_scale: tensor<f16>, output_scale: tensor<f16>), args(weights = 0.0, bits = 8.0, group_size = 0.0)>
// CHECK:       module attributes {hfq.dispatch = #hfq.json<{"quant_method": "quanto", {{.*}}"pre_quantized": false,
// CHECK-LABEL: func.func @float_model(
// CHECK:         hfq.quantize "model.layers.0.self_attn.q_proj" {{.*}} -> (tensor<128x128xi8>, tensor<128x1xf16>, tensor<f16>, tensor<f16>) layout #layout
// CHECK-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} layout #layout
// CHECK-NEXT:    hfq.linear "lm_head"

// NONE:        module attributes {hfq.dispatch = #hfq.json<{"quant_method": null, "quantizer_class": null, "config_class": null, "pre_quantized": false, "config": null, {{.*}}"modules": []}>
// NONE:        hfq.linear "model.layers.0.self_attn.q_proj"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16"}} {
  func.func @float_model(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x128xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %l = hfq.linear "lm_head" %q, %wl : tensor<1x128xf16>, tensor<64x128xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
