// The toy method of docs/adding-a-method.md, end to end: a spec file
// (Inputs/toy_int4.json) is all that teaches hfq "toy_int4" — a config
// class, a quantizer key, a checkpoint layout and a kernel rule. The GPTQ
// example model is relabelled as a toy_int4 checkpoint (its tensors are in
// the layout the toy spec declares) and runs through dispatch, binding,
// lowering and mlir-runner on the GPTQ reference kernel the spec names.
// REQUIRES: jit
// RUN: sed 's/quant_method = "gptq"/quant_method = "toy_int4"/' \
// RUN:     %hfq_src_root/examples/models/gptq-model.mlir > %t.mlir
// RUN: hfq-opt --hfq-spec-path=%S/Inputs/toy_int4.json --hfq-list-methods \
// RUN: | FileCheck %s --check-prefix=LIST
// RUN: hfq-opt %t.mlir --hfq-spec-path=%S/Inputs/toy_int4.json \
// RUN:     --hfq-dispatch=target=sm_90 \
// RUN:     --hfq-bind-checkpoint=safetensors=%hfq_src_root/examples/models/gptq-model.safetensors \
// RUN: | FileCheck %s --check-prefix=IR
// RUN: hfq-opt %t.mlir --hfq-spec-path=%S/Inputs/toy_int4.json \
// RUN:     --hfq-dispatch=target=sm_90 \
// RUN:     --hfq-bind-checkpoint=safetensors=%hfq_src_root/examples/models/gptq-model.safetensors \
// RUN:     --hfq-lower-to-llvm=target=cpu \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%hfq_kernels_ref,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s
// A bad config is refused with the spec's own message.
// RUN: sed 's/group_size = 32 : i64/group_size = 0 : i64/' %t.mlir > %t.bad.mlir
// RUN: not hfq-opt %t.bad.mlir --hfq-spec-path=%S/Inputs/toy_int4.json \
// RUN:     --hfq-dispatch=target=sm_90 2>&1 | FileCheck %s --check-prefix=BAD

// LIST: toy_int4
// LIST-SAME: ToyInt4Config

// IR: #hfq.layout<(qweight: tensor<8x128xi32>, qzeros: tensor<2x16xi32>, scales: tensor<2x128xf16>, g_idx: tensor<64xi32>), args(bits = 4.0, group_size = 32.0, zero_stored_minus_one = 1.0)>
// IR: hfq.dispatch = #hfq.json<{"quant_method": "toy_int4", "quantizer_class": "ToyInt4HfQuantizer"
// IR: hfq.qlinear "model.layers.0.mlp.up_proj"
// IR-SAME: method #toy_int4
// IR: hfq.qlinear "model.layers.0.mlp.down_proj"
// IR: hfq.linear "lm_head"

// The number of logits outside tolerance of the dense reference:
// CHECK: rank = 0
// CHECK-NEXT: [0]

// BAD: ValueError: group_size must be positive, got 0
