// A Llama-style decoder block (hidden 64, intermediate 128, vocab 256) as
// model IR: each linear is an hfq.linear named by its module path, its
// weight bound by checkpoint name, and the checkpoint's config.json rides in
// `hfq.model_config`. Its quantization_config says GPTQ 4-bit, group 32, so
// the model is pre-quantized and --hfq-dispatch replaces every projection by
// an hfq.qlinear over the checkpoint's qweight/qzeros/scales/g_idx, leaving
// lm_head (transformers' default skip: the output embedding) alone.
// Attention itself is elided: o_proj reads v_proj's output.
//
//   hfq-opt examples/llama-block.mlir --hfq-dispatch="target=sm_90" --hfq-select-kernel="target=sm_90"

module attributes {hfq.model_config = {
    architectures = ["LlamaForCausalLM"], model_type = "llama",
    hidden_size = 64 : i64, intermediate_size = 128 : i64, vocab_size = 256 : i64,
    num_hidden_layers = 1 : i64, tie_word_embeddings = false, torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, group_size = 32 : i64,
                           desc_act = false, sym = true, damp_percent = 0.01 : f64,
                           true_sequential = true, checkpoint_format = "gptq"}}} {
  func.func @llama_block(%x: tensor<1x64xf16>) -> tensor<1x256xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xf16>
    %wk = hfq.weight "model.layers.0.self_attn.k_proj.weight" : tensor<64x64xf16>
    %wv = hfq.weight "model.layers.0.self_attn.v_proj.weight" : tensor<64x64xf16>
    %wo = hfq.weight "model.layers.0.self_attn.o_proj.weight" : tensor<64x64xf16>
    %wg = hfq.weight "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<128x64xf16>
    %wd = hfq.weight "model.layers.0.mlp.down_proj.weight" : tensor<64x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<256x64xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x64xf16>, tensor<64x64xf16> -> tensor<1x64xf16>
    %k = hfq.linear "model.layers.0.self_attn.k_proj" %x, %wk : tensor<1x64xf16>, tensor<64x64xf16> -> tensor<1x64xf16>
    %v = hfq.linear "model.layers.0.self_attn.v_proj" %x, %wv : tensor<1x64xf16>, tensor<64x64xf16> -> tensor<1x64xf16>
    %o = hfq.linear "model.layers.0.self_attn.o_proj" %v, %wo : tensor<1x64xf16>, tensor<64x64xf16> -> tensor<1x64xf16>
    %h = arith.addf %x, %o : tensor<1x64xf16>
    %gate = hfq.linear "model.layers.0.mlp.gate_proj" %h, %wg : tensor<1x64xf16>, tensor<128x64xf16> -> tensor<1x128xf16>
    %up = hfq.linear "model.layers.0.mlp.up_proj" %h, %wu : tensor<1x64xf16>, tensor<128x64xf16> -> tensor<1x128xf16>
    %act = arith.mulf %gate, %up : tensor<1x128xf16>
    %down = hfq.linear "model.layers.0.mlp.down_proj" %act, %wd : tensor<1x128xf16>, tensor<64x128xf16> -> tensor<1x64xf16>
    %out = arith.addf %h, %down : tensor<1x64xf16>
    %logits = hfq.linear "lm_head" %out, %wl : tensor<1x64xf16>, tensor<256x64xf16> -> tensor<1x256xf16>
    return %logits : tensor<1x256xf16>
  }
}
