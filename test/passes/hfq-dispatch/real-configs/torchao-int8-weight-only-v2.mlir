// torchao-serialized TorchAoConfig (Int8WeightOnlyConfig, _version 2) as
// used by an sglang multimodal test fixture mirroring hub checkpoints --
// FIXTURE, not a specific hub model
//
// TorchAoConfig.from_dict decodes quant_type["default"] (torchao's
// _type/_version/_data encoding) and to_dict() encodes it back under
// "default". Int8WeightOnlyConfig, per-row, saved as torchao 0.18's
// flatten_tensor_state_dict names the Int8Tensor's data: _weight_qdata int8
// [N, K], _weight_scale f32 [N, 1], _weight_zero_point int8 [N, 1]. Default
// skips keep lm_head.
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// CHECK-LABEL: func.func @torchao_int8_weight_only_v2(
// CHECK:      hfq.weight "model.layers.0.self_attn.q_proj._weight_qdata" : tensor<128x128xi8>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj._weight_scale" : tensor<128x1xf32>
// CHECK-NEXT: hfq.weight "model.layers.0.self_attn.q_proj._weight_zero_point" : tensor<128x1xi8>
// CHECK-NEXT: hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #torchao
// CHECK:      hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #torchao
// CHECK-NEXT: hfq.linear "lm_head"
// REPORT:      "quant_method": "torchao",
// REPORT-NEXT: "quantizer_class": "TorchAoHfQuantizer",
// REPORT-NEXT: "config_class": "TorchAoConfig",
// REPORT-NEXT: "pre_quantized": true,
// REPORT-NEXT: "config": {
// REPORT-NEXT:   "quant_method": "torchao",
// REPORT-NEXT:   "quant_type": {
// REPORT-NEXT:     "default": {
// REPORT:              "_type": "Int8WeightOnlyConfig",
// REPORT:        "modules_to_not_convert": null,
// REPORT-NEXT:   "include_input_output_embeddings": false,
// REPORT-NEXT:   "untie_embedding_weights": false
// REPORT-NEXT: },
// REPORT-NEXT: "warnings": [],
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {
      quant_method = "torchao",
      quant_type = {
        default = {
          _type = "Int8WeightOnlyConfig",
          _version = 2 : i64,
          _data = {
            granularity = {
              _type = "PerRow",
              _version = 1 : i64,
              _data = {
                dim = -1 : i64
              }
            },
            group_size = #hfq.none,
            set_inductor_config = true
          }
        }
      }
    }}} {
  func.func @torchao_int8_weight_only_v2(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
