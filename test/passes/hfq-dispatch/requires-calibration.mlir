// requires_calibration (HfQuantizer.__init__, §2): AWQ, AQLM,
// compressed-tensors and BitNet only load checkpoints that are already
// quantized. Given as quantization_config= to a float model (no
// quantization_config in config.json), they are a ValueError naming the
// method as the enum member str() prints (QuantizationMethod.AWQ; 5.17
// quantizers/base.py:92-97, recorded case awq-on-the-fly-requires-calibration),
// and nothing is rewritten.
//
// RUN: not hfq-opt %s --hfq-dispatch='quantization-config={"quant_method":"awq","bits":4} report=%t.json' 2>&1 | FileCheck %s --check-prefixes=CHECK,AWQ
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT
// RUN: not hfq-opt %s --hfq-dispatch='quantization-config={"quant_method":"aqlm"}' 2>&1 | FileCheck %s --check-prefixes=CHECK,AQLM
// RUN: not hfq-opt %s --hfq-dispatch='quantization-config=@%S/Inputs/compressed-tensors-w4a16.json' 2>&1 | FileCheck %s --check-prefixes=CHECK,CT
// RUN: not hfq-opt %s --hfq-dispatch='quantization-config={"quant_method":"bitnet","linear_class":"autobitlinear","quantization_mode":"online"}' 2>&1 | FileCheck %s --check-prefixes=CHECK,BITNET
//
// AWQ:    error: ValueError: The quantization method QuantizationMethod.AWQ does require the model to be pre-quantized. You explicitly passed `pre_quantized=False` meaning your model weights are not quantized. Make sure to pass `pre_quantized=True` while knowing what you are doing.
// AQLM:   error: ValueError: The quantization method QuantizationMethod.AQLM does require the model to be pre-quantized. You explicitly passed `pre_quantized=False` meaning your model weights are not quantized. Make sure to pass `pre_quantized=True` while knowing what you are doing.
// CT:     error: ValueError: The quantization method QuantizationMethod.COMPRESSED_TENSORS does require the model to be pre-quantized. You explicitly passed `pre_quantized=False` meaning your model weights are not quantized. Make sure to pass `pre_quantized=True` while knowing what you are doing.
// BITNET: error: ValueError: The quantization method QuantizationMethod.BITNET does require the model to be pre-quantized. You explicitly passed `pre_quantized=False` meaning your model weights are not quantized. Make sure to pass `pre_quantized=True` while knowing what you are doing.
// CHECK-NOT: hfq.qlinear
// CHECK-NOT: hfq.quantize

// The report names the quantizer the error came from.
// REPORT:      "quant_method": "awq",
// REPORT-NEXT: "quantizer_class": "AwqQuantizer",
// REPORT-NEXT: "config_class": "AwqConfig",
// REPORT-NEXT: "pre_quantized": false,
// REPORT:      "error": {
// REPORT-NEXT:   "kind": "ValueError",
// REPORT-NEXT:   "message": "The quantization method QuantizationMethod.AWQ does require the model to be pre-quantized.

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
