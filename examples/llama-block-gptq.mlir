// A Llama-style decoder block (hidden 64, intermediate 128, vocab 256) whose
// seven projections are GPTQ 4-bit, group size 32, as a pre-quantized
// checkpoint stores them (qweight, qzeros, scales, g_idx per layer), and an
// unquantized lm_head. Attention itself is elided: o_proj reads v_proj's
// output, which keeps every linear in the data flow.
//
//   hfq-opt examples/llama-block-gptq.mlir --hfq-select-kernel="target=sm_90"

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64, desc_act = false, sym = true}>

func.func @llama_block(
    %x: tensor<1x64xf16>,
    // self_attn.{q,k,v,o}_proj: N = 64, K = 64
    %q_qw: tensor<8x64xi32>, %q_qz: tensor<2x8xi32>, %q_s: tensor<2x64xf16>, %q_g: tensor<64xi32>,
    %k_qw: tensor<8x64xi32>, %k_qz: tensor<2x8xi32>, %k_s: tensor<2x64xf16>, %k_g: tensor<64xi32>,
    %v_qw: tensor<8x64xi32>, %v_qz: tensor<2x8xi32>, %v_s: tensor<2x64xf16>, %v_g: tensor<64xi32>,
    %o_qw: tensor<8x64xi32>, %o_qz: tensor<2x8xi32>, %o_s: tensor<2x64xf16>, %o_g: tensor<64xi32>,
    // mlp.{gate,up}_proj: N = 128, K = 64; mlp.down_proj: N = 64, K = 128
    %g_qw: tensor<8x128xi32>, %g_qz: tensor<2x16xi32>, %g_s: tensor<2x128xf16>, %g_g: tensor<64xi32>,
    %u_qw: tensor<8x128xi32>, %u_qz: tensor<2x16xi32>, %u_s: tensor<2x128xf16>, %u_g: tensor<64xi32>,
    %d_qw: tensor<16x64xi32>, %d_qz: tensor<4x8xi32>, %d_s: tensor<4x64xf16>, %d_g: tensor<128xi32>,
    %lm_head: tensor<256x64xf16>) -> tensor<1x256xf16> {
  %q = hfq.qlinear "model.layers.0.self_attn.q_proj" %x, packed(%q_qw, %q_qz, %q_s, %q_g) method #gptq
      : tensor<1x64xf16>, (tensor<8x64xi32>, tensor<2x8xi32>, tensor<2x64xf16>, tensor<64xi32>) -> tensor<1x64xf16>
  %k = hfq.qlinear "model.layers.0.self_attn.k_proj" %x, packed(%k_qw, %k_qz, %k_s, %k_g) method #gptq
      : tensor<1x64xf16>, (tensor<8x64xi32>, tensor<2x8xi32>, tensor<2x64xf16>, tensor<64xi32>) -> tensor<1x64xf16>
  %v = hfq.qlinear "model.layers.0.self_attn.v_proj" %x, packed(%v_qw, %v_qz, %v_s, %v_g) method #gptq
      : tensor<1x64xf16>, (tensor<8x64xi32>, tensor<2x8xi32>, tensor<2x64xf16>, tensor<64xi32>) -> tensor<1x64xf16>
  %o = hfq.qlinear "model.layers.0.self_attn.o_proj" %v, packed(%o_qw, %o_qz, %o_s, %o_g) method #gptq
      : tensor<1x64xf16>, (tensor<8x64xi32>, tensor<2x8xi32>, tensor<2x64xf16>, tensor<64xi32>) -> tensor<1x64xf16>
  %h = arith.addf %x, %o : tensor<1x64xf16>
  %gate = hfq.qlinear "model.layers.0.mlp.gate_proj" %h, packed(%g_qw, %g_qz, %g_s, %g_g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  %up = hfq.qlinear "model.layers.0.mlp.up_proj" %h, packed(%u_qw, %u_qz, %u_s, %u_g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  %act = arith.mulf %gate, %up : tensor<1x128xf16>
  %down = hfq.qlinear "model.layers.0.mlp.down_proj" %act, packed(%d_qw, %d_qz, %d_s, %d_g) method #gptq
      : tensor<1x128xf16>, (tensor<16x64xi32>, tensor<4x8xi32>, tensor<4x64xf16>, tensor<128xi32>) -> tensor<1x64xf16>
  %out = arith.addf %h, %down : tensor<1x64xf16>
  %logits = hfq.linear "lm_head" %out, %lm_head : tensor<1x64xf16>, tensor<256x64xf16> -> tensor<1x256xf16>
  return %logits : tensor<1x256xf16>
}
