// How the pass takes from_pretrained's arguments. quantization-config and a
// dict device-map are JSON, inline or @file. MLIR's option parser strips the
// outer braces of a value that starts with '{', so the pass restores them:
// `device-map={"lm_head":"cpu"}` is a dict, not the string '"lm_head":"cpu"'
// (which would silently disable the device-map rules).
//
// Inline and @file give the same decision: bnb refuses the CPU entry.
// RUN: not hfq-opt %s --hfq-dispatch='quantization-config={"load_in_8bit":true} device-map={"model.layers.0":0,"lm_head":"cpu"}' 2>&1 | FileCheck %s --check-prefix=OFFLOAD
// RUN: not hfq-opt %s --hfq-dispatch='quantization-config=@%S/Inputs/bnb-8bit.json device-map=@%S/Inputs/device-map-lm-head-on-cpu.json' 2>&1 | FileCheck %s --check-prefix=OFFLOAD
// Quoting the value for MLIR keeps the braces as well.
// RUN: not hfq-opt %s --hfq-dispatch="quantization-config='{\"load_in_8bit\":true}' device-map='{\"model.layers.0\":0,\"lm_head\":\"cpu\"}'" 2>&1 | FileCheck %s --check-prefix=OFFLOAD
// OFFLOAD: error: ValueError: Some modules are dispatched on the CPU or the disk.
//
// A device name is a string map (not a dict): no device-map rule applies,
// and the report keeps it as given.
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='quantization-config={"load_in_8bit":true} device-map=auto report=%t.json' -o /dev/null
// RUN: FileCheck %s --input-file=%t.json --check-prefix=AUTO
// AUTO: "device_map": "auto",
//
// Not JSON at all, and a missing file, are errors of the pass.
// RUN: not hfq-opt %s --hfq-dispatch='quantization-config={load_in_8bit:true}' 2>&1 | FileCheck %s --check-prefix=BADJSON
// BADJSON: error: option quantization-config is not valid JSON
// RUN: not hfq-opt %s --hfq-dispatch='quantization-config=@%S/Inputs/does-not-exist.json' 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: error: cannot read quantization-config file '{{.*}}does-not-exist.json'

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
