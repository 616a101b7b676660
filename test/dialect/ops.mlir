// Round trip of the hfq ops, in the custom and in the generic form. Every
// hfq.qlinear / hfq.quantize below passes the verifier, so its packed
// tensors are exactly the ones its method's spec (specs/<method>.json)
// lays out for the config and the layer's N and K; each case says how.

// Method attributes print as aliases (#gptq = ...) by default; the checks
// below read them inline (--mlir-print-local-scope).
// RUN: hfq-opt %s | FileCheck %s --check-prefix=ALIAS
// ALIAS: #gptq = #hfq.method<"gptq", {bits = 4 : i64, desc_act = false, group_size = 32 : i64, sym = true}>
// ALIAS: hfq.qlinear "model.layers.0.mlp.up_proj" %{{.*}} method #gptq :
// RUN: hfq-opt %s | hfq-opt --mlir-print-local-scope | FileCheck %s
// RUN: hfq-opt %s --mlir-print-op-generic | hfq-opt --mlir-print-local-scope | FileCheck %s
// RUN: hfq-opt %s --mlir-print-op-generic --mlir-print-local-scope | FileCheck %s --check-prefix=GENERIC

//===----------------------------------------------------------------------===//
// hfq.weight
//===----------------------------------------------------------------------===//

// A checkpoint tensor by its state-dict name, of any element type and rank.
// CHECK-LABEL: func.func @weight(
// CHECK:         %[[QW:.*]] = hfq.weight "model.layers.0.mlp.up_proj.qweight" : tensor<8x128xi32>
// CHECK:         %[[S:.*]] = hfq.weight "model.layers.0.mlp.up_proj.weight_scale_inv" : tensor<f32>
// CHECK:         return %[[QW]], %[[S]]
// GENERIC-LABEL: sym_name = "weight"
// GENERIC:         "hfq.weight"() <{name = "model.layers.0.mlp.up_proj.qweight"}> : () -> tensor<8x128xi32>
func.func @weight() -> (tensor<8x128xi32>, tensor<f32>) {
  %qw = hfq.weight "model.layers.0.mlp.up_proj.qweight" : tensor<8x128xi32>
  %s = hfq.weight "model.layers.0.mlp.up_proj.weight_scale_inv" : tensor<f32>
  return %qw, %s : tensor<8x128xi32>, tensor<f32>
}

//===----------------------------------------------------------------------===//
// hfq.linear
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @linear(
// CHECK-SAME:    %[[X:.*]]: tensor<4x64xf32>, %[[W:.*]]: tensor<128x64xf32>
// CHECK:         %[[Y:.*]] = hfq.linear "model.layers.0.mlp.up_proj" %[[X]], %[[W]] : tensor<4x64xf32>, tensor<128x64xf32> -> tensor<4x128xf32>
// CHECK:         return %[[Y]]
// GENERIC-LABEL: sym_name = "linear"
// GENERIC:         "hfq.linear"(%{{.*}}, %{{.*}}) <{name = "model.layers.0.mlp.up_proj"}> : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
func.func @linear(%x: tensor<4x64xf32>, %w: tensor<128x64xf32>) -> tensor<4x128xf32> {
  %y = hfq.linear "model.layers.0.mlp.up_proj" %x, %w
      : tensor<4x64xf32>, tensor<128x64xf32> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// With a bias [N].
// CHECK-LABEL: func.func @linear_bias(
// CHECK-SAME:    %[[X:.*]]: tensor<4x64xf16>, %[[W:.*]]: tensor<128x64xf16>, %[[B:.*]]: tensor<128xf16>
// CHECK:         hfq.linear "model.layers.0.self_attn.q_proj" %[[X]], %[[W]], bias %[[B]] : tensor<4x64xf16>, tensor<128x64xf16>, tensor<128xf16> -> tensor<4x128xf16>
func.func @linear_bias(%x: tensor<4x64xf16>, %w: tensor<128x64xf16>, %b: tensor<128xf16>) -> tensor<4x128xf16> {
  %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w, bias %b
      : tensor<4x64xf16>, tensor<128x64xf16>, tensor<128xf16> -> tensor<4x128xf16>
  return %y : tensor<4x128xf16>
}

// Rank-3 activations [batch, seq, K], and a dynamic batch.
// CHECK-LABEL: func.func @linear_rank3(
// CHECK:         hfq.linear "lm_head" %{{.*}}, %{{.*}} : tensor<2x8x64xbf16>, tensor<256x64xbf16> -> tensor<2x8x256xbf16>
// CHECK:         hfq.linear "lm_head" %{{.*}}, %{{.*}} : tensor<?x8x64xbf16>, tensor<256x64xbf16> -> tensor<?x8x256xbf16>
func.func @linear_rank3(%x: tensor<2x8x64xbf16>, %xd: tensor<?x8x64xbf16>, %w: tensor<256x64xbf16>) -> (tensor<2x8x256xbf16>, tensor<?x8x256xbf16>) {
  %y = hfq.linear "lm_head" %x, %w : tensor<2x8x64xbf16>, tensor<256x64xbf16> -> tensor<2x8x256xbf16>
  %yd = hfq.linear "lm_head" %xd, %w : tensor<?x8x64xbf16>, tensor<256x64xbf16> -> tensor<?x8x256xbf16>
  return %y, %yd : tensor<2x8x256xbf16>, tensor<?x8x256xbf16>
}

//===----------------------------------------------------------------------===//
// hfq.qlinear
//===----------------------------------------------------------------------===//

// GPTQ 4-bit, group 32, N = 128, K = 64 (specs/gptq.json): G = K / 32 = 2,
// qweight [K*4/32, N], qzeros [G, N*4/32], scales [G, N] f16, g_idx [K].
// CHECK-LABEL: func.func @gptq_4bit(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<4x64xf16>, %[[QW:[^:]*]]: tensor<8x128xi32>, %[[QZ:[^:]*]]: tensor<2x16xi32>, %[[S:[^:]*]]: tensor<2x128xf16>, %[[G:[^:]*]]: tensor<64xi32>
// CHECK:         %[[Y:.*]] = hfq.qlinear "model.layers.0.mlp.up_proj" %[[X]], packed(%[[QW]], %[[QZ]], %[[S]], %[[G]])
// CHECK-SAME:      method <"gptq", {bits = 4 : i64, desc_act = false, group_size = 32 : i64, sym = true}>
// CHECK-SAME:      : tensor<4x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<4x128xf16>
// CHECK:         return %[[Y]]
// GENERIC-LABEL: sym_name = "gptq_4bit"
// GENERIC:         "hfq.qlinear"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) <{method = #hfq.method<"gptq", {{.*}}>, name = "model.layers.0.mlp.up_proj", operandSegmentSizes = array<i32: 1, 4, 0>}>
func.func @gptq_4bit(%x: tensor<4x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                     %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<4x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g)
      method <"gptq", {bits = 4 : i64, group_size = 32 : i64, desc_act = false, sym = true}>
      : tensor<4x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<4x128xf16>
  return %y : tensor<4x128xf16>
}

// GPTQ 3-bit, one group per column (group_size = -1), with None fields
// written #hfq.none, a bias and a chosen kernel. 3-bit packs 32 values into
// 3 words: qweight [K*3/32, N] = [6, 128], qzeros [1, N*3/32] = [1, 12].
// CHECK-LABEL: func.func @gptq_3bit_none_bias_kernel(
// CHECK-SAME:    %[[B:[^:]*]]: tensor<128xf16>
// CHECK:         hfq.qlinear "model.layers.0.mlp.gate_proj" %{{.*}}, packed(%{{[^)]*}}), bias %[[B]]
// CHECK-SAME:      method <"gptq", {bits = 3 : i64, dataset = #hfq.none, group_size = -1 : i64, tokenizer = #hfq.none}>
// CHECK-SAME:      {kernel = "hfq_gptq_generic"}
// CHECK-SAME:      : tensor<1x64xf16>, (tensor<6x128xi32>, tensor<1x12xi32>, tensor<1x128xf16>, tensor<64xi32>), tensor<128xf16> -> tensor<1x128xf16>
// GENERIC-LABEL: sym_name = "gptq_3bit_none_bias_kernel"
// GENERIC:         "hfq.qlinear"({{.*}}) <{kernel = "hfq_gptq_generic", {{.*}}operandSegmentSizes = array<i32: 1, 4, 1>}>
func.func @gptq_3bit_none_bias_kernel(%x: tensor<1x64xf16>, %qw: tensor<6x128xi32>, %qz: tensor<1x12xi32>,
                                      %s: tensor<1x128xf16>, %g: tensor<64xi32>, %b: tensor<128xf16>) -> tensor<1x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.gate_proj" %x, packed(%qw, %qz, %s, %g), bias %b
      method <"gptq", {bits = 3 : i64, tokenizer = #hfq.none, dataset = #hfq.none, group_size = -1 : i64}>
      {kernel = "hfq_gptq_generic"}
      : tensor<1x64xf16>, (tensor<6x128xi32>, tensor<1x12xi32>, tensor<1x128xf16>, tensor<64xi32>), tensor<128xf16> -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// GPTQ on rank-3 activations [batch, seq, K] (the method alias is expanded).
// CHECK-LABEL: func.func @gptq_rank3(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.o_proj" %{{.*}}, packed(%{{[^)]*}}) method <"gptq", {bits = 4 : i64, group_size = 32 : i64}> : tensor<2x3x64xf16>, ({{.*}}) -> tensor<2x3x128xf16>
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @gptq_rank3(%x: tensor<2x3x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                      %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<2x3x128xf16> {
  %y = hfq.qlinear "model.layers.0.self_attn.o_proj" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<2x3x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<2x3x128xf16>
  return %y : tensor<2x3x128xf16>
}

// Config integers of any integer type are read by value: 128 : ui8 is 128
// (one group for K = 128), not -128.
// CHECK-LABEL: func.func @gptq_unsigned_config_int(
// CHECK:         method <"gptq", {bits = 4 : i64, group_size = 128 : ui8}> : tensor<1x128xf16>, (tensor<16x64xi32>, tensor<1x8xi32>, tensor<1x64xf16>, tensor<128xi32>) -> tensor<1x64xf16>
func.func @gptq_unsigned_config_int(%x: tensor<1x128xf16>, %qw: tensor<16x64xi32>, %qz: tensor<1x8xi32>,
                                    %s: tensor<1x64xf16>, %g: tensor<128xi32>) -> tensor<1x64xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.down_proj" %x, packed(%qw, %qz, %s, %g)
      method <"gptq", {bits = 4 : i64, group_size = 128 : ui8}>
      : tensor<1x128xf16>, (tensor<16x64xi32>, tensor<1x8xi32>, tensor<1x64xf16>, tensor<128xi32>) -> tensor<1x64xf16>
  return %y : tensor<1x64xf16>
}

// AWQ gemm, group 128, N = 256, K = 256 (specs/awq.json): qweight [K, N/8],
// qzeros [K/128, N/8], scales [K/128, N] f16.
// CHECK-LABEL: func.func @awq_gemm(
// CHECK:         hfq.qlinear "model.layers.0.mlp.down_proj" %{{.*}}, packed(%{{[^)]*}})
// CHECK-SAME:      method <"awq", {bits = 4 : i64, format = "gemm", group_size = 128 : i64, zero_point = true}>
// CHECK-SAME:      : tensor<1x256xf16>, (tensor<256x32xi32>, tensor<2x32xi32>, tensor<2x256xf16>) -> tensor<1x256xf16>
func.func @awq_gemm(%x: tensor<1x256xf16>, %qw: tensor<256x32xi32>, %qz: tensor<2x32xi32>,
                    %s: tensor<2x256xf16>) -> tensor<1x256xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.down_proj" %x, packed(%qw, %qz, %s)
      method <"awq", {bits = 4 : i64, group_size = 128 : i64, zero_point = true, format = "gemm"}>
      : tensor<1x256xf16>, (tensor<256x32xi32>, tensor<2x32xi32>, tensor<2x256xf16>) -> tensor<1x256xf16>
  return %y : tensor<1x256xf16>
}

// AWQ gemv, group 128, N = 256, K = 256: two groups per row padded to
// W = 1 word; qweight [N, K/8], qzeros [N, W], scales [N, 8*W].
// CHECK-LABEL: func.func @awq_gemv(
// CHECK:         method <"awq", {format = "gemv"}> : tensor<1x256xf16>, (tensor<256x32xi32>, tensor<256x1xi32>, tensor<256x8xf16>) -> tensor<1x256xf16>
func.func @awq_gemv(%x: tensor<1x256xf16>, %qw: tensor<256x32xi32>, %qz: tensor<256x1xi32>,
                    %s: tensor<256x8xf16>) -> tensor<1x256xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.down_proj" %x, packed(%qw, %qz, %s)
      method <"awq", {format = "gemv"}>
      : tensor<1x256xf16>, (tensor<256x32xi32>, tensor<256x1xi32>, tensor<256x8xf16>) -> tensor<1x256xf16>
  return %y : tensor<1x256xf16>
}

// bitsandbytes 4-bit NF4, N = 128, K = 64 (specs/bitsandbytes.json): codes two
// per byte [N*K/2, 1] ui8, one f32 absmax per 64-element block (128 blocks),
// the 16-entry code book.
// CHECK-LABEL: func.func @bnb_nf4(
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj" %{{.*}}, packed(%{{[^)]*}})
// CHECK-SAME:      method <"bitsandbytes_4bit", {bnb_4bit_compute_dtype = "bfloat16", bnb_4bit_quant_type = "nf4", load_in_4bit = true}>
// CHECK-SAME:      : tensor<2x64xbf16>, (tensor<4096x1xui8>, tensor<128xf32>, tensor<16xf32>) -> tensor<2x128xbf16>
func.func @bnb_nf4(%x: tensor<2x64xbf16>, %w: tensor<4096x1xui8>, %absmax: tensor<128xf32>,
                   %qmap: tensor<16xf32>) -> tensor<2x128xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %absmax, %qmap)
      method <"bitsandbytes_4bit", {load_in_4bit = true, bnb_4bit_quant_type = "nf4", bnb_4bit_compute_dtype = "bfloat16"}>
      : tensor<2x64xbf16>, (tensor<4096x1xui8>, tensor<128xf32>, tensor<16xf32>) -> tensor<2x128xbf16>
  return %y : tensor<2x128xbf16>
}

// NF4 with double quantization: the 128 block absmaxes become ui8 codes,
// plus one f32 nested absmax per 256 blocks, the 256-entry nested map and
// the scalar nested offset.
// CHECK-LABEL: func.func @bnb_nf4_double_quant(
// CHECK:         method <"bitsandbytes_4bit", {bnb_4bit_quant_type = "nf4", bnb_4bit_use_double_quant = true, load_in_4bit = true}>
// CHECK-SAME:      : tensor<2x64xbf16>, (tensor<4096x1xui8>, tensor<128xui8>, tensor<16xf32>, tensor<1xf32>, tensor<256xf32>, tensor<f32>) -> tensor<2x128xbf16>
func.func @bnb_nf4_double_quant(%x: tensor<2x64xbf16>, %w: tensor<4096x1xui8>, %absmax: tensor<128xui8>,
                                %qmap: tensor<16xf32>, %nabsmax: tensor<1xf32>,
                                %nqmap: tensor<256xf32>, %noffset: tensor<f32>) -> tensor<2x128xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %absmax, %qmap, %nabsmax, %nqmap, %noffset)
      method <"bitsandbytes_4bit", {load_in_4bit = true, bnb_4bit_quant_type = "nf4", bnb_4bit_use_double_quant = true}>
      : tensor<2x64xbf16>, (tensor<4096x1xui8>, tensor<128xui8>, tensor<16xf32>, tensor<1xf32>, tensor<256xf32>, tensor<f32>) -> tensor<2x128xbf16>
  return %y : tensor<2x128xbf16>
}

// FP4 codes stored as bf16 words (bnb_4bit_quant_storage): four codes per
// 2-byte element, weight [N*K/4, 1] bf16.
// CHECK-LABEL: func.func @bnb_fp4_bf16_storage(
// CHECK:         : tensor<2x64xbf16>, (tensor<2048x1xbf16>, tensor<128xf32>, tensor<16xf32>) -> tensor<2x128xbf16>
func.func @bnb_fp4_bf16_storage(%x: tensor<2x64xbf16>, %w: tensor<2048x1xbf16>, %absmax: tensor<128xf32>,
                                %qmap: tensor<16xf32>) -> tensor<2x128xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %absmax, %qmap)
      method <"bitsandbytes_4bit", {load_in_4bit = true, bnb_4bit_quant_storage = "bfloat16"}>
      : tensor<2x64xbf16>, (tensor<2048x1xbf16>, tensor<128xf32>, tensor<16xf32>) -> tensor<2x128xbf16>
  return %y : tensor<2x128xbf16>
}

// bitsandbytes LLM.int8(): CB [N, K] i8 and the row absmax SCB [N] f32.
// CHECK-LABEL: func.func @bnb_8bit(
// CHECK:         method <"bitsandbytes_8bit", {llm_int8_threshold = 6.000000e+00 : f64, load_in_8bit = true}>
// CHECK-SAME:      : tensor<4x64xf16>, (tensor<128x64xi8>, tensor<128xf32>) -> tensor<4x128xf16>
func.func @bnb_8bit(%x: tensor<4x64xf16>, %cb: tensor<128x64xi8>, %scb: tensor<128xf32>) -> tensor<4x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%cb, %scb)
      method <"bitsandbytes_8bit", {load_in_8bit = true, llm_int8_threshold = 6.0 : f64}>
      : tensor<4x64xf16>, (tensor<128x64xi8>, tensor<128xf32>) -> tensor<4x128xf16>
  return %y : tensor<4x128xf16>
}

// FP8 with 128x128 blocks, N = 256, K = 384 (specs/fp8.json): weight [N, K]
// f8E4M3FN and one f32 inverse scale per block, [N/128, K/128].
// CHECK-LABEL: func.func @fp8_block(
// CHECK:         method <"fp8", {activation_scheme = "dynamic", weight_block_size = [128, 128]}>
// CHECK-SAME:      : tensor<4x384xbf16>, (tensor<256x384xf8E4M3FN>, tensor<2x3xf32>) -> tensor<4x256xbf16>
func.func @fp8_block(%x: tensor<4x384xbf16>, %w: tensor<256x384xf8E4M3FN>, %s: tensor<2x3xf32>) -> tensor<4x256xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s)
      method <"fp8", {activation_scheme = "dynamic", weight_block_size = [128, 128]}>
      : tensor<4x384xbf16>, (tensor<256x384xf8E4M3FN>, tensor<2x3xf32>) -> tensor<4x256xbf16>
  return %y : tensor<4x256xbf16>
}

// FP8 per tensor (weight_block_size None) with static activations: scalar
// weight_scale_inv and activation_scale.
// CHECK-LABEL: func.func @fp8_tensor_static(
// CHECK:         method <"fp8", {activation_scheme = "static", weight_block_size = #hfq.none}>
// CHECK-SAME:      : tensor<4x384xbf16>, (tensor<256x384xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<4x256xbf16>
func.func @fp8_tensor_static(%x: tensor<4x384xbf16>, %w: tensor<256x384xf8E4M3FN>, %s: tensor<f32>,
                             %a: tensor<f32>) -> tensor<4x256xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s, %a)
      method <"fp8", {activation_scheme = "static", weight_block_size = #hfq.none}>
      : tensor<4x384xbf16>, (tensor<256x384xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<4x256xbf16>
  return %y : tensor<4x256xbf16>
}

// compressed-tensors pack-quantized W4A16, group 128, N = 256, K = 256
// (specs/compressed-tensors.json): the layer's own scheme (its config group)
// is the `scheme` attribute. 8 values per int32: weight_packed [N, K/8],
// weight_scale [N, K/128] bf16, weight_shape [2] i64.
// CHECK-LABEL: func.func @compressed_tensors_w4a16(
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj" %{{.*}}, packed(%{{[^)]*}})
// CHECK-SAME:      method <"compressed-tensors", {config_groups = {group_0 = {{.*}}}, format = "pack-quantized", quantization_status = "compressed"}>
// CHECK-SAME:      {scheme = {input_activations = #hfq.none, targets = ["Linear"], weights = {group_size = 128 : i64, num_bits = 4 : i64, strategy = "group", symmetric = true, type = "int"}}}
// CHECK-SAME:      : tensor<1x256xbf16>, (tensor<256x32xi32>, tensor<256x2xbf16>, tensor<2xi64>) -> tensor<1x256xbf16>
// GENERIC-LABEL: sym_name = "compressed_tensors_w4a16"
// GENERIC:         "hfq.qlinear"({{.*}}) <{method = #hfq.method<"compressed-tensors", {{.*}}>, {{.*}}, scheme = {input_activations = #hfq.none, {{.*}}}}>
func.func @compressed_tensors_w4a16(%x: tensor<1x256xbf16>, %w: tensor<256x32xi32>, %s: tensor<256x2xbf16>,
                                    %shape: tensor<2xi64>) -> tensor<1x256xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s, %shape)
      method <"compressed-tensors", {
        config_groups = {group_0 = {targets = ["Linear"], input_activations = #hfq.none,
                                    weights = {num_bits = 4 : i64, type = "int", strategy = "group", group_size = 128 : i64, symmetric = true}}},
        format = "pack-quantized", quantization_status = "compressed"}>
      {scheme = {targets = ["Linear"], input_activations = #hfq.none,
                 weights = {num_bits = 4 : i64, type = "int", strategy = "group", group_size = 128 : i64, symmetric = true}}}
      : tensor<1x256xbf16>, (tensor<256x32xi32>, tensor<256x2xbf16>, tensor<2xi64>) -> tensor<1x256xbf16>
  return %y : tensor<1x256xbf16>
}

// EETQ: int8 weight transposed [K, N] and per-channel f16 scales [N].
// CHECK-LABEL: func.func @eetq(
// CHECK:         method <"eetq", {weights = "int8"}> : tensor<4x64xf16>, (tensor<64x128xi8>, tensor<128xf16>) -> tensor<4x128xf16>
func.func @eetq(%x: tensor<4x64xf16>, %w: tensor<64x128xi8>, %s: tensor<128xf16>) -> tensor<4x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s)
      method <"eetq", {weights = "int8"}>
      : tensor<4x64xf16>, (tensor<64x128xi8>, tensor<128xf16>) -> tensor<4x128xf16>
  return %y : tensor<4x128xf16>
}

// HQQ 4-bit, group 64 along axis 1, N = 128, K = 64 (specs/hqq.json):
// R = N*K/64 = 128 groups of C = 64; W_q packs two rows per byte [R/2, C],
// scale and zero [R, 1] f16.
// CHECK-LABEL: func.func @hqq_4bit(
// CHECK:         method <"hqq", {quant_config = {offload_meta = false, scale_quant_params = #hfq.none, weight_quant_params = {axis = 1 : i64, channel_wise = true, group_size = 64 : i64, nbits = 4 : i64, optimize = true, round_zero = true, view_as_float = false}, zero_quant_params = #hfq.none}, skip_modules = ["lm_head"]}>
// CHECK-SAME:      : tensor<4x64xbf16>, (tensor<64x64xui8>, tensor<128x1xf16>, tensor<128x1xf16>) -> tensor<4x128xbf16>
func.func @hqq_4bit(%x: tensor<4x64xbf16>, %wq: tensor<64x64xui8>, %s: tensor<128x1xf16>,
                    %z: tensor<128x1xf16>) -> tensor<4x128xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%wq, %s, %z)
      method <"hqq", {quant_config = {
        weight_quant_params = {nbits = 4 : i64, channel_wise = true, group_size = 64 : i64, optimize = true,
                               round_zero = true, axis = 1 : i64, view_as_float = false},
        scale_quant_params = #hfq.none, zero_quant_params = #hfq.none, offload_meta = false},
        skip_modules = ["lm_head"]}>
      : tensor<4x64xbf16>, (tensor<64x64xui8>, tensor<128x1xf16>, tensor<128x1xf16>) -> tensor<4x128xbf16>
  return %y : tensor<4x128xbf16>
}

// BitNet with the default config (offline bitlinear): four ternary values
// per byte along N, weight [N/4, K] ui8, one bf16 scale.
// CHECK-LABEL: func.func @bitnet(
// CHECK:         method <"bitnet", {}> : tensor<4x64xbf16>, (tensor<32x64xui8>, tensor<1xbf16>) -> tensor<4x128xbf16>
func.func @bitnet(%x: tensor<4x64xbf16>, %w: tensor<32x64xui8>, %s: tensor<1xbf16>) -> tensor<4x128xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s)
      method <"bitnet", {}>
      : tensor<4x64xbf16>, (tensor<32x64xui8>, tensor<1xbf16>) -> tensor<4x128xbf16>
  return %y : tensor<4x128xbf16>
}

// quanto int8: weight._data [N, K] i8, weight._scale [N, 1], scalar input
// and output scales.
// CHECK-LABEL: func.func @quanto_int8(
// CHECK:         method <"quanto", {weights = "int8"}> : tensor<4x64xf16>, (tensor<128x64xi8>, tensor<128x1xf16>, tensor<f16>, tensor<f16>) -> tensor<4x128xf16>
func.func @quanto_int8(%x: tensor<4x64xf16>, %d: tensor<128x64xi8>, %s: tensor<128x1xf16>,
                       %is: tensor<f16>, %os: tensor<f16>) -> tensor<4x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%d, %s, %is, %os)
      method <"quanto", {weights = "int8"}>
      : tensor<4x64xf16>, (tensor<128x64xi8>, tensor<128x1xf16>, tensor<f16>, tensor<f16>) -> tensor<4x128xf16>
  return %y : tensor<4x128xf16>
}

// AQLM 1x16 (one 2^16-entry code book of 1x8 vectors): codes [N, K/8, 1]
// i16, codebooks [1, 65536, 1, 8], scales [N, 1, 1, 1].
// CHECK-LABEL: func.func @aqlm_1x16(
// CHECK:         method <"aqlm", {}> : tensor<1x64xf16>, (tensor<128x8x1xi16>, tensor<1x65536x1x8xf16>, tensor<128x1x1x1xf16>) -> tensor<1x128xf16>
func.func @aqlm_1x16(%x: tensor<1x64xf16>, %codes: tensor<128x8x1xi16>, %cb: tensor<1x65536x1x8xf16>,
                     %s: tensor<128x1x1x1xf16>) -> tensor<1x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%codes, %cb, %s)
      method <"aqlm", {}>
      : tensor<1x64xf16>, (tensor<128x8x1xi16>, tensor<1x65536x1x8xf16>, tensor<128x1x1x1xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// torchao Int8WeightOnlyConfig (version 2, per-row): _weight_qdata [N, K] i8,
// _weight_scale [N, 1] f32, _weight_zero_point [N, 1] i8.
// CHECK-LABEL: func.func @torchao_int8(
// CHECK:         method <"torchao", {quant_type = {default = {_data = {}, _type = "Int8WeightOnlyConfig", _version = 2 : i64}}}>
// CHECK-SAME:      : tensor<4x64xbf16>, (tensor<128x64xi8>, tensor<128x1xf32>, tensor<128x1xi8>) -> tensor<4x128xbf16>
func.func @torchao_int8(%x: tensor<4x64xbf16>, %w: tensor<128x64xi8>, %s: tensor<128x1xf32>, %z: tensor<128x1xi8>) -> tensor<4x128xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s, %z)
      method <"torchao", {quant_type = {default = {_type = "Int8WeightOnlyConfig", _version = 2 : i64, _data = {}}}}>
      : tensor<4x64xbf16>, (tensor<128x64xi8>, tensor<128x1xf32>, tensor<128x1xi8>) -> tensor<4x128xbf16>
  return %y : tensor<4x128xbf16>
}

//===----------------------------------------------------------------------===//
// hfq.quantize
//===----------------------------------------------------------------------===//

// On-the-fly LLM.int8() quantization of a [128, 64] weight into CB and SCB.
// CHECK-LABEL: func.func @quantize_bnb_8bit(
// CHECK-SAME:    %[[W:.*]]: tensor<128x64xf32>
// CHECK:         %[[Q:.*]]:2 = hfq.quantize "model.layers.0.mlp.up_proj" %[[W]] method <"bitsandbytes_8bit", {load_in_8bit = true}> : tensor<128x64xf32> -> (tensor<128x64xi8>, tensor<128xf32>)
// CHECK:         return %[[Q]]#0, %[[Q]]#1
func.func @quantize_bnb_8bit(%w: tensor<128x64xf32>) -> (tensor<128x64xi8>, tensor<128xf32>) {
  %q:2 = hfq.quantize "model.layers.0.mlp.up_proj" %w
      method <"bitsandbytes_8bit", {load_in_8bit = true}>
      : tensor<128x64xf32> -> (tensor<128x64xi8>, tensor<128xf32>)
  return %q#0, %q#1 : tensor<128x64xi8>, tensor<128xf32>
}

// Quantizing with a per-module scheme (compressed-tensors int8 per channel).
// CHECK-LABEL: func.func @quantize_compressed_tensors(
// CHECK:         hfq.quantize "model.layers.0.mlp.up_proj" %{{.*}} method <"compressed-tensors", {format = "int-quantized"}> {scheme = {weights = {num_bits = 8 : i64, strategy = "channel", type = "int"}}} : tensor<128x64xbf16> -> (tensor<128x64xi8>, tensor<128x1xbf16>)
func.func @quantize_compressed_tensors(%w: tensor<128x64xbf16>) -> (tensor<128x64xi8>, tensor<128x1xbf16>) {
  %q:2 = hfq.quantize "model.layers.0.mlp.up_proj" %w
      method <"compressed-tensors", {format = "int-quantized"}>
      {scheme = {weights = {num_bits = 8 : i64, type = "int", strategy = "channel"}}}
      : tensor<128x64xbf16> -> (tensor<128x64xi8>, tensor<128x1xbf16>)
  return %q#0, %q#1 : tensor<128x64xi8>, tensor<128x1xbf16>
}
