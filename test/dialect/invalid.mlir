// RUN: hfq-opt %s -split-input-file -verify-diagnostics

// One case per diagnostic of the hfq verifiers (dialect/HFQOps.cpp), then
// the ODS-generated ones. Methods are written in the op's short form
// `method <"key", {...}>`.

//===----------------------------------------------------------------------===//
// hfq.weight
//===----------------------------------------------------------------------===//

// A checkpoint tensor needs its name.
func.func @weight_empty_name() -> tensor<8x128xi32> {
  // expected-error @+1 {{'hfq.weight' op needs the tensor's checkpoint name}}
  %w = hfq.weight "" : tensor<8x128xi32>
  return %w : tensor<8x128xi32>
}

// -----

//===----------------------------------------------------------------------===//
// hfq.linear
//===----------------------------------------------------------------------===//

// The module path must not be empty.
func.func @linear_empty_name(%x: tensor<4x64xf32>, %w: tensor<128x64xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'hfq.linear' op needs a non-empty module name}}
  %y = hfq.linear "" %x, %w : tensor<4x64xf32>, tensor<128x64xf32> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// The weight is [N, K].
func.func @linear_weight_rank(%x: tensor<4x64xf32>, %w: tensor<2x128x64xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'hfq.linear' op weight must be 2-D [N, K], got 'tensor<2x128x64xf32>'}}
  %y = hfq.linear "l" %x, %w : tensor<4x64xf32>, tensor<2x128x64xf32> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// An unquantized weight is floating point.
func.func @linear_weight_int(%x: tensor<4x64xf32>, %w: tensor<128x64xi8>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'hfq.linear' op weight must have a floating-point element type, got 'i8'}}
  %y = hfq.linear "l" %x, %w : tensor<4x64xf32>, tensor<128x64xi8> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// The input's last dimension is K.
func.func @linear_k_mismatch(%x: tensor<4x32xf32>, %w: tensor<128x64xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'hfq.linear' op input's last dimension (32) must equal K of the [N, K] weight (64)}}
  %y = hfq.linear "l" %x, %w : tensor<4x32xf32>, tensor<128x64xf32> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// A scalar input has no K.
func.func @linear_input_rank0(%x: tensor<f32>, %w: tensor<128x64xf32>) -> tensor<f32> {
  // expected-error @+1 {{'hfq.linear' op input must have rank >= 1 ([..., K]), got 'tensor<f32>'}}
  %y = hfq.linear "l" %x, %w : tensor<f32>, tensor<128x64xf32> -> tensor<f32>
  return %y : tensor<f32>
}

// -----

// Activations are floating point.
func.func @linear_input_int(%x: tensor<4x64xi32>, %w: tensor<128x64xf32>) -> tensor<4x128xi32> {
  // expected-error @+1 {{'hfq.linear' op input must have a floating-point element type, got 'i32'}}
  %y = hfq.linear "l" %x, %w : tensor<4x64xi32>, tensor<128x64xf32> -> tensor<4x128xi32>
  return %y : tensor<4x128xi32>
}

// -----

// The result has the input's rank...
func.func @linear_result_rank(%x: tensor<2x4x64xf32>, %w: tensor<128x64xf32>) -> tensor<8x128xf32> {
  // expected-error @+1 {{'hfq.linear' op result must have the input's rank (3), got 'tensor<8x128xf32>'}}
  %y = hfq.linear "l" %x, %w : tensor<2x4x64xf32>, tensor<128x64xf32> -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// ...its element type...
func.func @linear_result_elem(%x: tensor<4x64xf16>, %w: tensor<128x64xf16>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'hfq.linear' op result element type 'f32' must match the input's ('f16')}}
  %y = hfq.linear "l" %x, %w : tensor<4x64xf16>, tensor<128x64xf16> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// ...its leading dimensions...
func.func @linear_result_dim(%x: tensor<2x4x64xf32>, %w: tensor<128x64xf32>) -> tensor<2x5x128xf32> {
  // expected-error @+1 {{'hfq.linear' op result dimension 1 (5) must match the input's (4)}}
  %y = hfq.linear "l" %x, %w : tensor<2x4x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  return %y : tensor<2x5x128xf32>
}

// -----

// ...and N as its last dimension.
func.func @linear_result_n(%x: tensor<4x64xf32>, %w: tensor<128x64xf32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{'hfq.linear' op result's last dimension (64) must be the layer's N (128)}}
  %y = hfq.linear "l" %x, %w : tensor<4x64xf32>, tensor<128x64xf32> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

// -----

// The bias is [N]...
func.func @linear_bias_rank(%x: tensor<4x64xf32>, %w: tensor<128x64xf32>, %b: tensor<1x128xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'hfq.linear' op bias must be a 1-D tensor [N], got 'tensor<1x128xf32>'}}
  %y = hfq.linear "l" %x, %w, bias %b : tensor<4x64xf32>, tensor<128x64xf32>, tensor<1x128xf32> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

func.func @linear_bias_size(%x: tensor<4x64xf32>, %w: tensor<128x64xf32>, %b: tensor<64xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'hfq.linear' op bias has 64 elements but the layer's N is 128}}
  %y = hfq.linear "l" %x, %w, bias %b : tensor<4x64xf32>, tensor<128x64xf32>, tensor<64xf32> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// ...of floats.
func.func @linear_bias_int(%x: tensor<4x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xi32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'hfq.linear' op bias must have a floating-point element type, got 'i32'}}
  %y = hfq.linear "l" %x, %w, bias %b : tensor<4x64xf32>, tensor<128x64xf32>, tensor<128xi32> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

//===----------------------------------------------------------------------===//
// hfq.qlinear: activations, bias, kernel
//===----------------------------------------------------------------------===//

// -----

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @qlinear_empty_name(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op needs a non-empty module name}}
  %y = hfq.qlinear "" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @qlinear_input_rank0(%x: tensor<f16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op input must have rank >= 1 ([..., K]), got 'tensor<f16>'}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<f16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<128xf16>
  return %y : tensor<128xf16>
}

// -----

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @qlinear_input_int(%x: tensor<1x64xi8>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xi8> {
  // expected-error @+1 {{'hfq.qlinear' op input must have a floating-point element type, got 'i8'}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xi8>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xi8>
  return %y : tensor<1x128xi8>
}

// -----

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @qlinear_result_rank(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op result must have the input's rank (2), got 'tensor<128xf16>'}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<128xf16>
  return %y : tensor<128xf16>
}

// -----

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @qlinear_result_elem(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xbf16> {
  // expected-error @+1 {{'hfq.qlinear' op result element type 'bf16' must match the input's ('f16')}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xbf16>
  return %y : tensor<1x128xbf16>
}

// -----

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @qlinear_result_dim(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<2x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op result dimension 0 (2) must match the input's (1)}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<2x128xf16>
  return %y : tensor<2x128xf16>
}

// -----

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @qlinear_bias_rank(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>, %b: tensor<f16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op bias must be a 1-D tensor [N], got 'tensor<f16>'}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g), bias %b method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>), tensor<f16> -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// For hfq.qlinear, N is the result's last dimension.
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @qlinear_bias_size(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>, %b: tensor<64xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op bias has 64 elements but the layer's N is 128}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g), bias %b method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>), tensor<64xf16> -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @qlinear_bias_int(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>, %b: tensor<128xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op bias must have a floating-point element type, got 'i32'}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g), bias %b method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>), tensor<128xi32> -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// A `kernel` attribute names a kernel.
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @qlinear_empty_kernel(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op 'kernel' must name a kernel when present}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq {kernel = ""}
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

//===----------------------------------------------------------------------===//
// hfq.qlinear: the method and its config
//===----------------------------------------------------------------------===//

// -----

// The key must be registered; the message lists the registry in
// transformers' order.
func.func @unknown_method(%x: tensor<1x64xf16>, %w: tensor<128x64xi8>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op unknown quantization method 'int4' (registered: awq, bitsandbytes_4bit, bitsandbytes_8bit, gptq, aqlm, quanto,}}
  %y = hfq.qlinear "l" %x, packed(%w) method <"int4", {}>
      : tensor<1x64xf16>, (tensor<128x64xi8>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// Only the config class's fields (and quant_method) may appear.
func.func @unknown_field(%x: tensor<1x64xf16>, %w: tensor<64x128xi8>, %s: tensor<128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op config of method 'eetq' has no field 'bits' (EetqConfig is declared in specs/eetq.json)}}
  %y = hfq.qlinear "l" %x, packed(%w, %s) method <"eetq", {bits = 8 : i64}>
      : tensor<1x64xf16>, (tensor<64x128xi8>, tensor<128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// A config value is JSON: a type is not one.
func.func @non_json_value(%x: tensor<1x64xf16>, %w: tensor<64x128xi8>, %s: tensor<128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op config field 'modules_to_not_convert' holds [i32], which is not a config value}}
  %y = hfq.qlinear "l" %x, packed(%w, %s) method <"eetq", {modules_to_not_convert = [i32]}>
      : tensor<1x64xf16>, (tensor<64x128xi8>, tensor<128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// An integer beyond int64 is not a config value (rather than its low bits:
// 2^64 + 4 is not 4).
func.func @int_out_of_range(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op config field 'bits' holds 18446744073709551620 : i128, which is not a config value}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method <"gptq", {bits = 18446744073709551620 : i128}>
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// Values have the declared field type (GPTQConfig.bits is an int).
func.func @wrong_value_type(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op config field 'bits' of method 'gptq' must be int, got '4'}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method <"gptq", {bits = "4"}>
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// Python's isinstance: 6 is not a float (BitsAndBytesConfig.llm_int8_threshold).
func.func @int_for_float(%x: tensor<1x64xf16>, %cb: tensor<128x64xi8>, %scb: tensor<128xf32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op config field 'llm_int8_threshold' of method 'bitsandbytes_8bit' must be float, got 6}}
  %y = hfq.qlinear "l" %x, packed(%cb, %scb) method <"bitsandbytes_8bit", {load_in_8bit = true, llm_int8_threshold = 6 : i64}>
      : tensor<1x64xf16>, (tensor<128x64xi8>, tensor<128xf32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// A field whose default is None accepts #hfq.none, and says so.
func.func @nullable_wrong_type(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op config field 'model_seqlen' of method 'gptq' must be None or int, got True}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method <"gptq", {bits = 4 : i64, model_seqlen = true}>
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// #hfq.none is rejected where the field is not nullable.
func.func @none_not_nullable(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op config field 'bits' of method 'gptq' must be int, got None}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method <"gptq", {bits = #hfq.none}>
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// GPTQConfig.bits has no default.
func.func @missing_required(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op config of method 'gptq' lacks the required field 'bits'}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method <"gptq", {group_size = 32 : i64}>
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// compressed-tensors resolves a scheme per module: it must be given...
func.func @missing_scheme(%x: tensor<1x64xbf16>, %w: tensor<128x64xi8>, %s: tensor<128x1xbf16>) -> tensor<1x128xbf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'compressed-tensors' needs a 'scheme' attribute: the entry of 'config_groups' that targets this layer}}
  %y = hfq.qlinear "l" %x, packed(%w, %s) method <"compressed-tensors", {format = "int-quantized"}>
      : tensor<1x64xbf16>, (tensor<128x64xi8>, tensor<128x1xbf16>) -> tensor<1x128xbf16>
  return %y : tensor<1x128xbf16>
}

// -----

// ...and other methods have none.
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @unexpected_scheme(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'gptq' has no per-module schemes; remove 'scheme'}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq {scheme = {weights = {num_bits = 4 : i64}}}
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

//===----------------------------------------------------------------------===//
// hfq.qlinear: the packed tensors against the spec's layout
//===----------------------------------------------------------------------===//

// -----

// The layout needs a static K...
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @dynamic_k(%x: tensor<1x?xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'gptq' needs static N and K to lay out its tensors, got N = 128, K = ?}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x?xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// ...and a static N (a dynamic M is fine).
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @dynamic_n(%x: tensor<?x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<?x?xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'gptq' needs static N and K to lay out its tensors, got N = ?, K = 64}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<?x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<?x?xf16>
  return %y : tensor<?x?xf16>
}

// -----

// A layout `require` entry fires: 4-bit GPTQ packs K in int32 words of 8.
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 20 : i64}>
func.func @gptq_k_not_packable(%x: tensor<1x60xf16>, %qw: tensor<7x128xi32>, %qz: tensor<3x16xi32>, %s: tensor<3x128xf16>, %g: tensor<60xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'gptq' cannot lay out this layer (N = 128, K = 60): K (60) must be a multiple of 8 to pack 4-bit GPTQ weights into int32 words}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x60xf16>, (tensor<7x128xi32>, tensor<3x16xi32>, tensor<3x128xf16>, tensor<60xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// A guard layout (no tensors) explains why a config has no layout.
func.func @hqq_guard(%x: tensor<1x64xbf16>, %w: tensor<64x64xui8>) -> tensor<1x128xbf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'hqq' cannot lay out this layer (N = 128, K = 64): HQQ nbits=7 is not supported (hqq supports 8, 6, 5, 4, 3, 2, 1.58, 1)}}
  %y = hfq.qlinear "l" %x, packed(%w) method <"hqq", {quant_config = {weight_quant_params = {nbits = 7 : i64, group_size = 64 : i64, axis = 1 : i64}}}>
      : tensor<1x64xbf16>, (tensor<64x64xui8>) -> tensor<1x128xbf16>
  return %y : tensor<1x128xbf16>
}

// -----

// No layout's `when` holds (quanto has int8, float8, int4 and int2 layouts).
func.func @no_layout_applies(%x: tensor<1x64xf16>, %w: tensor<128x64xi8>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'quanto' cannot lay out this layer (N = 128, K = 64): no layout of 'quanto' applies to this config}}
  %y = hfq.qlinear "l" %x, packed(%w) method <"quanto", {weights = "int3"}>
      : tensor<1x64xf16>, (tensor<128x64xi8>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// A config the layout's expressions cannot evaluate (HQQ's
// weight_quant_params is a dict; here it is an int).
func.func @layout_eval_error(%x: tensor<1x64xbf16>, %w: tensor<64x64xui8>) -> tensor<1x128xbf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'hqq' cannot lay out this layer (N = 128, K = 64): cannot evaluate layout condition 'quant_config.weight_quant_params.nbits in [8, 6, 5]':}}
  %y = hfq.qlinear "l" %x, packed(%w) method <"hqq", {quant_config = {weight_quant_params = 4 : i64}}>
      : tensor<1x64xbf16>, (tensor<64x64xui8>) -> tensor<1x128xbf16>
  return %y : tensor<1x128xbf16>
}

// -----

// A dimension that is not an integer (group_size 64.0 makes R a float).
func.func @layout_float_dim(%x: tensor<1x64xbf16>, %w: tensor<64x64xui8>, %s: tensor<128x1xf16>, %z: tensor<128x1xf16>) -> tensor<1x128xbf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'hqq' cannot lay out this layer (N = 128, K = 64): dimension 'R // 2' of tensor 'W_q' evaluates to 64.0, not a non-negative integer}}
  %y = hfq.qlinear "l" %x, packed(%w, %s, %z) method <"hqq", {quant_config = {weight_quant_params = {nbits = 4 : i64, group_size = 64.0 : f64, axis = 1 : i64}}}>
      : tensor<1x64xbf16>, (tensor<64x64xui8>, tensor<128x1xf16>, tensor<128x1xf16>) -> tensor<1x128xbf16>
  return %y : tensor<1x128xbf16>
}

// -----

// The number of packed tensors is the layout's (g_idx is missing here).
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @wrong_packed_count(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'gptq' expects 4 packed tensors (qweight, qzeros, scales, g_idx) for this config, got 3}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// Conditional tensors count: double quantization adds three.
func.func @bnb_double_quant_count(%x: tensor<1x64xbf16>, %w: tensor<4096x1xui8>, %absmax: tensor<128xui8>, %qmap: tensor<16xf32>) -> tensor<1x128xbf16> {
  // expected-error @+1 {{'hfq.qlinear' op method 'bitsandbytes_4bit' expects 6 packed tensors (weight, weight.absmax, weight.quant_map, weight.nested_absmax, weight.nested_quant_map, weight.nested_offset) for this config, got 3}}
  %y = hfq.qlinear "l" %x, packed(%w, %absmax, %qmap) method <"bitsandbytes_4bit", {load_in_4bit = true, bnb_4bit_use_double_quant = true}>
      : tensor<1x64xbf16>, (tensor<4096x1xui8>, tensor<128xui8>, tensor<16xf32>) -> tensor<1x128xbf16>
  return %y : tensor<1x128xbf16>
}

// -----

// A packed tensor of the wrong shape is named, with the type it must have.
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @wrong_packed_shape(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x128xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op packed tensor #1 ('qzeros') of method 'gptq' must be tensor<2x16xi32>, got tensor<2x128xi32>}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x128xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// ...or of the wrong element type.
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @wrong_packed_elem(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xbf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op packed tensor #2 ('scales') of method 'gptq' must be tensor<2x128xf16>, got tensor<2x128xbf16>}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xbf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// A dynamic dimension in a packed tensor does not match a static layout.
#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
func.func @dynamic_packed_dim(%x: tensor<1x64xf16>, %qw: tensor<?x128xi32>, %qz: tensor<2x16xi32>, %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op packed tensor #0 ('qweight') of method 'gptq' must be tensor<8x128xi32>, got tensor<?x128xi32>}}
  %y = hfq.qlinear "l" %x, packed(%qw, %qz, %s, %g) method #gptq
      : tensor<1x64xf16>, (tensor<?x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

//===----------------------------------------------------------------------===//
// hfq.quantize
//===----------------------------------------------------------------------===//

// -----

func.func @quantize_empty_name(%w: tensor<128x64xf32>) -> (tensor<128x64xi8>, tensor<128xf32>) {
  // expected-error @+1 {{'hfq.quantize' op needs a non-empty module name}}
  %q:2 = hfq.quantize "" %w method <"bitsandbytes_8bit", {load_in_8bit = true}>
      : tensor<128x64xf32> -> (tensor<128x64xi8>, tensor<128xf32>)
  return %q#0, %q#1 : tensor<128x64xi8>, tensor<128xf32>
}

// -----

func.func @quantize_weight_rank(%w: tensor<8192xf32>) -> (tensor<128x64xi8>, tensor<128xf32>) {
  // expected-error @+1 {{'hfq.quantize' op weight must be a 2-D [N, K] float tensor, got 'tensor<8192xf32>'}}
  %q:2 = hfq.quantize "l" %w method <"bitsandbytes_8bit", {load_in_8bit = true}>
      : tensor<8192xf32> -> (tensor<128x64xi8>, tensor<128xf32>)
  return %q#0, %q#1 : tensor<128x64xi8>, tensor<128xf32>
}

// -----

// Quantizing an already quantized weight.
func.func @quantize_weight_int(%w: tensor<128x64xi8>) -> (tensor<128x64xi8>, tensor<128xf32>) {
  // expected-error @+1 {{'hfq.quantize' op weight must be a 2-D [N, K] float tensor, got 'tensor<128x64xi8>'}}
  %q:2 = hfq.quantize "l" %w method <"bitsandbytes_8bit", {load_in_8bit = true}>
      : tensor<128x64xi8> -> (tensor<128x64xi8>, tensor<128xf32>)
  return %q#0, %q#1 : tensor<128x64xi8>, tensor<128xf32>
}

// -----

// hfq.quantize shares the method checks.
func.func @quantize_unknown_method(%w: tensor<128x64xf32>) -> tensor<128x64xi8> {
  // expected-error @+1 {{'hfq.quantize' op unknown quantization method 'bnb' (registered: awq,}}
  %q = hfq.quantize "l" %w method <"bnb", {}> : tensor<128x64xf32> -> (tensor<128x64xi8>)
  return %q : tensor<128x64xi8>
}

// -----

func.func @quantize_missing_scheme(%w: tensor<128x64xbf16>) -> (tensor<128x64xi8>, tensor<128x1xbf16>) {
  // expected-error @+1 {{'hfq.quantize' op method 'compressed-tensors' needs a 'scheme' attribute}}
  %q:2 = hfq.quantize "l" %w method <"compressed-tensors", {format = "int-quantized"}>
      : tensor<128x64xbf16> -> (tensor<128x64xi8>, tensor<128x1xbf16>)
  return %q#0, %q#1 : tensor<128x64xi8>, tensor<128x1xbf16>
}

// -----

// The results are the layout's tensors: their count...
func.func @quantize_result_count(%w: tensor<128x64xf32>) -> tensor<128x64xi8> {
  // expected-error @+1 {{'hfq.quantize' op method 'bitsandbytes_8bit' expects 2 result tensors (weight, SCB) for this config, got 1}}
  %q = hfq.quantize "l" %w method <"bitsandbytes_8bit", {load_in_8bit = true}>
      : tensor<128x64xf32> -> (tensor<128x64xi8>)
  return %q : tensor<128x64xi8>
}

// -----

// ...and their types.
func.func @quantize_result_type(%w: tensor<128x64xf32>) -> (tensor<64x128xi8>, tensor<128xf32>) {
  // expected-error @+1 {{'hfq.quantize' op result tensor #0 ('weight') of method 'bitsandbytes_8bit' must be tensor<128x64xi8>, got tensor<64x128xi8>}}
  %q:2 = hfq.quantize "l" %w method <"bitsandbytes_8bit", {load_in_8bit = true}>
      : tensor<128x64xf32> -> (tensor<64x128xi8>, tensor<128xf32>)
  return %q#0, %q#1 : tensor<64x128xi8>, tensor<128xf32>
}

// -----

// The layout's requirements apply to quantization too.
func.func @quantize_layout_requirement(%w: tensor<128x64xf32>) -> (tensor<128x64xi8>, tensor<128xf32>) {
  // expected-error @+1 {{'hfq.quantize' op method 'bitsandbytes_8bit' cannot lay out this layer (N = 128, K = 64): llm_int8_has_fp16_weight=True keeps 16-bit weights}}
  %q:2 = hfq.quantize "l" %w method <"bitsandbytes_8bit", {load_in_8bit = true, llm_int8_has_fp16_weight = true}>
      : tensor<128x64xf32> -> (tensor<128x64xi8>, tensor<128xf32>)
  return %q#0, %q#1 : tensor<128x64xi8>, tensor<128xf32>
}

//===----------------------------------------------------------------------===//
// ODS-generated checks
//===----------------------------------------------------------------------===//

// -----

// Operands are ranked tensors (the custom form cannot even spell this).
func.func @unranked_input(%x: tensor<*xf32>, %w: tensor<128x64xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'hfq.linear' op operand #0 must be ranked tensor of any type values, but got 'tensor<*xf32>'}}
  %y = "hfq.linear"(%x, %w) <{name = "l"}> : (tensor<*xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

func.func @unranked_input_custom(%x: tensor<*xf32>, %w: tensor<128x64xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xf32>'}}
  %y = hfq.linear "l" %x, %w : tensor<*xf32>, tensor<128x64xf32> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

func.func @missing_name(%x: tensor<4x64xf32>, %w: tensor<128x64xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'hfq.linear' op requires attribute 'name'}}
  %y = "hfq.linear"(%x, %w) : (tensor<4x64xf32>, tensor<128x64xf32>) -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// Properties have their declared attribute kinds.
func.func @method_not_a_method(%x: tensor<1x64xf16>, %w: tensor<64x128xi8>, %s: tensor<128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{Invalid attribute `method` in property conversion: "eetq"}}
  %y = "hfq.qlinear"(%x, %w, %s) <{name = "l", method = "eetq", operandSegmentSizes = array<i32: 1, 2, 0>}>
      : (tensor<1x64xf16>, tensor<64x128xi8>, tensor<128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

func.func @kernel_not_a_string(%x: tensor<1x64xf16>, %w: tensor<64x128xi8>, %s: tensor<128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{Invalid attribute `kernel` in property conversion: 1 : i64}}
  %y = "hfq.qlinear"(%x, %w, %s) <{name = "l", method = #hfq.method<"eetq", {}>, kernel = 1 : i64, operandSegmentSizes = array<i32: 1, 2, 0>}>
      : (tensor<1x64xf16>, tensor<64x128xi8>, tensor<128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

func.func @scheme_not_a_dict(%x: tensor<1x64xf16>, %w: tensor<64x128xi8>, %s: tensor<128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{Invalid attribute `scheme` in property conversion: "channel"}}
  %y = "hfq.qlinear"(%x, %w, %s) <{name = "l", method = #hfq.method<"eetq", {}>, scheme = "channel", operandSegmentSizes = array<i32: 1, 2, 0>}>
      : (tensor<1x64xf16>, tensor<64x128xi8>, tensor<128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// The operand segments must add up to the operands.
func.func @bad_segments(%x: tensor<1x64xf16>, %w: tensor<64x128xi8>, %s: tensor<128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op operand count (3) does not match with the total size (4) specified in attribute 'operandSegmentSizes'}}
  %y = "hfq.qlinear"(%x, %w, %s) <{name = "l", method = #hfq.method<"eetq", {}>, operandSegmentSizes = array<i32: 1, 2, 1>}>
      : (tensor<1x64xf16>, tensor<64x128xi8>, tensor<128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// The optional bias is at most one operand.
func.func @two_biases(%x: tensor<1x64xf16>, %w: tensor<64x128xi8>, %s: tensor<128xf16>, %b: tensor<128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{'hfq.qlinear' op operand group starting at #3 requires 0 or 1 element, but found 2}}
  %y = "hfq.qlinear"(%x, %w, %s, %b, %b) <{name = "l", method = #hfq.method<"eetq", {}>, operandSegmentSizes = array<i32: 1, 2, 2>}>
      : (tensor<1x64xf16>, tensor<64x128xi8>, tensor<128xf16>, tensor<128xf16>, tensor<128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}

// -----

// The method attribute's parameters: a key string, then the config dict.
func.func @method_parse_error(%x: tensor<1x64xf16>, %w: tensor<64x128xi8>, %s: tensor<128xf16>) -> tensor<1x128xf16> {
  // expected-error @+1 {{expected ','}}
  %y = hfq.qlinear "l" %x, packed(%w, %s) method <"eetq">
      : tensor<1x64xf16>, (tensor<64x128xi8>, tensor<128xf16>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}
