// hfq-bind-checkpoint reads tensors from safetensors files byte for byte
// (examples/models/gptq-model.safetensors, which test/e2e/gen/checkpoint.py writes).
// RUN: hfq-opt %s --split-input-file --hfq-bind-checkpoint=safetensors=%hfq_src_root/examples/models/gptq-model.safetensors -verify-diagnostics | FileCheck %s
// RUN: not hfq-opt %s --split-input-file --hfq-bind-checkpoint=safetensors=%t.missing.safetensors 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not hfq-opt %s --split-input-file --hfq-bind-checkpoint 2>&1 | FileCheck %s --check-prefix=NOOPTION

// NOFILE: error: {{.*}}.missing.safetensors: cannot open safetensors file
// NOOPTION: error: hfq-bind-checkpoint needs safetensors=<file>[,<file>...]

// CHECK-LABEL: func.func @bound
// CHECK: %[[G:.*]] = arith.constant dense<[0, 0, {{.*}}, 1, 1{{.*}}]> : tensor<64xi32>
// CHECK-NOT: hfq.weight
// CHECK: return %[[G]]
func.func @bound() -> tensor<64xi32> {
  %g = hfq.weight "model.layers.0.mlp.up_proj.g_idx" : tensor<64xi32>
  return %g : tensor<64xi32>
}

// -----

func.func @missing() -> tensor<4xf32> {
  // expected-error @+1 {{checkpoint tensor 'model.layers.9.nope.weight' is in none of the safetensors files}}
  %w = hfq.weight "model.layers.9.nope.weight" : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @mismatch() -> tensor<64xi16> {
  // expected-error @+1 {{checkpoint tensor 'model.layers.0.mlp.up_proj.g_idx' in}}
  %g = hfq.weight "model.layers.0.mlp.up_proj.g_idx" : tensor<64xi16>
  return %g : tensor<64xi16>
}
