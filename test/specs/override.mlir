// A run-time spec may replace a built-in key when it says so ("overrides":
// true): Inputs/override/eetq.json re-declares 'eetq' with another config
// class, an untransposed int8 weight with f32 scales, and one kernel.

// The key keeps its place in the registry, with the new classes and kernels.
// RUN: hfq-opt --hfq-spec-path=%S/Inputs/override --hfq-list-methods | FileCheck %s --check-prefix=LIST
// LIST:      {{^}}fp_quant{{ }}
// LIST-NEXT: {{^}}eetq{{ +}}EetqToyConfig{{ +}}EetqToyHfQuantizer{{ +}}no{{ +}}eetq_toy_ref{{$}}
// LIST-NEXT: {{^}}higgs{{ }}

// The verifier and the kernel rules use the replacement.
// RUN: hfq-opt --hfq-spec-path=%S/Inputs/override %s -split-input-file -verify-diagnostics --hfq-select-kernel=target=sm_90 | FileCheck %s

// weight [N, K] i8 and weight_scales [N] f32 (the built-in spec has [K, N]
// and f16); the only kernel is the new reference.
// CHECK-LABEL: func.func @eetq_override(
// CHECK:         {kernel = "eetq_toy_ref"} : tensor<1x64xf16>, (tensor<128x64xi8>, tensor<128xf32>) -> tensor<1x128xf16>
func.func @eetq_override(%x: tensor<1x64xf16>, %w: tensor<128x64xi8>, %s: tensor<128xf32>) -> tensor<1x128xf16> {
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s) method <"eetq", {weights = "int8"}>
      : tensor<1x64xf16>, (tensor<128x64xi8>, tensor<128xf32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// The built-in layout no longer verifies.
func.func @eetq_builtin_layout(%x: tensor<1x64xf16>, %w: tensor<64x128xi8>, %s: tensor<128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op packed tensor #0 ('weight') of method 'eetq' must be tensor<128x64xi8>, got tensor<64x128xi8>}}
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s) method <"eetq", {weights = "int8"}>
      : tensor<1x64xf16>, (tensor<64x128xi8>, tensor<128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// Nor does the built-in config class's field set: this one has no
// modules_to_not_convert.
func.func @eetq_builtin_field(%x: tensor<1x64xf16>, %w: tensor<128x64xi8>, %s: tensor<128xf32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op config of method 'eetq' has no field 'modules_to_not_convert' (EetqToyConfig is declared in }}
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%w, %s) method <"eetq", {modules_to_not_convert = ["lm_head"]}>
      : tensor<1x64xf16>, (tensor<128x64xi8>, tensor<128xf32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}
