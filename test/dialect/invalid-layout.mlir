// A recorded layout is what the verifier checks the packed tensors against
// (the registry is consulted only for ops without one), with the messages
// of the registry's check; and what #hfq.layout / #hfq.json refuse.
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --allow-unregistered-dialect

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
#l = #hfq.layout<(qweight: tensor<8x128xi32>, qzeros: tensor<2x16xi32>, scales: tensor<2x128xf16>, g_idx: tensor<64xi32>), args(bits = 4, group_size = 32, zero_stored_minus_one = 1)>
func.func @wrong_type(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x8xi32>,
                      %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op packed tensor #1 ('qzeros') of method 'gptq' must be tensor<2x16xi32>, got tensor<2x8xi32>}}
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x8xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
      layout #l
  return %y : tensor<1x128xf16>
}

// -----

// The recorded layout says three tensors: the registry's four do not count.
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
#l = #hfq.layout<(qweight: tensor<8x128xi32>, qzeros: tensor<2x16xi32>, scales: tensor<2x128xf16>)>
func.func @wrong_count(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                       %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'gptq' expects 3 packed tensors (qweight, qzeros, scales) for this config, got 4}}
  %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
      layout #l
  return %y : tensor<1x128xf16>
}

// -----

#bnb8 = #hfq.method<"bitsandbytes_8bit", {load_in_8bit = true}>
func.func @quantize_result(%w: tensor<128x64xf32>) -> tensor<128x64xi8> {
  // expected-error @+1 {{'hfq.quantize' op result tensor #1 ('SCB') of method 'bitsandbytes_8bit' must be tensor<128xf32>, got tensor<64xf32>}}
  %q:2 = hfq.quantize "model.layers.0.mlp.up_proj" %w method #bnb8
      : tensor<128x64xf32> -> (tensor<128x64xi8>, tensor<64xf32>)
      layout #hfq.layout<(CB: tensor<128x64xi8>, SCB: tensor<128xf32>)>
  return %q#0 : tensor<128x64xi8>
}

// -----

func.func @not_a_tensor() {
  // expected-error @+1 {{layout tensor type must be a ranked tensor, got 'i8'}}
  "test.op"() {l = #hfq.layout<(w: i8)>} : () -> ()
  return
}

// -----

func.func @not_a_number() {
  // expected-error @+1 {{expected a number, got "four"}}
  "test.op"() {l = #hfq.layout<(w: tensor<2xi8>), args(bits = "four")>} : () -> ()
  return
}

// -----

func.func @not_json() {
  // expected-error @+1 {{expected ':'}}
  "test.op"() {j = #hfq.json<{"a" 1}>} : () -> ()
  return
}

// -----

func.func @not_a_json_value() {
  // expected-error @+1 {{expected a JSON value, got unit}}
  "test.op"() {j = #hfq.json<[unit]>} : () -> ()
  return
}
