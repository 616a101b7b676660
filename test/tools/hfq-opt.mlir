// The hfq-opt driver: its options, the method registry listing, and the
// README's jobs over the bundled examples.

// --help lists the hfq passes (with their options) and the hfq options.
// RUN: hfq-opt --help | FileCheck %s --check-prefix=HELP
// HELP:     --hfq-dispatch {{.*}}Choose the quantizer as transformers' get_hf_quantizer does
// HELP:     --hfq-select-kernel {{.*}}Choose each quantized linear's kernel from its method's rules
// HELP:       --target=<string> {{.*}}Compile target
// HELP:     hfq options:
// HELP-DAG: --hfq-list-methods {{.*}}Print the method registry
// HELP-DAG: --hfq-spec-path=<file|dir> {{.*}}Load method specs from a file, or every *.json of a directory (repeatable)

// --hfq-list-methods prints the twelve built-in keys in transformers'
// AUTO_QUANTIZER_MAPPING order with their config and quantizer classes and
// whether they take pre-quantized checkpoints only (requires_calibration),
// then each method's kernels (those no runtime provides yet marked
// "planned"); it reads no input.
// RUN: hfq-opt --hfq-list-methods | FileCheck %s --check-prefix=LIST --match-full-lines
// RUN: hfq-opt --hfq-list-methods %S/no-such-input.mlir | FileCheck %s --check-prefix=LIST --match-full-lines
// LIST:      key{{ +}}config class{{ +}}quantizer class{{ +}}pre-quantized only{{ +}}kernels
// LIST-NEXT: awq{{ +}}AwqConfig{{ +}}AwqQuantizer{{ +}}yes{{ +}}hfq_awq_w4a16_gemv, {{.*}}, hfq_ref_awq
// LIST-NEXT: bitsandbytes_4bit{{ +}}BitsAndBytesConfig{{ +}}Bnb4BitHfQuantizer{{ +}}no{{ +}}hfq_bnb4_gemv, hfq_bnb4_gemm, hfq_ref_bnb4
// LIST-NEXT: bitsandbytes_8bit{{ +}}BitsAndBytesConfig{{ +}}Bnb8BitHfQuantizer{{ +}}no{{ +}}hfq_bnb8_w8a16_gemv, hfq_bnb8_w8a16_gemm, hfq_ref_bnb8
// LIST-NEXT: gptq{{ +}}GPTQConfig{{ +}}GptqHfQuantizer{{ +}}no{{ +}}hfq_gptq_w4a16_gemv, {{.*}}, hfq_ref_gptq
// LIST-NEXT: aqlm{{ +}}AqlmConfig{{ +}}AqlmHfQuantizer{{ +}}yes{{ +}}{{.*}}, hfq_ref_aqlm
// LIST-NEXT: quanto{{ +}}QuantoConfig{{ +}}QuantoHfQuantizer{{ +}}no{{ +}}{{.*}}, hfq_ref_quanto
// LIST-NEXT: quark{{ +}}QuarkConfig{{ +}}QuarkHfQuantizer{{ +}}yes{{ +}}hfq_ref_quark, hfq_ref_quark_qdq (planned)
// LIST-NEXT: fouroversix{{ +}}FourOverSixConfig{{ +}}FourOverSixHfQuantizer{{ +}}no{{ +}}hfq_fouroversix (planned)
// LIST-NEXT: fp_quant{{ +}}FPQuantConfig{{ +}}FPQuantHfQuantizer{{ +}}no{{ +}}hfq_fp_quant_qutlass (planned), hfq_fp_quant_pseudo (planned)
// LIST-NEXT: eetq{{ +}}EetqConfig{{ +}}EetqHfQuantizer{{ +}}no{{ +}}{{.*}}, hfq_ref_eetq
// LIST-NEXT: higgs{{ +}}HiggsConfig{{ +}}HiggsHfQuantizer{{ +}}no{{ +}}hfq_higgs_flute (planned)
// LIST-NEXT: hqq{{ +}}HqqConfig{{ +}}HqqHfQuantizer{{ +}}no{{ +}}{{.*}}, hfq_ref_hqq
// LIST-NEXT: compressed-tensors{{ +}}CompressedTensorsConfig{{ +}}CompressedTensorsHfQuantizer{{ +}}yes{{ +}}{{.*}}, hfq_ref_compressed_tensors
// LIST-NEXT: fbgemm_fp8{{ +}}FbgemmFp8Config{{ +}}FbgemmFp8HfQuantizer{{ +}}no{{ +}}hfq_fbgemm_fp8_rowwise (planned), hfq_ref_fbgemm_fp8, hfq_fbgemm_fp8_quantize (planned)
// LIST-NEXT: torchao{{ +}}TorchAoConfig{{ +}}TorchAoHfQuantizer{{ +}}no{{ +}}{{.*}}, hfq_ref_torchao
// LIST-NEXT: bitnet{{ +}}BitNetQuantConfig{{ +}}BitNetHfQuantizer{{ +}}yes{{ +}}hfq_bitnet_w2a8 (planned), hfq_ref_bitnet
// LIST-NEXT: vptq{{ +}}VptqConfig{{ +}}VptqHfQuantizer{{ +}}yes{{ +}}hfq_vptq (planned)
// LIST-NEXT: spqr{{ +}}SpQRConfig{{ +}}SpQRHfQuantizer{{ +}}yes{{ +}}hfq_spqr (planned)
// LIST-NEXT: fp8{{ +}}FineGrainedFP8Config{{ +}}FineGrainedFP8HfQuantizer{{ +}}no{{ +}}hfq_fp8_block_gemm, hfq_fp8_scaled_mm, hfq_fp8_dequant_bf16, hfq_ref_fp8
// LIST-NEXT: gguf{{ +}}GgufConfig{{ +}}GgufHfQuantizer{{ +}}no{{ +}}hfq_gguf_mmq (planned), hfq_gguf_dequant (planned)
// LIST-NEXT: nvfp4{{ +}}NVFP4Config{{ +}}NVFP4HfQuantizer{{ +}}no{{ +}}hfq_nvfp4_block_scaled_mm (planned), hfq_ref_nvfp4, hfq_nvfp4_quantize (planned)
// LIST-NEXT: mxfp8{{ +}}FineGrainedFP8Config{{ +}}FineGrainedFP8HfQuantizer{{ +}}no{{ +}}hfq_mxfp8_block_gemm (planned), hfq_mxfp8_dequant_bf16 (planned), hfq_ref_mxfp8, hfq_mxfp8_quantize (planned)
// LIST-NEXT: auto-round{{ +}}AutoRoundConfig{{ +}}AutoRoundQuantizer{{ +}}yes{{ +}}hfq_ref_auto_round_awq, hfq_ref_auto_round_gptq
// LIST-NEXT: mxfp4{{ +}}Mxfp4Config{{ +}}Mxfp4HfQuantizer{{ +}}no{{ +}}hfq_mxfp4_triton_moe (planned), hfq_mxfp4_dequant_bf16 (planned), hfq_ref_mxfp4, hfq_mxfp4_quantize (planned)
// LIST-NEXT: metal{{ +}}MetalConfig{{ +}}MetalHfQuantizer{{ +}}no{{ +}}hfq_ref_metal (planned)
// LIST-NEXT: sinq{{ +}}SinqConfig{{ +}}SinqHfQuantizer{{ +}}no{{ +}}hfq_sinq (planned)
// LIST-NEXT: gemma{{ +}}GemmaQuantizationConfig{{ +}}GemmaQuantizer{{ +}}yes{{ +}}hfq_gemma (planned)
// LIST-NOT:  {{.+}}

// README, "Running a pass": kernels for the pre-quantized GPTQ block on an
// H100 (sm_90). A decode step (M = 1) runs every projection on the 4-bit
// GEMV; lm_head is not quantized and stays an hfq.linear without a kernel.
// RUN: hfq-opt %hfq_src_root/examples/llama-block-gptq.mlir --hfq-select-kernel=target=sm_90 | FileCheck %s --check-prefix=GPTQ
// GPTQ-LABEL: func.func @llama_block(
// GPTQ:         hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} {kernel = "hfq_gptq_w4a16_gemv"
// GPTQ-COUNT-6: {kernel = "hfq_gptq_w4a16_gemv"
// GPTQ-NOT:     kernel =
// GPTQ:         hfq.linear "lm_head" %{{[^ ]*}}, %{{[^ ]*}} : tensor<1x64xf16>, tensor<256x64xf16> -> tensor<1x256xf16>
// GPTQ-NEXT:    return
// The same block on the CPU uses the reference kernel.
// RUN: hfq-opt %hfq_src_root/examples/llama-block-gptq.mlir --hfq-select-kernel=target=cpu | FileCheck %s --check-prefix=GPTQ-CPU
// GPTQ-CPU-COUNT-7: {kernel = "hfq_ref_gptq"
// GPTQ-CPU-NOT:     kernel =
// GPTQ-CPU:         hfq.linear "lm_head"

// README, the main job (./setup.sh run): dispatch the unquantized block with
// its GPTQ checkpoint config as transformers would, then pick kernels. The
// seven projections become hfq.qlinear over the checkpoint's tensors;
// lm_head is skipped and stays hfq.linear.
// RUN: hfq-opt %hfq_src_root/examples/llama-block.mlir --hfq-dispatch="target=sm_90 report=%t.report.json" --hfq-select-kernel="target=sm_90" | FileCheck %s --check-prefix=MAIN
// MAIN-LABEL: func.func @llama_block(
// MAIN:         %[[QW:.*]] = hfq.weight "model.layers.0.self_attn.q_proj.qweight" : tensor<8x64xi32>
// MAIN:         hfq.qlinear "model.layers.0.self_attn.q_proj" %{{.*}}, packed(%[[QW]], {{.*}}) method #gptq {kernel = "hfq_gptq_w4a16_gemv"
// MAIN-COUNT-6: {kernel = "hfq_gptq_w4a16_gemv"
// MAIN-NOT:     kernel =
// MAIN:         hfq.linear "lm_head"
// MAIN-NEXT:    return
