// TorchAoConfig.to_dict output for
// Float8DynamicActivationFloat8WeightConfig written into a converted
// checkpoint (vllm-ascend NPU tooling, -- GENERATED, TRUNCATED after
// set_inductor_config in the source excerpt
//
// Truncated in its source right after "_data": quant_type["default"] has no
// "_type", which torchao's config_from_dict rejects with a ValueError (its
// own message).
//
// RUN: hfq-opt %s -verify-diagnostics --hfq-dispatch='device-map=cuda:0 report=%t.json' -o /dev/null
// RUN: FileCheck %s --input-file=%t.json --check-prefix=REPORT

// REPORT:      "error": {
// REPORT-NEXT:   "kind": "ValueError",
// REPORT-NEXT:   "message": "Input dictionary missing required '_type' or '_data' fields"
// REPORT-NEXT: },
// expected-error @+1 {{ValueError: Input dictionary missing required '_type' or '_data' fields}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "bfloat16",
    quantization_config = {
      include_input_output_embeddings = false,
      modules_to_not_convert = #hfq.none,
      quant_method = "torchao",
      quant_type = {
        default = {
          _data = {
            activation_dtype = {
              _data = "float8_e4m3fn",
              _type = "torch.dtype"
            },
            activation_value_lb = #hfq.none,
            activation_value_ub = #hfq.none,
            granularity = [
              {
                _data = {},
                _type = "PerTensor",
                _version = 1 : i64
              },
              {
                _data = {},
                _type = "PerTensor",
                _version = 1 : i64
              }
            ],
            kernel_preference = {
              _data = "AUTO",
              _type = "KernelPreference"
            },
            mm_config = {
              _data = {
                emulate = false,
                pad_inner_dim = false,
                use_fast_accum = true
              },
              _type = "Float8MMConfig",
              _version = 1 : i64
            },
            packing_format = {
              _data = "PLAIN",
              _type = "Float8PackingFormat"
            },
            set_inductor_config = true
          }
        }
      }
    }}} {
  func.func @torchao_float8_dynamic_truncated(%x: tensor<1x128xbf16>) -> tensor<1x64xbf16> {
    %wq = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xbf16>
    %wu = hfq.weight "model.layers.0.mlp.up_proj.weight" : tensor<256x128xbf16>
    %wl = hfq.weight "lm_head.weight" : tensor<64x256xbf16>
    %q = hfq.linear "model.layers.0.self_attn.q_proj" %x, %wq : tensor<1x128xbf16>, tensor<128x128xbf16> -> tensor<1x128xbf16>
    %u = hfq.linear "model.layers.0.mlp.up_proj" %q, %wu : tensor<1x128xbf16>, tensor<256x128xbf16> -> tensor<1x256xbf16>
    %l = hfq.linear "lm_head" %u, %wl : tensor<1x256xbf16>, tensor<64x256xbf16> -> tensor<1x64xbf16>
    return %l : tensor<1x64xbf16>
  }
}
