// The attributes --hfq-dispatch records: a quantized op's resolved layout
// (#hfq.layout, after the types, printed under an alias) and the decision
// on the module (#hfq.json, JSON with its key order). Both round-trip, in
// the custom and in the generic form.
// RUN: hfq-opt %s | FileCheck %s
// RUN: hfq-opt %s | hfq-opt | FileCheck %s
// RUN: hfq-opt %s --mlir-print-op-generic | hfq-opt | FileCheck %s

// Keys keep their order (z before a); strings are MLIR string literals;
// integers, floats (always with their '.'), true, false and null as in
// JSON; an integer beyond int64 carries its type.
// CHECK:       #layout = #hfq.layout<(qweight: tensor<8x128xi32>, qzeros: tensor<2x16xi32>, scales: tensor<2x128xf16>, g_idx: tensor<64xi32>), args(bits = 4.0, group_size = 32.0, zero_stored_minus_one = 1.0)>
// CHECK:       #layout1 = #hfq.layout<(weight: tensor<128x64xi8>, SCB: tensor<128xf32>), args(threshold = 6.500000e+00, k = -1.0)>
// CHECK:       module attributes {hfq.dispatch = #hfq.json<{"z": [true, false, null, "say \22hi\22"], "a": {"n": -3, "x": 1.500000e+00, "big": 18446744073709551615 : ui64}, "empty": {}, "none": []}>}
// CHECK-LABEL: func.func @recorded(
// CHECK:         hfq.qlinear "model.layers.0.mlp.up_proj" %{{.*}} method #gptq : {{.*}} -> tensor<1x128xf16> layout #layout
// CHECK:         hfq.qlinear "model.layers.0.mlp.gate_proj" %{{.*}} method #gptq {kernel = "hfq_gptq_w4a16_gemv"} : {{.*}} -> tensor<1x128xf16> layout #layout
// CHECK-LABEL: func.func @quantize(
// CHECK:         hfq.quantize "model.layers.0.mlp.up_proj" %{{.*}} method #bitsandbytes_8bit {kernel = "hfq_ref_bnb8"} : tensor<128x64xf32> -> (tensor<128x64xi8>, tensor<128xf32>) layout #layout1

#gptq = #hfq.method<"gptq", {bits = 4 : i64, group_size = 32 : i64}>
#bnb8 = #hfq.method<"bitsandbytes_8bit", {load_in_8bit = true}>
#l = #hfq.layout<(qweight: tensor<8x128xi32>, qzeros: tensor<2x16xi32>, scales: tensor<2x128xf16>, "g_idx": tensor<64xi32>),
                 args(bits = 4, group_size = 32.0, zero_stored_minus_one = 1)>
module attributes {hfq.dispatch = #hfq.json<{"z": [true, false, null, "say \22hi\22"],
    "a": {"n": -3, "x": 1.5, "big": 18446744073709551615 : ui64}, "empty": {}, "none": []}>} {
  func.func @recorded(%x: tensor<1x64xf16>, %qw: tensor<8x128xi32>, %qz: tensor<2x16xi32>,
                      %s: tensor<2x128xf16>, %g: tensor<64xi32>) -> (tensor<1x128xf16>, tensor<1x128xf16>) {
    %y = hfq.qlinear "model.layers.0.mlp.up_proj" %x, packed(%qw, %qz, %s, %g) method #gptq
        : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
        layout #l
    %z = hfq.qlinear "model.layers.0.mlp.gate_proj" %x, packed(%qw, %qz, %s, %g) method #gptq {kernel = "hfq_gptq_w4a16_gemv"}
        : tensor<1x64xf16>, (tensor<8x128xi32>, tensor<2x16xi32>, tensor<2x128xf16>, tensor<64xi32>) -> tensor<1x128xf16>
        layout #l
    return %y, %z : tensor<1x128xf16>, tensor<1x128xf16>
  }

  func.func @quantize(%w: tensor<128x64xf32>) -> (tensor<128x64xi8>, tensor<128xf32>) {
    %q:2 = hfq.quantize "model.layers.0.mlp.up_proj" %w method #bnb8 {kernel = "hfq_ref_bnb8"}
        : tensor<128x64xf32> -> (tensor<128x64xi8>, tensor<128xf32>)
        layout #hfq.layout<(weight: tensor<128x64xi8>, SCB: tensor<128xf32>), args(threshold = 6.5, k = -1)>
    return %q#0, %q#1 : tensor<128x64xi8>, tensor<128xf32>
  }
}
