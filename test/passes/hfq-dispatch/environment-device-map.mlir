// validate_environment's device-map and GPU rules (§3, table in §3.12), one
// method at a time. A device map is a dict of module -> device; "cuda:0"
// and the like are plain strings, not maps.
//
// RUN: split-file %s %t

// bitsandbytes: a map that puts some modules on "cpu" or "disk" (but is not
// all-CPU) needs llm_int8_enable_fp32_cpu_offload.
// RUN: not hfq-opt %t/float.mlir --hfq-dispatch='quantization-config={"load_in_4bit":true} device-map={"model.layers.0":0,"lm_head":"cpu"}' 2>&1 | FileCheck %s --check-prefix=BNB-OFFLOAD
// RUN: not hfq-opt %t/bnb.mlir --hfq-dispatch='device-map={"model.layers.0":0,"lm_head":"disk"}' 2>&1 | FileCheck %s --check-prefix=BNB-OFFLOAD
// BNB-OFFLOAD: error: ValueError: Some modules are dispatched on the CPU or the disk. Make sure you have enough GPU RAM to fit the quantized model. If you want to dispatch the model on the CPU or the disk while keeping these modules in 32-bit, you need to set `llm_int8_enable_fp32_cpu_offload=True` and pass a custom `device_map` to `from_pretrained`. Check https://huggingface.co/docs/transformers/main/en/main_classes/quantization#offload-between-cpu-and-gpu for more details. {{$}}
// An all-CPU map is accepted.
// RUN: hfq-opt %t/float.mlir -verify-diagnostics --hfq-dispatch='quantization-config={"load_in_4bit":true} device-map={"":"cpu"}' -o /dev/null
// With the flag, the modules mapped to "cpu"/"disk" join the skip list and
// stay in float (fp32 offload); the others are quantized.
// RUN: hfq-opt %t/float.mlir -verify-diagnostics --hfq-dispatch='quantization-config={"load_in_4bit":true,"llm_int8_enable_fp32_cpu_offload":true} device-map={"model.layers.0.self_attn":0,"model.layers.0.mlp":"cpu","lm_head":0}' | FileCheck %s --check-prefix=BNB-FP32-OFFLOAD
// BNB-FP32-OFFLOAD: hfq.qlinear "model.layers.0.self_attn.q_proj"
// BNB-FP32-OFFLOAD: hfq.linear "model.layers.0.mlp.up_proj"
// BNB-FP32-OFFLOAD: hfq.linear "lm_head"

// EETQ needs a GPU; on one, an unset map warns and any CPU/disk offload of
// a multi-entry map (or any disk entry) is refused.
// RUN: not hfq-opt %t/float.mlir --hfq-dispatch='quantization-config={"quant_method":"eetq"} target=cpu' 2>&1 | FileCheck %s --check-prefix=EETQ-CPU
// EETQ-CPU: error: RuntimeError: No GPU found. A GPU is needed for quantization.
// RUN: hfq-opt %t/float.mlir --hfq-dispatch='quantization-config={"quant_method":"eetq"}' -o /dev/null 2>&1 | FileCheck %s --check-prefix=EETQ-NOMAP
// EETQ-NOMAP: warning: You have loaded an EETQ model on CPU and have a CUDA device available, make sure to set your model on a GPU device in order to run your model.{{$}}
// RUN: not hfq-opt %t/float.mlir --hfq-dispatch='quantization-config={"quant_method":"eetq"} device-map={"model.layers.0":0,"lm_head":"cpu"}' 2>&1 | FileCheck %s --check-prefix=EETQ-OFFLOAD
// RUN: not hfq-opt %t/float.mlir --hfq-dispatch='quantization-config={"quant_method":"eetq"} device-map={"":"disk"}' 2>&1 | FileCheck %s --check-prefix=EETQ-OFFLOAD
// EETQ-OFFLOAD: error: ValueError: You are attempting to load an EETQ model with a device_map that contains a CPU or disk device. This is not supported. Please remove the CPU or disk device from the device_map.

// HQQ refuses any "cpu" or "disk" entry, even an all-CPU map.
// RUN: not hfq-opt %t/float.mlir --hfq-dispatch='quantization-config=@%S/Inputs/hqq-4bit-g64.json device-map={"":"cpu"}' 2>&1 | FileCheck %s --check-prefix=HQQ
// HQQ: error: ValueError: You are attempting to use an HQQ model with a device_map that contains a CPU or disk device. This is not supported. Please remove the CPU or disk device from the device_map.

// quanto: `len(device_map) > 1 and "cpu" in values or "disk" in values`.
// RUN: not hfq-opt %t/float.mlir --hfq-dispatch='quantization-config={"quant_method":"quanto"} device-map={"model.layers.0":0,"lm_head":"cpu"}' 2>&1 | FileCheck %s --check-prefix=QUANTO
// RUN: not hfq-opt %t/float.mlir --hfq-dispatch='quantization-config={"quant_method":"quanto"} device-map={"":"disk"}' 2>&1 | FileCheck %s --check-prefix=QUANTO
// RUN: hfq-opt %t/float.mlir -verify-diagnostics --hfq-dispatch='quantization-config={"quant_method":"quanto"} device-map={"":"cpu"}' -o /dev/null
// QUANTO: error: ValueError: You are attempting to load an model with a device_map that contains a CPU or disk device.This is not supported with quanto when the model is quantized on the fly. Please remove the CPU or disk device from the device_map.

// BitNet: without a GPU only a warning (and no further checks); with one, an
// unset map warns and CPU/disk offload is refused.
// RUN: hfq-opt %t/bitnet.mlir --hfq-dispatch='target=cpu device-map={"model.layers.0":0,"lm_head":"disk"}' -o /dev/null 2>&1 | FileCheck %s --check-prefix=BITNET-CPU
// BITNET-CPU:     warning: You don't have a GPU available to load the model, the inference will be slow because of weight unpacking{{$}}
// BITNET-CPU-NOT: error:
// RUN: hfq-opt %t/bitnet.mlir --hfq-dispatch='target=sm_90' -o /dev/null 2>&1 | FileCheck %s --check-prefix=BITNET-NOMAP
// BITNET-NOMAP: warning: You have loaded a BitNet model on CPU and have a CUDA device available, make sure to set your model on a GPU device in order to run your model.{{$}}
// RUN: not hfq-opt %t/bitnet.mlir --hfq-dispatch='device-map={"model.layers.0":0,"lm_head":"disk"}' 2>&1 | FileCheck %s --check-prefix=BITNET-OFFLOAD
// BITNET-OFFLOAD: error: ValueError: You are attempting to load a BitNet model with a device_map that contains a CPU or disk device.This is not supported. Please remove the CPU or disk device from the device_map.

// torchao: CPU offload is allowed; disk offload only when quantizing on the
// fly, not for a pre-quantized checkpoint.
// RUN: hfq-opt %t/torchao.mlir -verify-diagnostics --hfq-dispatch='device-map={"model.layers.0":0,"lm_head":"cpu"}' -o /dev/null
// RUN: not hfq-opt %t/torchao.mlir --hfq-dispatch='device-map={"model.layers.0":0,"lm_head":"disk"}' 2>&1 | FileCheck %s --check-prefix=TORCHAO
// RUN: hfq-opt %t/float.mlir -verify-diagnostics --hfq-dispatch='quantization-config=@%S/Inputs/torchao-int4-g64.json device-map={"model.layers.0":0,"lm_head":"disk"}' -o /dev/null
// TORCHAO: error: ValueError: You are attempting to perform disk offload with a pre-quantized torchao model This is not supported yet . Please remove the disk device from the device_map.

//--- float.mlir
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16"}} {
  func.func @float_model(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}

//--- bnb.mlir
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_8bit = true}}} {
  func.func @bnb(%x: tensor<1x128xf16>) -> tensor<1x64xf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xf16>, tensor<256x128xf16> -> tensor<1x256xf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xf16>, tensor<64x256xf16> -> tensor<1x64xf16>
    return %l : tensor<1x64xf16>
  }
}

//--- bitnet.mlir
module attributes {hfq.model_config = {model_type = "bitnet", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "bitnet", linear_class = "bitlinear",
                           quantization_mode = "offline"}}} {
  func.func @bitnet(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}

//--- torchao.mlir
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {quant_method = "torchao",
                           quant_type = {default = {_type = "Int8WeightOnlyConfig", _version = 2 : i64,
                                                    _data = {group_size = #hfq.none}}}}}} {
  func.func @torchao(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
