// A method added at run time: Inputs/good/int3_toy.json declares the made-up
// key int3_toy (config class Int3ToyConfig, 3-bit layout, two kernels).
// No rebuild: --hfq-spec-path loads it, from its directory or as a file.

// It joins the registry after the built-in keys (its order, 30, is the
// largest), with its config class, pre-quantized flag and kernels.
// RUN: hfq-opt --hfq-spec-path=%S/Inputs/good --hfq-list-methods | FileCheck %s --check-prefix=LIST
// LIST:      {{^}}gemma{{ }}
// LIST-NEXT: {{^}}int3_toy{{ +}}Int3ToyConfig{{ +}}Int3ToyHfQuantizer{{ +}}yes{{ +}}int3_toy_gemv, int3_toy_ref{{$}}
// LIST-NOT:  {{.}}

// Ops using it verify against its layout (the checks read the method inline,
// --mlir-print-local-scope), and its kernel rules select.
// RUN: hfq-opt --hfq-spec-path=%S/Inputs/good %s -split-input-file -verify-diagnostics --mlir-print-local-scope | FileCheck %s
// RUN: hfq-opt --hfq-spec-path=%S/Inputs/good/int3_toy.json %s -split-input-file -verify-diagnostics --mlir-print-local-scope | FileCheck %s
// RUN: hfq-opt --hfq-spec-path=%S/Inputs/good %s -split-input-file -verify-diagnostics --hfq-select-kernel=target=sm_90 | FileCheck %s --check-prefix=KERNEL

// Without the spec the key is unknown (the registry in the message ends at fp8).
// RUN: not hfq-opt %s 2>&1 | FileCheck %s --check-prefix=NOSPEC
// NOSPEC: error: 'hfq.qlinear' op unknown quantization method 'int3_toy' (registered: awq, {{.*}}, gemma)

// Symmetric, group 32, N = 128, K = 64: qweight [N, K*3/32], scales
// [N, K/32]; asymmetric adds zeros [N, K/32].
// CHECK-LABEL: func.func @int3_toy(
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method <"int3_toy", {group_size = 32 : i64}> : tensor<1x64xf16>, (tensor<128x6xi32>, tensor<128x2xf16>) -> tensor<1x128xf16>
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj" {{.*}} method <"int3_toy", {group_size = 32 : i64, sym = false}> : tensor<16x64xf16>, (tensor<128x6xi32>, tensor<128x2xf16>, tensor<128x2xf16>) -> tensor<16x128xf16>
// KERNEL-LABEL: func.func @int3_toy(
// KERNEL:         {kernel = "int3_toy_gemv"{{.*}} : tensor<1x64xf16>
// KERNEL:         {kernel = "int3_toy_ref"{{.*}} : tensor<16x64xf16>
func.func @int3_toy(%x1: tensor<1x64xf16>, %x16: tensor<16x64xf16>, %qw: tensor<128x6xi32>,
                    %s: tensor<128x2xf16>, %z: tensor<128x2xf16>) -> (tensor<1x128xf16>, tensor<16x128xf16>) {
  %y1 = hfq.qlinear "model.layers.0.mlp.up_proj" %x1, packed(%qw, %s)
      method <"int3_toy", {group_size = 32 : i64}>
      : tensor<1x64xf16>, (tensor<128x6xi32>, tensor<128x2xf16>) -> tensor<1x128xf16>
  %y16 = hfq.qlinear "model.layers.0.mlp.up_proj" %x16, packed(%qw, %s, %z)
      method <"int3_toy", {group_size = 32 : i64, sym = false}>
      : tensor<16x64xf16>, (tensor<128x6xi32>, tensor<128x2xf16>, tensor<128x2xf16>) -> tensor<16x128xf16>
  return %y1, %y16 : tensor<1x128xf16>, tensor<16x128xf16>
}

// -----

// Its layout's requirements: K packs 32 values per three words...
func.func @int3_toy_k(%x: tensor<1x48xf16>, %qw: tensor<128x4xi32>, %s: tensor<128x1xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'int3_toy' cannot lay out this layer (N = 128, K = 48): K (48) must be a multiple of 32 to pack 3-bit values into int32 words}}
  %y = hfq.qlinear "l" %x, packed(%qw, %s) method <"int3_toy", {group_size = 48 : i64}>
      : tensor<1x48xf16>, (tensor<128x4xi32>, tensor<128x1xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// ...and the groups tile K.
func.func @int3_toy_group(%x: tensor<1x64xf16>, %qw: tensor<128x6xi32>, %s: tensor<128x1xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'int3_toy' cannot lay out this layer (N = 128, K = 64): K (64) must be a multiple of group_size (48)}}
  %y = hfq.qlinear "l" %x, packed(%qw, %s) method <"int3_toy", {group_size = 48 : i64}>
      : tensor<1x64xf16>, (tensor<128x6xi32>, tensor<128x1xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// Its config class is the spec's: GPTQ's `bits` is not a field of it.
func.func @int3_toy_field(%x: tensor<1x64xf16>, %qw: tensor<128x6xi32>, %s: tensor<128x1xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op config of method 'int3_toy' has no field 'bits' (Int3ToyConfig is declared in }}
  %y = hfq.qlinear "l" %x, packed(%qw, %s) method <"int3_toy", {bits = 3 : i64}>
      : tensor<1x64xf16>, (tensor<128x6xi32>, tensor<128x1xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}
