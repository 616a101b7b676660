// GPTQ checkpoints: GPTQConfig from the dict (legacy checkpoint_format
// overrides format), then optimum's convert_model, which replaces only the
// linears inside the transformer blocks — block_name_to_quantize, or else
// the first of optimum's block patterns that prefixes a module name
// ("model.layers" here). transformers adds no skip list of its own, so
// lm_head is left alone because it lies outside the blocks.
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch | FileCheck %s

// 4-bit, group 64 over K = 128 (G = 2): qweight [K/8, N] (8 codes per int32
// along K), qzeros [G, N/8], scales [G, N] f16, g_idx [K] i32.
// CHECK:       #gptq = #hfq.method<"gptq", {
// CHECK-SAME:    bits = 4 : i64
// CHECK-SAME:    format = "gptq"
// CHECK-LABEL: func.func @gptq_4bit(
// CHECK-SAME:    %[[X:.*]]: tensor<1x128xf16>
// CHECK:         %[[WL:.*]] = hfq.weight "lm_head.weight" : tensor<64x256xf16>
// CHECK-NEXT:    %[[QW:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.qweight" : tensor<16x128xi32>
// CHECK-NEXT:    %[[QZ:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.qzeros" : tensor<2x16xi32>
// CHECK-NEXT:    %[[QS:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.scales" : tensor<2x128xf16>
// CHECK-NEXT:    %[[QG:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.g_idx" : tensor<128xi32>
// CHECK-NEXT:    %[[Q:.*]] = hfq.qlinear "model.layers.0.self_attn.q_proj" %[[X]], packed(%[[QW]], %[[QZ]], %[[QS]], %[[QG]]) method #gptq : tensor<1x128xf16>, (tensor<16x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<128xi32>) -> tensor<1x128xf16>
// CHECK-NEXT:    %[[UW:.*]] = hfq.weight "model.layers.0.mlp.up_proj.qweight" : tensor<16x256xi32>
// CHECK-NEXT:    %[[UZ:.*]] = hfq.weight "model.layers.0.mlp.up_proj.qzeros" : tensor<2x32xi32>
// CHECK-NEXT:    %[[US:.*]] = hfq.weight "model.layers.0.mlp.up_proj.scales" : tensor<2x256xf16>
// CHECK-NEXT:    %[[UG:.*]] = hfq.weight "model.layers.0.mlp.up_proj.g_idx" : tensor<128xi32>
// CHECK-NEXT:    %[[U:.*]] = hfq.qlinear "model.layers.0.mlp.up_proj" %[[Q]], packed(%[[UW]], %[[UZ]], %[[US]], %[[UG]]) method #gptq
// CHECK-NEXT:    hfq.linear "lm_head" %[[U]], %[[WL]]
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, group_size = 64 : i64,
                           desc_act = false, sym = true}}} {
  func.func @gptq_4bit(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}

// -----

// 8-bit, group 64: 4 codes per int32, so qweight [K/4, N], qzeros [G, N/4].
// CHECK:       #gptq = #hfq.method<"gptq", {
// CHECK-SAME:    bits = 8 : i64
// CHECK-LABEL: func.func @gptq_8bit(
// CHECK:         hfq.weight "model.layers.0.self_attn.q_proj.qweight" : tensor<32x128xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.qzeros" : tensor<2x32xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.scales" : tensor<2x128xf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.g_idx" : tensor<128xi32>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #gptq
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.qweight" : tensor<32x256xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.qzeros" : tensor<2x64xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.scales" : tensor<2x256xf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.mlp.up_proj.g_idx" : tensor<128xi32>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #gptq
// CHECK-NEXT:    hfq.linear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 8 : i64, group_size = 64 : i64,
                           desc_act = false, sym = true}}} {
  func.func @gptq_8bit(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}

// -----

// gptq_v2 (zero points stored as is): the legacy key checkpoint_format is
// read into `format`; the tensors are the same. group_size 128 = K: G = 1.
// CHECK:       #gptq = #hfq.method<"gptq", {
// CHECK-SAME:    format = "gptq_v2"
// CHECK-LABEL: func.func @gptq_v2(
// CHECK:         hfq.weight "model.layers.0.self_attn.q_proj.qweight" : tensor<16x128xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.qzeros" : tensor<1x16xi32>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.scales" : tensor<1x128xf16>
// CHECK-NEXT:    hfq.weight "model.layers.0.self_attn.q_proj.g_idx" : tensor<128xi32>
// CHECK-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} method #gptq
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method #gptq
// CHECK-NEXT:    hfq.linear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, group_size = 128 : i64,
                           checkpoint_format = "gptq_v2"}}} {
  func.func @gptq_v2(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}

// -----

// block_name_to_quantize names the blocks: only modules under it are
// converted. "model.layers.0.mlp" leaves q_proj (and lm_head) in float.
// CHECK-LABEL: func.func @gptq_block_name(
// CHECK:         hfq.linear "model.layers.0.self_attn.q_proj"
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj"
// CHECK:         hfq.linear "lm_head"
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, group_size = 64 : i64,
                           block_name_to_quantize = "model.layers.0.mlp"}}} {
  func.func @gptq_block_name(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
