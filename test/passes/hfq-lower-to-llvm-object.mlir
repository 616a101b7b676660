// The AOT route to the GPU machine: lowered IR becomes an object file that
// calls the kernel ABI, to be linked with libhfq_kernels_ref.so or the CUDA
// kernels that implement the same symbols.
// RUN: hfq-opt %s --hfq-lower-to-llvm=target=sm_90 | mlir-translate --mlir-to-llvmir | llc -O2 -filetype=obj -relocation-model=pic -o %t.o
// RUN: llvm-nm %t.o | FileCheck %s
// RUN: hfq-opt %s --hfq-lower-to-llvm=target=cpu | mlir-translate --mlir-to-llvmir | llc -O2 -filetype=obj -relocation-model=pic -o %t.cpu.o
// RUN: llvm-nm %t.cpu.o | FileCheck %s --check-prefix=CPU

// On sm_90 a decode step runs the 4-bit GEMV; on the CPU the reference.
// CHECK-DAG: U _mlir_ciface_hfq_gptq_w4a16_gemv_f16
// CHECK-DAG: U hfq_kernel_check
// CHECK-DAG: T decode
// CPU-DAG: U _mlir_ciface_hfq_ref_gptq_f16
// CPU-DAG: T decode

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @decode(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                  %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}
