// MXFP8 checkpoints: transformers 5.17 serves the mxfp8 key with fp8's
// classes (FineGrainedFP8Config, FineGrainedFP8HfQuantizer), so each linear
// becomes an FP8Linear over the e4m3 weight and its scales -- here one e8m0
// byte (ui8) per [1, 32] block. modules_to_not_convert keeps lm_head dense.
// The config keeps the dict's quant_method, "mxfp8".
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch='target=sm_90 device-map=cuda:0 report=%t.json' | FileCheck %s
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT
// Without a GPU transformers dequantizes (and says so): the CPU reference.
// RUN: not hfq-opt %s -split-input-file --hfq-dispatch='target=cpu' --hfq-select-kernel='target=cpu' 2>%t.err | FileCheck %s --check-prefix=CPU
// RUN: FileCheck %s --input-file=%t.err --check-prefix=CPU-ERR

// CHECK:       #mxfp8 = #hfq.method<"mxfp8", {
// CHECK-SAME:    dequantize = false
// CHECK-SAME:    quant_method = "mxfp8"
// CHECK-SAME:    scale_fmt = "ue8m0"
// CHECK-SAME:    weight_block_size = [1, 32]
// CHECK-LABEL: func.func @mxfp8_block_1x32(
// CHECK:         %[[W:.*]] = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf8E4M3FN>
// CHECK-NEXT:    %[[S:.*]] = hfq.weight "model.layers.0.mlp.up_proj.weight_scale_inv" : tensor<256x4xui8>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.mlp.up_proj" %{{.*}}, packed(%[[W]], %[[S]]) method #mxfp8
// CHECK-NEXT:    hfq.linear "lm_head"
// REPORT:      "quant_method": "mxfp8",
// REPORT:      "pre_quantized": true,
// CPU-ERR:     warning: Using FP8 quantized models requires a GPU or XPU, we will default to dequantizing the model to bf16 since no GPU or XPU is available
// CPU:         #hfq.method<"mxfp8", {{.*}}dequantize = true
// CPU-LABEL:   func.func @mxfp8_block_1x32(
// CPU:         hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}}kernel = "hfq_ref_mxfp8"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "mxfp8", activation_scheme = "dynamic",
                           weight_block_size = [1 : i64, 32 : i64], scale_fmt = "ue8m0",
                           modules_to_not_convert = ["lm_head"]}}} {
  func.func @mxfp8_block_1x32(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %x, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}

// -----

// A weight the [1, 32] blocks do not tile (K = 48): transformers'
// Fp8Dequantize would derive another block from the scale grid; hfq refuses.
// CPU-ERR: error: 'hfq.linear' op cannot be quantized with 'mxfp8': [N, K] ([64, 48]) must be multiples of weight_block_size ([1, 32]): one e8m0 scale per block
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "mxfp8", weight_block_size = [1 : i64, 32 : i64],
                           scale_fmt = "ue8m0", modules_to_not_convert = ["lm_head"]}}} {
  func.func @mxfp8_k_not_tiled(%x: tensor<1x48xbf16>) -> tensor<1x64xbf16> {
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<64x48xbf16>
    // expected-error @+1 {{cannot be quantized with 'mxfp8': [N, K] ([64, 48]) must be multiples of weight_block_size ([1, 32]): one e8m0 scale per block}}
    %u = hfq.linear "model.layers.0.mlp.up_proj" %x, %wu : tensor<1x48xbf16>, tensor<64x48xbf16> -> tensor<1x64xbf16>
    return %u : tensor<1x64xbf16>
  }
}
