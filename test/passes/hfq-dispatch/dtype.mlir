// The load dtype (v5 _get_dtype, §1.7): "auto" takes the checkpoint's
// torch_dtype (else torch's default, float32), None is the default dtype,
// and only then does the quantizer's update_dtype run (§3.12).
//
// RUN: split-file %s %t

// AWQ, bf16 checkpoint, dtype auto, on a CUDA target: update_dtype casts
// bf16 to float16 with a warning.
// RUN: hfq-opt %t/awq-bf16.mlir --hfq-dispatch='target=sm_90 report=%t/awq-cuda.json' -o /dev/null 2>&1 | FileCheck %s --check-prefix=AWQ-CUDA-DIAG
// RUN: FileCheck %s --input-file=%t/awq-cuda.json --check-prefix=AWQ-CUDA
// AWQ-CUDA-DIAG:     warning: `torch.bfloat16` is not supported for AWQ CUDA/XPU kernels yet. Casting to `torch.float16`.{{$}}
// AWQ-CUDA-DIAG-NOT: warning:
// AWQ-CUDA:      "warnings": [
// AWQ-CUDA-NEXT:   "`torch.bfloat16` is not supported for AWQ CUDA/XPU kernels yet. Casting to `torch.float16`."
// AWQ-CUDA-NEXT: ],
// AWQ-CUDA:      "dtype": "float16",

// Without CUDA the rule does not apply: bf16 stays.
// RUN: hfq-opt %t/awq-bf16.mlir --hfq-dispatch='target=cpu report=%t/awq-cpu.json' -o /dev/null 2>&1 | count 0
// RUN: FileCheck %s --input-file=%t/awq-cpu.json --check-prefix=AWQ-CPU
// AWQ-CPU: "warnings": [],
// AWQ-CPU: "dtype": "bfloat16",

// An explicit dtype wins over the checkpoint's: float16 is what AWQ wants.
// RUN: hfq-opt %t/awq-bf16.mlir --hfq-dispatch='dtype=float16 report=%t/awq-fp16.json' -o /dev/null 2>&1 | count 0
// RUN: FileCheck %s --input-file=%t/awq-fp16.json --check-prefix=AWQ-FP16
// AWQ-FP16: "dtype": "float16",

// No torch_dtype in config.json: auto is float32, which AWQ on CUDA only
// advises against (and keeps).
// RUN: hfq-opt %t/awq-no-dtype.mlir --hfq-dispatch='report=%t/awq-fp32.json' -o /dev/null 2>&1 | FileCheck %s --check-prefix=AWQ-FP32
// RUN: FileCheck %s --input-file=%t/awq-fp32.json --check-prefix=AWQ-FP32-REPORT
// AWQ-FP32: warning: We suggest you to set `dtype=torch.float16` for better efficiency on CUDA/XPU with AWQ.{{$}}
// AWQ-FP32-REPORT: "dtype": "float32",

// GPTQ's update_dtype only logs a suggestion (info: a remark with
// remarks=true) and keeps bf16.
// RUN: hfq-opt %t/gptq-bf16.mlir --hfq-dispatch='remarks=true report=%t/gptq.json' -o /dev/null 2>&1 | FileCheck %s --check-prefix=GPTQ
// RUN: FileCheck %s --input-file=%t/gptq.json --check-prefix=GPTQ-REPORT
// GPTQ-NOT: warning:
// GPTQ:     remark: We suggest you to set `dtype=torch.float16` for better efficiency with GPTQ.{{$}}
// GPTQ-NOT: warning:
// merge_quantization_configs logs "" first (no user config; 5.17
// quantizers/auto.py:282).
// GPTQ-REPORT:      "infos": [
// GPTQ-REPORT-NEXT:   "",
// GPTQ-REPORT-NEXT:   "We suggest you to set `dtype=torch.float16` for better efficiency with GPTQ."
// GPTQ-REPORT-NEXT: ],
// GPTQ-REPORT:      "dtype": "bfloat16",

// dtype=None: v5 turns it into torch's default (float32) before
// update_dtype, so bitsandbytes' "None -> float16" rule never fires.
// RUN: hfq-opt %t/float.mlir --hfq-dispatch='quantization-config={"load_in_8bit":true} dtype=None device-map=cuda:0 report=%t/bnb.json' -o /dev/null
// RUN: FileCheck %s --input-file=%t/bnb.json --check-prefix=BNB
// BNB: "dtype": "float32",

//--- awq-bf16.mlir
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "awq", bits = 4 : i64, group_size = 64 : i64, version = "gemm"}}} {
  func.func @awq_bf16(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}

//--- awq-no-dtype.mlir
module attributes {hfq.model_config = {model_type = "llama",
    quantization_config = {quant_method = "awq", bits = 4 : i64, group_size = 64 : i64, version = "gemm"}}} {
  func.func @awq_no_dtype(%x: tensor<1x128xf32>) -> tensor<1x64xf32> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf32>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf32>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf32>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf32>, tensor<128x128xf32> -> tensor<1x128xf32>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf32>, tensor<256x128xf32> -> tensor<1x256xf32>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf32>, tensor<64x256xf32> -> tensor<1x64xf32>
    return %l : tensor<1x64xf32>
  }
}

//--- gptq-bf16.mlir
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, group_size = 64 : i64}}} {
  func.func @gptq_bf16(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}

//--- float.mlir
module attributes {hfq.model_config = {model_type = "llama"}} {
  func.func @float_model(%x: tensor<1x128xf32>) -> tensor<1x64xf32> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf32>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf32>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf32>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf32>, tensor<128x128xf32> -> tensor<1x128xf32>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf32>, tensor<256x128xf32> -> tensor<1x256xf32>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf32>, tensor<64x256xf32> -> tensor<1x64xf32>
    return %l : tensor<1x64xf32>
  }
}
