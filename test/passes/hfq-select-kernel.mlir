// hfq-select-kernel writes into each hfq.qlinear the first kernel of its
// method's spec whose `when` holds for the target, the layer's N and K and
// its activation rows M. The default target is sm_90.
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-spec-path=%S/Inputs/no-kernel.json --hfq-select-kernel | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-spec-path=%S/Inputs/no-kernel.json --hfq-select-kernel=target=sm_90a | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-spec-path=%S/Inputs/no-kernel.json --hfq-select-kernel=target=sm_75 | FileCheck %s --check-prefixes=CHECK,SM75
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-spec-path=%S/Inputs/no-kernel.json --hfq-select-kernel=target=cpu | FileCheck %s --check-prefixes=CHECK,CPU
//
// An unknown target is an error before any op is looked at.
// RUN: not hfq-opt %s --hfq-spec-path=%S/Inputs/no-kernel.json --hfq-select-kernel=target=tpu_v5 2>&1 | FileCheck %s --check-prefix=BADTARGET
// BADTARGET: error: unknown target 'tpu_v5' (expected sm_<NN> such as sm_90, or cpu)

#gptq4 = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>

// Decode (M = 1): the GEMV on sm_80 and newer; sm_75 has no 4-bit GPTQ
// kernel, so every CUDA rule rejects and the CPU reference is chosen.
// CHECK-LABEL: func.func @gptq_decode(
// SM90:          hfq.qlinear {{.*}} {kernel = "hfq_gptq_w4a16_gemv"{{.*}} : tensor<1x64xf16>
// SM75:          hfq.qlinear {{.*}} {kernel = "hfq_ref_gptq"{{.*}} : tensor<1x64xf16>
// CPU:           hfq.qlinear {{.*}} {kernel = "hfq_ref_gptq"{{.*}} : tensor<1x64xf16>
func.func @gptq_decode(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                       %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq4
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// Prefill (M = 1024): the GEMM.
// CHECK-LABEL: func.func @gptq_prefill(
// SM90:          hfq.qlinear {{.*}} {kernel = "hfq_gptq_w4a16_gemm"{{.*}} : tensor<1024x64xf16>
// SM75:          hfq.qlinear {{.*}} {kernel = "hfq_ref_gptq"{{.*}} : tensor<1024x64xf16>
// CPU:           hfq.qlinear {{.*}} {kernel = "hfq_ref_gptq"{{.*}} : tensor<1024x64xf16>
func.func @gptq_prefill(%x: tensor<1024x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                        %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1024x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq4
      : tensor<1024x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1024x128xf16>
  return %y : tensor<1024x128xf16>
}

// M is the product of the leading dimensions: [2, 8, K] is M = 16, the
// largest the GEMV takes; [17, K] is one row too many.
// CHECK-LABEL: func.func @gptq_m_boundary(
// SM90:          {kernel = "hfq_gptq_w4a16_gemv"{{.*}} : tensor<2x8x64xf16>
// SM90:          {kernel = "hfq_gptq_w4a16_gemm"{{.*}} : tensor<17x64xf16>
// SM75-COUNT-2:  {kernel = "hfq_ref_gptq"
// CPU-COUNT-2:   {kernel = "hfq_ref_gptq"
func.func @gptq_m_boundary(%x16: tensor<2x8x64xf16>, %x17: tensor<17x64xf16>, %qw: tensor<8x128xi32>,
                           %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>)
    -> (tensor<2x8x128xf16>, tensor<17x128xf16>) {
  %y16 = hfq.qlinear "model.layers.0.mlp.up_proj" %x16, packed(%qw, %qz, %s, %g) method #gptq4
      : tensor<2x8x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<2x8x128xf16>
  %y17 = hfq.qlinear "model.layers.0.mlp.up_proj" %x17, packed(%qw, %qz, %s, %g) method #gptq4
      : tensor<17x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<17x128xf16>
  return %y16, %y17 : tensor<2x8x128xf16>, tensor<17x128xf16>
}

// A dynamic batch is M = -1: the GEMV (M >= 1) rejects it, the GEMM takes it.
// CHECK-LABEL: func.func @gptq_dynamic_batch(
// SM90:          {kernel = "hfq_gptq_w4a16_gemm"{{.*}} : tensor<?x64xf16>
// SM90:          {kernel = "hfq_gptq_w4a16_gemm"{{.*}} : tensor<1x?x64xf16>
// SM75-COUNT-2:  {kernel = "hfq_ref_gptq"
// CPU-COUNT-2:   {kernel = "hfq_ref_gptq"
func.func @gptq_dynamic_batch(%x: tensor<?x64xf16>, %x3: tensor<1x?x64xf16>, %qw: tensor<8x128xi32>,
                              %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>)
    -> (tensor<?x128xf16>, tensor<1x?x128xf16>) {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq4
      : tensor<?x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<?x128xf16>
  %y3 = hfq.qlinear "model.layers.0.mlp.up_proj" %x3, packed(%qw, %qz, %s, %g) method #gptq4
      : tensor<1x?x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x?x128xf16>
  return %y, %y3 : tensor<?x128xf16>, tensor<1x?x128xf16>
}

// The CUDA w4a16 / w8a16 kernels load activations 8 at a time: K = 12 (a
// legal 8-bit GPTQ layout) stays on the reference.
// CHECK-LABEL: func.func @gptq_8bit_k12(
// SM90:          {kernel = "hfq_ref_gptq"
// SM75:          {kernel = "hfq_ref_gptq"
// CPU:           {kernel = "hfq_ref_gptq"
func.func @gptq_8bit_k12(%x: tensor<1x12xf16>, %qw: tensor<3x16xi32>, %qz: tensor<1x4xi32>,
                         %s: tensor<1x16xf16>, %g: tensor<12xi32>) -> tensor<1x16xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g)
      method <"gptq", {bits = 8 : i64, group_size = -1 : i64}>
      : tensor<1x12xf16>, (tensor<3x16xi32>, tensor<1x4xi32>, tensor<1x16xf16>, tensor<12xi32>) -> tensor<1x16xf16>
  return %y : tensor<1x16xf16>
}

// Groups of 16 (legal GPTQ, K = 64) are not a group size the CUDA kernels
// take (32, 64 or a multiple of 128): the reference runs the layer.
// CHECK-LABEL: func.func @gptq_group16(
// SM90:          {kernel = "hfq_ref_gptq", rejected_kernels = ["hfq_gptq_w4a16_gemv: {{.*}}group_size == 32 or group_size == 64 or group_size % 128 == 0{{.*}} does not hold"
// CPU:           {kernel = "hfq_ref_gptq"
func.func @gptq_group16(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<4x16xi32>,
                        %s: tensor<4x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g)
      method <"gptq", {bits = 4 : i64, group_size = 16 : i64}>
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<4x16xi32>, tensor<4x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// 3-bit GPTQ falls through the 4- and 8-bit rules to the generic CUDA kernel
// (codes widened to the W8A16 kernels' layout: sm_80 and up); on sm_75 the
// reference runs it.
// CHECK-LABEL: func.func @gptq_3bit(
// SM90:          {kernel = "hfq_gptq_generic"
// SM75:          {kernel = "hfq_ref_gptq", rejected_kernels = [{{.*}}"hfq_gptq_generic: {{.*}}target.sm >= 80{{.*}} does not hold"
// CPU:           {kernel = "hfq_ref_gptq"
func.func @gptq_3bit(%x: tensor<1x64xf16>, %qw: tensor<6x128xi32>, %qz: tensor<1x12xi32>,
                     %s: tensor<1x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g)
      method <"gptq", {bits = 3 : i64, group_size = -1 : i64}>
      : tensor<1x64xf16>, (tensor<6x128xi32>, tensor<1x12xi32>, tensor<1x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// HQQ 4-bit on sm_75: the w4a16 rules need sm >= 80; the next rule (any
// CUDA GPU) names a planned kernel no runtime provides yet, so the
// reference takes it.
// CHECK-LABEL: func.func @hqq_fall_through(
// SM90:          {kernel = "hfq_hqq_w4a16_gemv"
// SM75:          {kernel = "hfq_ref_hqq", rejected_kernels = [{{.*}}"hfq_hqq_generic: planned, not implemented yet (a CUDA kernel for HQQ widths{{.*}})"]
// CPU:           {kernel = "hfq_ref_hqq"
func.func @hqq_fall_through(%x: tensor<1x64xbf16>, %wq: tensor<64x64xui8>, %s: tensor<128x1xf16>,
                            %z: tensor<128x1xf16>) -> tensor<1x128xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%wq, %s, %z)
      method <"hqq", {quant_config = {weight_quant_params = {nbits = 4 : i64, channel_wise = true, group_size = 64 : i64, axis = 1 : i64}}}>
      : tensor<1x64xbf16>, (tensor<64x64xui8>, tensor<128x1xf16>, tensor<128x1xf16>) -> tensor<1x128xbf16>
  return %y : tensor<1x128xbf16>
}

// compressed-tensors FP8 per channel with dynamic FP8 activations: the
// scaled-mm kernel (sm_89 and up) is planned, not implemented yet, so the
// weight is dequantized to bf16 everywhere. The kernel rules read the
// module's `scheme`.
// CHECK-LABEL: func.func @compressed_tensors_fp8(
// SM90:          {kernel = "hfq_fp8_dequant_bf16", rejected_kernels = [{{.*}}"hfq_fp8_scaled_mm: planned, not implemented yet ({{.*}})"
// SM75:          {kernel = "hfq_fp8_dequant_bf16"
// CPU:           {kernel = "hfq_fp8_dequant_bf16"
func.func @compressed_tensors_fp8(%x: tensor<4x64xbf16>, %w: tensor<128x64xf8E4M3FN>,
                                  %s: tensor<128x1xbf16>) -> tensor<4x128xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s)
      method <"compressed-tensors", {format = "float-quantized"}>
      {scheme = {weights = {num_bits = 8 : i64, type = "float", strategy = "channel"},
                 input_activations = {num_bits = 8 : i64, type = "float", strategy = "token", dynamic = true}}}
      : tensor<4x64xbf16>, (tensor<128x64xf8E4M3FN>, tensor<128x1xbf16>) -> tensor<4x128xbf16>
  return %y : tensor<4x128xbf16>
}

// bitsandbytes 8-bit: the W8A16 kernels on sm_80+ (M = 4: the GEMV), else
// the reference (LLM.int8()).
// CHECK-LABEL: func.func @bnb_8bit(
// SM90:          {kernel = "hfq_bnb8_w8a16_gemv"
// SM75:          {kernel = "hfq_ref_bnb8"
// CPU:           {kernel = "hfq_ref_bnb8"
func.func @bnb_8bit(%x: tensor<4x64xf16>, %cb: tensor<128x64xi8>, %scb: tensor<128xf32>) -> tensor<4x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%cb, %scb)
      method <"bitsandbytes_8bit", {load_in_8bit = true}>
      : tensor<4x64xf16>, (tensor<128x64xi8>, tensor<128xf32>) -> tensor<4x128xf16>
  return %y : tensor<4x128xf16>
}

// A kernel chosen before is replaced; an unquantized hfq.linear gets none.
// CHECK-LABEL: func.func @reselect(
// CHECK:         hfq.qlinear
// CHECK-NOT:       "stale_kernel"
// SM90-SAME:       {kernel = "hfq_gptq_w4a16_gemv"
// SM75-SAME:       {kernel = "hfq_ref_gptq"
// CPU-SAME:        {kernel = "hfq_ref_gptq"
// CHECK:         hfq.linear
// CHECK-NOT:       kernel =
// CHECK:         return
func.func @reselect(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                    %s: tensor<2x128xf16>, %g: tensor<64xi32>, %w: tensor<64x128xf16>) -> tensor<1x64xf16> {
  %h = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq4 {kernel = "stale_kernel"}
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  %y = hfq.linear "model.layers.0.mlp.down_proj" %h, %w : tensor<1x128xf16>, tensor<64x128xf16> -> tensor<1x64xf16>
  return %y : tensor<1x64xf16>
}

// -----

// A layer no kernel rule of its method accepts is an error
// (Inputs/no-kernel.json: only sm_100 GPUs or M > 1000000).
func.func @no_kernel(%x: tensor<1x64xf16>, %w: tensor<128x64xi8>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op no kernel of method 'no_kernel' accepts this layer on target}}
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w) method <"no_kernel", {}>
      : tensor<1x64xf16>, (tensor<128x64xi8>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}
