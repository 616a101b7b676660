// RUN: hfq-opt --hfq-spec-path=%S/Inputs/layout-bugs %s -split-input-file -verify-diagnostics

// Specs that load but lay out some layers wrongly
// (Inputs/layout-bugs/layout-bugs.json): the verifier blames the spec.

// A guard layout (no tensors) applies, yet none of its requirements fires.
func.func @guard_applies_silently(%x: tensor<1x64xf16>, %w: tensor<128x64xi8>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'guard_bug' cannot lay out this layer (N = 128, K = 64): the guard layout at /quantizers/0/layouts/0 applies but none of its requirements explains why}}
  %y = hfq.qlinear "l" %x, packed(%w) method <"guard_bug", {bits = 8 : i64}>
      : tensor<1x64xf16>, (tensor<128x64xi8>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// The same spec is fine where the guard does not apply (bits == 4).
func.func @guard_skipped(%x: tensor<1x64xf16>, %w: tensor<128x64xi8>) -> tensor<1x128xf16> {
  %y = hfq.qlinear "l" %x, packed(%w) method <"guard_bug", {bits = 4 : i64}>
      : tensor<1x64xf16>, (tensor<128x64xi8>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// A dtype expression yielding a torch dtype name instead of an MLIR one.
func.func @dtype_not_element_type(%x: tensor<1x64xf16>, %w: tensor<128x64xi8>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'dtype_bug' cannot lay out this layer (N = 128, K = 64): the dtype of tensor 'weight' evaluates to 'int8', not an element type name}}
  %y = hfq.qlinear "l" %x, packed(%w) method <"dtype_bug", {}>
      : tensor<1x64xf16>, (tensor<128x64xi8>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// A tensor declared twice under overlapping conditions.
func.func @tensor_twice(%x: tensor<1x64xf16>, %w: tensor<128x64xi8>, %s: tensor<128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'twice_bug' cannot lay out this layer (N = 128, K = 64): tensor 'scale' is present twice for this config (the 'when's of its declarations overlap)}}
  %y = hfq.qlinear "l" %x, packed(%w, %s) method <"twice_bug", {}>
      : tensor<1x64xf16>, (tensor<128x64xi8>, tensor<128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}
