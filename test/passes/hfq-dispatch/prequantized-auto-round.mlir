// AutoRound checkpoints (quant_method "auto-round"): the layout follows
// packing_format (specs/auto-round.json), and the kernel rules pick the CPU
// reference of its packing.
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch --hfq-select-kernel=target=cpu | FileCheck %s

// auto_round:gptqmodel, 4-bit, group 32 over K = 64 (G = 2): the GPTQ words
// with the zero as is and a g_idx [K].
// CHECK:       #layout = #hfq.layout<(qweight: tensor<8x64xi32>, qzeros: tensor<2x8xi32>, scales: tensor<2x64xf16>, g_idx: tensor<64xi32>), args(bits = 4.0, group_size = 32.0, zero_stored_minus_one = 0.0, g_idx = 1.0)>
// CHECK-LABEL: func.func @gptqmodel(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj" %{{.*}}, packed(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) method #auto_round {kernel = "hfq_ref_auto_round_gptq"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "auto-round", bits = 4 : i64, group_size = 32 : i64,
                           sym = false, packing_format = "auto_round:gptqmodel"}}} {
  func.func @gptqmodel(%x: tensor<1x64xbf16>) -> tensor<1x64xbf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
    return %q : tensor<1x64xbf16>
  }
}

// -----

// auto_round:auto_gptq (the symmetric export), 2-bit, group -1: zeros
// stored minus one, no g_idx.
// CHECK:       #layout = #hfq.layout<(qweight: tensor<4x64xi32>, qzeros: tensor<1x4xi32>, scales: tensor<1x64xf16>), args(bits = 2.0, group_size = -1.0, zero_stored_minus_one = 1.0, g_idx = 0.0)>
// CHECK-LABEL: func.func @auto_gptq(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj" %{{.*}}, packed(%{{.*}}, %{{.*}}, %{{.*}}) method #auto_round {kernel = "hfq_ref_auto_round_gptq"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "auto-round", bits = 2 : i64, group_size = -1 : i64,
                           sym = true, packing_format = "auto_round:auto_gptq"}}} {
  func.func @auto_gptq(%x: tensor<1x64xbf16>) -> tensor<1x64xbf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
    return %q : tensor<1x64xbf16>
  }
}

// -----

// auto_round:auto_awq (the asymmetric 4-bit export): AWQ's gemm words.
// CHECK:       #layout = #hfq.layout<(qweight: tensor<64x8xi32>, qzeros: tensor<2x8xi32>, scales: tensor<2x64xf16>), args(bits = 4.0, group_size = 32.0, zero_stored_minus_one = 0.0, g_idx = 0.0)>
// CHECK-LABEL: func.func @auto_awq(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} {kernel = "hfq_ref_auto_round_awq"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "auto-round", bits = 4 : i64, group_size = 32 : i64,
                           sym = false, packing_format = "auto_round:auto_awq"}}} {
  func.func @auto_awq(%x: tensor<1x64xbf16>) -> tensor<1x64xbf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
    return %q : tensor<1x64xbf16>
  }
}

// -----

// AutoRoundConfig takes bits 2 to 8, auto-round packs 2, 3, 4 and 8.
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "auto-round", bits = 6 : i64, group_size = 32 : i64,
                           sym = false, packing_format = "auto_round"}}} {
  func.func @six_bits(%x: tensor<1x64xbf16>) -> tensor<1x64xbf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
    // expected-error @+1 {{cannot be quantized with 'auto-round': AutoRound 6-bit weights have no GPTQ packing (auto-round packs 2, 3, 4 or 8 bits into int32 words)}}
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
    return %q : tensor<1x64xbf16>
  }
}

// -----

// 3-bit fields straddle words: 32 values fill three, so N must be a
// multiple of 32 for the zero points.
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "auto-round", bits = 3 : i64, group_size = 32 : i64,
                           sym = true, packing_format = "auto_round:auto_gptq"}}} {
  func.func @three_bits(%x: tensor<1x64xbf16>) -> tensor<1x48xbf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<48x64xbf16>
    // expected-error @+1 {{N (48) must be a multiple of 32 to pack 3-bit AutoRound zero points into int32 words}}
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x64xbf16>, tensor<48x64xbf16> -> tensor<1x48xbf16>
    return %q : tensor<1x48xbf16>
  }
}

// -----

// The AWQ export is 4-bit only.
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "auto-round", bits = 8 : i64, group_size = 32 : i64,
                           sym = false, packing_format = "auto_round:auto_awq"}}} {
  func.func @awq_eight_bits(%x: tensor<1x64xbf16>) -> tensor<1x64xbf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
    // expected-error @+1 {{AutoRound 8-bit weights have no AWQ packing (auto-round's AWQ export packs 4 bits)}}
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
    return %q : tensor<1x64xbf16>
  }
}

// -----

// Exports without a layout in hfq.
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "auto-round", bits = 8 : i64, group_size = -1 : i64,
                           data_type = "fp", packing_format = "auto_round:fp8"}}} {
  func.func @fp8(%x: tensor<1x64xbf16>) -> tensor<1x64xbf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
    // expected-error @+1 {{AutoRound packing_format 'auto_round:fp8' has no tensor layout in hfq}}
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
    return %q : tensor<1x64xbf16>
  }
}

// -----

// auto-round 0.16.1's own export of a W4A16 sym model (format 'auto_round'):
// the keys AutoRoundConfig keeps as attributes (autoround_version,
// block_name_to_quantize, data_type, iters) stay in the config and verify,
// and only the linears under block_name_to_quantize are converted (auto-round's
// get_layer_config): lm_head stays dense.
// CHECK:       #auto_round = #hfq.method<"auto-round", {autoround_version = "0.16.1", backend = "auto", bits = 4 : i64, block_name_to_quantize = "model.layers", data_type = "int", group_size = 32 : i64, iters = 50 : i64, packing_format = "auto_round:auto_gptq", quant_method = "auto-round", sym = true}>
// CHECK:       #layout = #hfq.layout<(qweight: tensor<8x64xi32>, qzeros: tensor<2x8xi32>, scales: tensor<2x64xf16>), args(bits = 4.0, group_size = 32.0, zero_stored_minus_one = 1.0, g_idx = 0.0)>
// CHECK-LABEL: func.func @auto_round_export(
// CHECK:         hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #auto_round {kernel = "hfq_ref_auto_round_gptq"
// CHECK:         hfq.linear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {autoround_version = "0.16.1", bits = 4 : i64, block_name_to_quantize = "model.layers",
                           data_type = "int", group_size = 32 : i64, iters = 50 : i64,
                           packing_format = "auto_round:auto_gptq", quant_method = "auto-round", sym = true}}} {
  func.func @auto_round_export(%x: tensor<1x64xbf16>) -> tensor<1x64xbf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
    %h = hfq.weight "lm_head.weight" : tensor<64x64xbf16>
    %l = hfq.linear "lm_head" %q, %h : tensor<1x64xbf16>, tensor<64x64xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
