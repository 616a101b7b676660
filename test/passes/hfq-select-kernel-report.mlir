// The report of --hfq-select-kernel is read off the IR: the decision
// --hfq-dispatch recorded on the module and each op's kernel choice, through
// the one serializer (the keys of the dispatch report, plus each module's
// kernel and rejected kernels, and kernel_target). No file is read.
// Without `target`, kernels are selected for the target dispatch decided
// for.
//
// RUN: hfq-opt %s --hfq-dispatch='target=sm_80 device-map=cuda:0' --hfq-select-kernel=report=%t.json | FileCheck %s --check-prefix=ON-SM80
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT
// RUN: hfq-opt %s --hfq-dispatch='target=sm_80 device-map=cuda:0' --hfq-select-kernel='target=cpu report=%t.cpu.json' | FileCheck %s --check-prefix=ON-CPU
// RUN: FileCheck %s --input-file=%t.cpu.json --check-prefix=REPORT-CPU
//
// On the fly, hfq.quantize gets the kernel that quantizes (the reference).
// RUN: hfq-opt %S/hfq-dispatch/records-on-the-fly.mlir --hfq-dispatch='quantization-config={"quant_method":"quanto","weights":"int8"} device-map=cuda:0' --hfq-select-kernel=target=cpu | FileCheck %s --check-prefix=FLY

// ON-SM80:     hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} {kernel = "hfq_gptq_w4a16_gemv"}
// ON-CPU:      hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} {kernel = "hfq_ref_gptq", rejected_kernels = [

// REPORT:      "quant_method": "gptq",
// REPORT:      "target": "sm_80",
// REPORT-NEXT: "kernel_target": "sm_80",
// REPORT-NEXT: "modules": [
// REPORT:        "name": "model.layers.0.self_attn.q_proj",
// REPORT-NEXT:   "action": "quantized",
// REPORT-NEXT:   "rule": "pre-quantized checkpoint tensors",
// REPORT-NEXT:   "method": "gptq",
// REPORT-NEXT:   "kernel": "hfq_gptq_w4a16_gemv",
// REPORT-NEXT:   "rejected_kernels": []
// REPORT:        "name": "lm_head",
// REPORT-NEXT:   "action": "skipped",
// REPORT-NOT:    "kernel"

// REPORT-CPU:      "target": "sm_80",
// REPORT-CPU-NEXT: "kernel_target": "cpu",
// REPORT-CPU:      "kernel": "hfq_ref_gptq",
// REPORT-CPU-NEXT: "rejected_kernels": [
// REPORT-CPU-NEXT:   {
// REPORT-CPU-NEXT:     "kernel": "hfq_gptq_w4a16_gemv",
// REPORT-CPU-NEXT:     "reason": "'bits == 4 and target.cuda and {{.*}}' does not hold"

// FLY:         hfq.quantize "model.layers.0.self_attn.q_proj" {{.*}} method #quanto {kernel = "hfq_ref_quanto"}
// FLY-NEXT:    hfq.qlinear "model.layers.0.self_attn.q_proj" {{.*}} {kernel = "hfq_ref_quanto"

module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, group_size = 64 : i64}}} {
  func.func @gptq(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x128xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %l = hfq.linear "lm_head" %q, %wl : tensor<1x128xf16>, tensor<64x128xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}
