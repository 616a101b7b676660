// FineGrainedFP8HfQuantizer.validate_environment (§3.9) on each target:
// FP8 kernels need compute capability >= 8.9; below it, or without a GPU,
// a pre-quantized checkpoint falls back to dequantizing to bf16 (dequantize
// becomes true) with a warning, and quantizing on the fly without a GPU is a
// RuntimeError. Once dequantize is set the function returns, so the
// device-map checks after it do not run.
//
// RUN: split-file %s %t

// sm_90 (and sm_89) with a device map: nothing to say, FP8 kernels are used.
// RUN: hfq-opt %t/checkpoint.mlir -verify-diagnostics --hfq-dispatch='target=sm_90 device-map=cuda:0 report=%t/sm90.json' -o /dev/null
// RUN: FileCheck %s --input-file=%t/sm90.json --check-prefix=SM90
// RUN: hfq-opt %t/checkpoint.mlir -verify-diagnostics --hfq-dispatch='target=sm_89 device-map=cuda:0' -o /dev/null
// SM90:      "dequantize": false
// SM90:      "warnings": [],
// SM90:      "target": "sm_90",

// sm_80 (A100): the capability warning with the actual major.minor, and the
// merged config now says dequantize: true. The checkpoint's tensors are
// still bound (FP8 weights dequantized at load).
// RUN: hfq-opt %t/checkpoint.mlir --hfq-dispatch='target=sm_80 device-map=cuda:0 report=%t/sm80.json' 2>&1 | FileCheck %s --check-prefix=SM80
// RUN: FileCheck %s --input-file=%t/sm80.json --check-prefix=SM80-REPORT
// SM80:      warning: FP8 quantized models is only supported on GPUs with compute capability >= 8.9 (e.g 4090/H100), actual = `8.0`. We will default to dequantizing the model to bf16. Feel free to use a different quantization method like bitsandbytes or torchao{{$}}
// SM80-NOT:  warning:
// SM80:      #fp8 = #hfq.method<"fp8", {{.*}}dequantize = true
// SM80:      hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf8E4M3FN>
// SM80-REPORT:      "config": {
// SM80-REPORT:        "dequantize": true
// SM80-REPORT:      "warnings": [
// SM80-REPORT-NEXT:   "FP8 quantized models is only supported on GPUs with compute capability >= 8.9 (e.g 4090/H100), actual = `8.0`. We will default to dequantizing the model to bf16. Feel free to use a different quantization method like bitsandbytes or torchao"
// SM80-REPORT-NEXT: ],

// sm_86 prints its own capability.
// RUN: hfq-opt %t/checkpoint.mlir --hfq-dispatch='target=sm_86 device-map=cuda:0' -o /dev/null 2>&1 | FileCheck %s --check-prefix=SM86
// SM86: warning: FP8 quantized models is only supported on GPUs with compute capability >= 8.9 (e.g 4090/H100), actual = `8.6`.

// No GPU, pre-quantized: dequantize with the no-GPU warning.
// RUN: hfq-opt %t/checkpoint.mlir --hfq-dispatch='target=cpu report=%t/cpu.json' -o /dev/null 2>&1 | FileCheck %s --check-prefix=CPU
// RUN: FileCheck %s --input-file=%t/cpu.json --check-prefix=CPU-REPORT
// CPU:     warning: Using FP8 quantized models requires a GPU or XPU, we will default to dequantizing the model to bf16 since no GPU or XPU is available{{$}}
// CPU-NOT: warning:
// CPU-REPORT: "dequantize": true

// No GPU, quantizing on the fly: RuntimeError.
// RUN: not hfq-opt %t/float.mlir --hfq-dispatch='quantization-config={"quant_method":"fp8"} target=cpu' 2>&1 | FileCheck %s --check-prefix=CPU-OTF
// CPU-OTF: error: RuntimeError: No GPU or XPU found. A GPU or XPU is needed for FP8 quantization.

// A GPU but device_map None: the model would stay on the CPU.
// RUN: hfq-opt %t/checkpoint.mlir --hfq-dispatch='target=sm_90' -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOMAP
// NOMAP: warning: You have loaded an FP8 model on CPU and have a CUDA or XPU device available, make sure to set your model on a GPU or XPU device in order to run your model. To remove this warning, pass device_map = 'cuda' or 'xpu'. {{$}}

// A device map with a "cpu" entry (and more than one entry) is refused when
// quantizing on the fly; a pre-quantized checkpoint may offload to the CPU
// but not to disk.
// RUN: not hfq-opt %t/float.mlir --hfq-dispatch='quantization-config={"quant_method":"fp8"} device-map={"model.layers.0":0,"lm_head":"cpu"}' 2>&1 | FileCheck %s --check-prefix=OFFLOAD
// RUN: hfq-opt %t/checkpoint.mlir -verify-diagnostics --hfq-dispatch='device-map={"model.layers.0":0,"lm_head":"cpu"}' -o /dev/null
// RUN: not hfq-opt %t/checkpoint.mlir --hfq-dispatch='device-map={"model.layers.0":0,"lm_head":"disk"}' 2>&1 | FileCheck %s --check-prefix=OFFLOAD
// OFFLOAD: error: ValueError: You are attempting to load an FP8 model with a device_map that contains a cpu/disk device.This is not supported when the model is quantized on the fly. Please use a quantized checkpoint or remove the cpu/disk device from the device_map.

//--- checkpoint.mlir
module attributes {hfq.model_config = {model_type = "deepseek_v3", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "fp8", activation_scheme = "dynamic",
                           weight_block_size = [128 : i64, 128 : i64]}}} {
  func.func @checkpoint(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
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
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16"}} {
  func.func @float_model(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
