// Kernels a spec plans but no runtime provides yet ("planned" in the
// kernel rule): selection passes over them and says why, forcing one is an
// error, so lowered IR never calls a symbol that does not exist.
// RUN: hfq-opt %s --hfq-select-kernel=target=sm_90 --mlir-print-local-scope | FileCheck %s --check-prefix=AUTO
// RUN: not hfq-opt %s --hfq-select-kernel="target=sm_90 force-kernel=hfq_bitnet_w2a8" 2>&1 | FileCheck %s --check-prefix=FORCED
// RUN: hfq-opt %s --hfq-select-kernel="target=sm_90 force-kernel=hfq_ref_bitnet" --mlir-print-local-scope | FileCheck %s --check-prefix=REF

// AUTO-LABEL: func.func @bitnet
// AUTO: kernel = "hfq_ref_bitnet", rejected_kernels = ["hfq_bitnet_w2a8: planned, not implemented yet (a CUDA ternary-weight kernel; the reference runs BitNet meanwhile)"]
// FORCED: error: 'hfq.qlinear' op the forced kernel 'hfq_bitnet_w2a8' is planned but not implemented yet (a CUDA ternary-weight kernel; the reference runs BitNet meanwhile)
// REF-LABEL: func.func @bitnet
// REF: kernel = "hfq_ref_bitnet"
func.func @bitnet(%x: tensor<4x64xbf16>, %w: tensor<32x64xui8>, %s: tensor<1xbf16>) -> tensor<4x128xbf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s)
      method <"bitnet", {}>
      : tensor<4x64xbf16>, (tensor<32x64xui8>, tensor<1xbf16>) -> tensor<4x128xbf16>
  return %y : tensor<4x128xbf16>
}
