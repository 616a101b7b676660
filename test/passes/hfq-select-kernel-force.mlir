// Forcing a kernel, recording the rejected ones, and the report.
// RUN: hfq-opt %s --hfq-select-kernel=target=sm_90 --mlir-print-local-scope | FileCheck %s --check-prefix=AUTO
// RUN: hfq-opt %s --hfq-select-kernel="target=sm_90 force-kernel=hfq_ref_gptq" --mlir-print-local-scope | FileCheck %s --check-prefix=FORCED
// RUN: not hfq-opt %s --hfq-select-kernel="target=sm_90 force-kernel=hfq_gptq_w8a16_gemv" 2>&1 | FileCheck %s --check-prefix=CANNOT
// RUN: not hfq-opt %s --hfq-select-kernel="target=sm_90 force-kernel=hfq_bnb4_gemv" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not hfq-opt %s --hfq-select-kernel="target=sm_90 report=%t.missing.json" 2>&1 | FileCheck %s --check-prefix=NOREPORT

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>

// AUTO-LABEL: func.func @prefill
// A prefill step (M = 128) skips the GEMV rule and says why.
// AUTO: kernel = "hfq_gptq_w4a16_gemm", rejected_kernels = ["hfq_gptq_w4a16_gemv: 'bits == 4 and target.cuda and target.sm >= 80 and act_dtype in ['f16', 'bf16'] and M >= 1 and M <= 16 and K % 8 == 0 and (group_size == -1 or ((group_size == 32 or group_size == 64 or group_size % 128 == 0) and K % group_size == 0))' does not hold"]
// FORCED-LABEL: func.func @prefill
// FORCED: kernel = "hfq_ref_gptq"
// FORCED-NOT: rejected_kernels
// CANNOT: error: 'hfq.qlinear' op the forced kernel 'hfq_gptq_w8a16_gemv' cannot run this layer: its rule 'bits == 8 and target.cuda and target.sm >= 80 and act_dtype in ['f16', 'bf16'] and M >= 1 and M <= 16 and K % 8 == 0 and (group_size == -1 or ((group_size == 32 or group_size == 64 or group_size % 128 == 0) and K % group_size == 0))' does not hold (M = 128, N = 128, K = 64, target sm_90)
// UNKNOWN: error: 'hfq.qlinear' op method 'gptq' has no kernel 'hfq_bnb4_gemv' (its kernels: hfq_gptq_w4a16_gemv, hfq_gptq_w4a16_gemm, hfq_gptq_w8a16_gemv, hfq_gptq_w8a16_gemm, hfq_gptq_generic, hfq_ref_gptq)
// NOREPORT: error: cannot read the dispatch report '{{.*}}.missing.json'
func.func @prefill(%x: tensor<128x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                   %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<128x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<128x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<128x128xf16>
  return %y : tensor<128x128xf16>
}
