// Config validation (each class's __init__ / post_init, §3): a bad value in
// the checkpoint's quantization_config raises transformers' exception, with
// its kind and text, and the pass fails leaving the IR alone. The same
// checks run on a quantization_config= option (the user's config is built
// first).
//
// RUN: hfq-opt %s -split-input-file -verify-diagnostics --hfq-dispatch='device-map=cuda:0'
// RUN: not hfq-opt %s --hfq-dispatch='quantization-config={"quant_method":"gptq","bits":5}' 2>&1 | FileCheck %s --check-prefix=USER
// USER: error: ValueError: Only support quantization to [2,3,4,8] bits but found 5

// GPTQConfig.post_init: bits must be 2, 3, 4 or 8.
// expected-error @+1 {{ValueError: Only support quantization to [2,3,4,8] bits but found 5}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 5 : i64}}} {
  func.func @gptq_bits(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// group_size is positive or -1.
// expected-error @+1 {{ValueError: group_size must be greater than 0 or equal to -1}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, group_size = 0 : i64}}} {
  func.func @gptq_group_size(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// damp_percent lies in the open interval (0, 1).
// expected-error @+1 {{ValueError: damp_percent must between 0 and 1.}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, damp_percent = 1.0 : f64}}} {
  func.func @gptq_damp_percent(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// bits is GPTQConfig's one required argument.
// expected-error @+1 {{TypeError: GPTQConfig.__init__() missing 1 required positional argument: 'bits'}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", group_size = 128 : i64}}} {
  func.func @gptq_missing_bits(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// llm_int8_threshold must be a Python float: 6 (an int) is rejected.
// expected-error @+1 {{TypeError: llm_int8_threshold must be a float}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_8bit = true, llm_int8_threshold = 6 : i64}}} {
  func.func @bnb_threshold_int(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// A truthy non-bool flag selects bitsandbytes, whose post_init wants a bool.
// expected-error @+1 {{TypeError: load_in_4bit must be a boolean}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_4bit = 1 : i64}}} {
  func.func @bnb_flag_not_bool(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// bnb_4bit_quant_storage names one of six dtypes (note the trailing space).
// expected-error @+1 {{ValueError: `bnb_4bit_quant_storage` must be a valid string (one of 'float16', 'float32', 'int8', 'uint8', 'float64', 'bfloat16') }}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitsandbytes", load_in_4bit = true, bnb_4bit_quant_storage = "int4"}}} {
  func.func @bnb_quant_storage(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// AwqConfig.post_init: the format (legacy key `version`) must be known.
// expected-error @+1 {{ValueError: Invalid format 'exllama'. Must be one of: ['gemm', 'gemv', 'gemv_fast', 'llm-awq']}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "awq", bits = 4 : i64, version = "exllama"}}} {
  func.func @awq_format(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// ...and so must the backend.
// expected-error @+1 {{ValueError: Invalid backend 'cuda'. Must be one of: ['autoawq', 'auto', 'auto_trainable', 'machete', 'marlin', 'exllama_v2', 'exllama_v1', 'gemm', 'gemm_triton', 'gemv', 'gemv_fast', 'torch_awq', 'torch_fused_awq']}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "awq", bits = 4 : i64, backend = "cuda"}}} {
  func.func @awq_backend(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// AqlmConfig checks ints; 5.17's messages say int (utils/quantization_config.py
// :906-913, recorded case aqlm-group-size-string).
// expected-error @+1 {{TypeError: in_group_size must be an int}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "aqlm", in_group_size = 8.0 : f64}}} {
  func.func @aqlm_float_group(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// linear_weights_not_to_quantize must be a list.
// expected-error @+1 {{ValueError: linear_weights_not_to_quantize must be a list of strings}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "aqlm", linear_weights_not_to_quantize = "lm_head.weight"}}} {
  func.func @aqlm_skip_list(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// QuantoConfig: weights in float8, int8, int4, int2.
// expected-error @+1 {{ValueError: Only support weights in ['float8', 'int8', 'int4', 'int2'] but found int3}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "quanto", weights = "int3"}}} {
  func.func @quanto_weights(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// activations in None, int8, float8 (transformers' message says "weights" here too).
// expected-error @+1 {{ValueError: Only support weights in [None, 'int8', 'float8'] but found int4}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "quanto", activations = "int4"}}} {
  func.func @quanto_activations_value(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// A valid activations value passes the config but not the quantizer's validate_environment.
// expected-error @+1 {{ValueError: We don't support quantizing the activations with transformers library.Use quanto library for more complex use cases such as activations quantization, calibration and quantization aware training.}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "quanto", activations = "int8"}}} {
  func.func @quanto_activations_env(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// EetqConfig: int8 only.
// expected-error @+1 {{ValueError: Only support weights in ['int8'] but found int4}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "eetq", weights = "int4"}}} {
  func.func @eetq_weights(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// FineGrainedFP8Config: dynamic or static (after lower-casing).
// expected-error @+1 {{ValueError: Activation scheme tensor not supported}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "fp8", activation_scheme = "tensor"}}} {
  func.func @fp8_activation_scheme(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// weight_block_size has two entries...
// expected-error @+1 {{ValueError: weight_block_size must be a tuple of two integers}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "fp8", weight_block_size = [128 : i64]}}} {
  func.func @fp8_block_rank(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// ...both positive.
// expected-error @+1 {{ValueError: weight_block_size must be a tuple of two positive integers}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "fp8", weight_block_size = [0 : i64, 128 : i64]}}} {
  func.func @fp8_block_positive(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// BitNetQuantConfig: linear_class...
// expected-error @+1 {{ValueError: linear_class must be either 'bitlinear' or 'autobitlinear', but got linear}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitnet", linear_class = "linear"}}} {
  func.func @bitnet_linear_class(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// ...and quantization_mode.
// expected-error @+1 {{ValueError: quantization_mode must be either 'online' or 'offline', but got qat}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "bitnet", quantization_mode = "qat"}}} {
  func.func @bitnet_mode(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// HqqConfig.from_dict indexes quant_config and skip_modules directly.
// expected-error @+1 {{KeyError: 'skip_modules'}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "hqq", quant_config = {weight_quant_params = {nbits = 4 : i64, group_size = 64 : i64, axis = 1 : i64}}}}} {
  func.func @hqq_strict_keys(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// The <= 4.5x string quant_type: 5.17's TorchAoConfig.from_dict asserts a
// {"default": ...} dict before post_init's string check could run (recorded:
// test/fidelity torchao-legacy-string-quant-type).
// expected-error @+1 {{AssertionError: Expected only one key 'default' in quant_type dictionary}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "torchao", quant_type = "int4_weight_only"}}} {
  func.func @torchao_string(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}

// -----

// Not every post_init finding is an error: desc_act switches act_group_aware
// off with a warning, and the checkpoint loads.
// expected-warning @+1 {{`act_group_aware` has been auto-disabled as it is not compatible with `desc_act = True`.}}
module attributes {hfq.model_config = {model_type = "llama", torch_dtype = "float16",
    quantization_config = {quant_method = "gptq", bits = 4 : i64, desc_act = true}}} {
  func.func @gptq_desc_act(%x: tensor<1x128xf16>) -> tensor<1x128xf16> {
    %w = hfq.weight "model.layers.0.self_attn.q_proj.weight" : tensor<128x128xf16>
    %y = hfq.linear "model.layers.0.self_attn.q_proj" %x, %w : tensor<1x128xf16>, tensor<128x128xf16> -> tensor<1x128xf16>
    return %y : tensor<1x128xf16>
  }
}
