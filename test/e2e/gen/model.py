"""Whole-pipeline tests from a checkpoint, one per method key:
python3 test/e2e/gen/model.py

The generalization of checkpoint.py. Each test is a tiny model -- one
quantized linear "model.layers.0.mlp.up_proj" [N, K] followed by an
unquantized "lm_head" [V, N] (F32 in the checkpoint, the last hfq.weight of
the model so transformers' default skips leave it alone) -- whose
checkpoint examples/models/<name>.safetensors this script writes byte for
byte in the safetensors format. Pre-quantized: config.json (the module's
hfq.model_config) carries the method's quantization_config and the checkpoint
holds the packed tensors under "model.layers.0.mlp.up_proj.<tensor>".
On the fly: config.json has no quantization_config, the checkpoint holds the
float weight, and the user's config is examples/models/<name>.user.json
(--hfq-dispatch quantization-config=@...), so dispatch emits hfq.quantize.

The test runs --hfq-dispatch, --hfq-bind-checkpoint, --hfq-lower-to-llvm and
mlir-runner, and counts the logits that differ from a dense path over the
weight the per-method generator dequantized in Python (stored in the same
file as "reference.up.weight") by more than the tolerance that generator
uses for the layer, carried through lm_head.

The packed tensors and reference weights come from the per-method
generators (awq.py, bitsandbytes.py, ...): their functions are called with
write_test captured, so the formats are not re-derived here.
"""
import importlib
import inspect
import json
import os
import random
import struct
import sys

import common
from common import OUT, f32, matmul_t, mismatch_count

# The examples: one model per method, beside its checkpoint.
MODELS = os.path.join(OUT, os.pardir, os.pardir, "examples", "models")
from fpformats import e4m3_encode

MODULE = "model.layers.0.mlp.up_proj"

# MLIR element type -> (safetensors dtype, struct format or encoder)
DTYPES = {
    "f32": ("F32", "<f"), "f16": ("F16", "<e"), "bf16": ("BF16", None),
    "i64": ("I64", "<q"), "i32": ("I32", "<i"), "i16": ("I16", "<h"), "i8": ("I8", "<b"),
    "ui8": ("U8", "<B"), "f8E4M3FN": ("F8_E4M3", None),
}


def encode(elem, values):
    st, fmt = DTYPES[elem]
    if elem == "bf16":
        # values are bf16-representable: the top half of their f32 bits.
        return b"".join(struct.pack("<H", struct.unpack("<I", struct.pack("<f", v))[0] >> 16)
                        for v in values)
    if elem == "f8E4M3FN":
        return bytes(e4m3_encode(v) for v in values)
    if elem == "f16":
        return b"".join(struct.pack(fmt, common.f16(v)) for v in values)
    if elem == "f32":
        return b"".join(struct.pack(fmt, float(v)) for v in values)
    return b"".join(struct.pack(fmt, int(v)) for v in values)


def write_safetensors(path, tensors):
    """tensors: name -> (MLIR element type, shape, flat values)."""
    header, blobs, offset = {}, [], 0
    for name, (elem, shape, values) in tensors.items():
        blob = encode(elem, values)
        header[name] = {"dtype": DTYPES[elem][0], "shape": list(shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # safetensors pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(b"".join(blobs))


def capture(module, function, *args):
    """Calls a per-method generator function with write_test captured;
    returns write_test's arguments (defaults applied) as a dict."""
    mod = importlib.import_module(module)
    calls = []
    saved = mod.write_test
    mod.write_test = lambda *a, **kw: calls.append(
        inspect.signature(common.write_test).bind(*a, **kw))
    try:
        getattr(mod, function)(*args)
    finally:
        mod.write_test = saved
    assert len(calls) == 1, f"{module}.{function} wrote {len(calls)} tests"
    bound = calls[0]
    bound.apply_defaults()
    return dict(bound.arguments)


def mlir_attr(v):
    """config.json value -> MLIR attribute (as hfq.model_config spells it)."""
    if v is None:
        return "#hfq.none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v} : i64"
    if isinstance(v, float):
        return f"{v!r} : f64"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(mlir_attr(e) for e in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {mlir_attr(e)}" for k, e in v.items()) + "}"
    raise TypeError(v)


def write_model_test(name, doc, case, quantization_config=None, user_config=None,
                     vocab=32, seed=11, torch_dtype="float32", dispatch_options="",
                     ir_checks=()):
    """case: write_test's arguments captured from a per-method generator.
    Exactly one of quantization_config (pre-quantized: config.json's) and
    user_config (on the fly: the from_pretrained argument) is given."""
    assert (quantization_config is None) != (user_config is None)
    m, n, k = case["m"], case["n"], case["k"]
    x, w_ref = case["x"], case["w_ref"]
    ref_x = case["ref_x"] if case["ref_x"] is not None else x
    rtol, atol = case["rtol"], case["atol"]
    rnd = random.Random(seed)
    lm = [f32(rnd.uniform(-0.1, 0.1)) for _ in range(vocab * n)]

    tensors = {}
    if user_config is None:
        for t, vals, dims, elem in case["packed"]:
            tensors[f"{MODULE}.{t}"] = (elem, dims, vals)
    else:
        assert case["quantize_from"] is not None, "on the fly needs the float weight"
        tensors[f"{MODULE}.weight"] = ("f32", [n, k], case["quantize_from"])
    tensors["lm_head.weight"] = ("f32", [vocab, n], lm)
    # The reference path's weights, transposed for linalg.matmul: it uses no
    # hfq.linear, so dispatch has nothing of it to quantize.
    tensors["reference.up.weight_t"] = ("f32", [k, n], [w_ref[j * k + i] for i in range(k) for j in range(n)])
    tensors["reference.lm_head.weight_t"] = ("f32", [n, vocab], [lm[v * n + j] for j in range(n) for v in range(vocab)])
    write_safetensors(os.path.join(MODELS, name + ".safetensors"), tensors)

    dispatch = "target=sm_90"
    if user_config is not None:
        with open(os.path.join(MODELS, name + ".user.json"), "w") as f:
            json.dump(user_config, f, indent=2)
            f.write("\n")
        dispatch += f" quantization-config=@{{dir}}/{name}.user.json"
    if dispatch_options:
        dispatch += " " + dispatch_options

    # The tolerance of the layer (the generator's), carried through lm_head.
    h = matmul_t(ref_x, w_ref, m, n, k)
    logits = matmul_t(h, lm, m, vocab, n)
    tol = []
    for i in range(m):
        for v in range(vocab):
            t = sum(abs(lm[v * n + j]) * (atol + rtol * abs(h[i * n + j])) for j in range(n))
            tol.append(f32(1e-5 + 1e-5 * abs(logits[i * vocab + v]) + 1.01 * t))

    def lit(vals, dims):
        rows = [vals[i * dims[1]:(i + 1) * dims[1]] for i in range(dims[0])]
        return "dense<[" + ", ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in rows) + "]>"

    T = lambda *d: "tensor<" + "x".join(str(v) for v in d) + "xf32>"
    config = {"model_type": "llama", "torch_dtype": torch_dtype}
    if quantization_config is not None:
        config["quantization_config"] = quantization_config
    checks = "\n".join(f"// IR{c}" for c in ir_checks)
    ref_decl = ""
    ref_var = "%x"
    if case["ref_x"] is not None:
        ref_decl = f"\n    // The activations as the method quantizes them (the generator's).\n    %xr = arith.constant {lit(ref_x, [m, k])} : {T(m, k)}"
        ref_var = "%xr"
    harness = "\n".join("  " + line for line in mismatch_count("%y", "%ry", m, vocab, tol))
    # The example: the model IR beside its checkpoint in examples/models/.
    run = (f"hfq-opt {{dir}}/{name}.mlir --hfq-dispatch=\"{dispatch}\" \\\n"
           f"//   {{RUN}}    --hfq-bind-checkpoint=safetensors={{dir}}/{name}.safetensors \\\n"
           f"//   {{RUN}}    --hfq-lower-to-llvm=target=cpu \\\n"
           f"//   {{RUN}}| mlir-runner -e main -entry-point-result=void \\\n"
           f"//   {{RUN}}    -shared-libs={{libs}}")
    how = (run.replace("{RUN}", "").replace("{dir}", "examples/models")
              .replace("hfq-opt ", "build/bin/hfq-opt ", 1)
              .replace("| mlir-runner", "| /usr/lib/llvm-22/bin/mlir-runner")
              .replace("{libs}", "build/lib/libhfq_kernels_ref.so,/usr/lib/llvm-22/lib/libmlir_runner_utils.so,"
                                  "/usr/lib/llvm-22/lib/libmlir_c_runner_utils.so"))
    test_run = (run.replace("//   {RUN}", "// RUN:").replace("{dir}", "%hfq_src_root/examples/models")
                   .replace("{libs}", "%hfq_kernels_ref,%mlir_runner_utils,%mlir_c_runner_utils"))
    bind_run = (f"hfq-opt %hfq_src_root/examples/models/{name}.mlir "
                f"--hfq-dispatch=\"{dispatch.replace('{dir}', '%hfq_src_root/examples/models')}\" \\\n"
                f"// RUN:     --hfq-bind-checkpoint=safetensors=%hfq_src_root/examples/models/{name}.safetensors")
    test = f"""// Generated by test/e2e/gen/model.py: {doc}
// The example examples/models/{name}.mlir from its safetensors checkpoint
// through dispatch, binding, lowering and mlir-runner.
// REQUIRES: jit
// RUN: {test_run} \\
// RUN: | FileCheck %s
// The dispatch alone: up_proj quantized and bound to the checkpoint's
// tensors, lm_head and the reference path left as they are.
// RUN: {bind_run} \\
// RUN: | FileCheck %s --check-prefix=IR

// The number of logits outside tolerance of the dense reference:
// CHECK: rank = 0
// CHECK-NEXT: [0]

{checks}
// IR-NOT: hfq.weight
// IR: hfq.qlinear "{MODULE}"
// IR-NOT: hfq.weight
// IR: hfq.linear "lm_head"
"""
    with open(os.path.join(OUT, name + "-from-checkpoint.mlir"), "w") as f:
        f.write(test)
    text = f"""// Generated by test/e2e/gen/model.py: {doc}
// A tiny model ({MODULE} quantized, lm_head not) and its safetensors
// checkpoint ({name}.safetensors). From the repository root:
//
//   {how}
//
// prints the number of logits outside tolerance of a dense reference over
// weights the generator dequantized itself (0), as
// test/e2e/{name}-from-checkpoint.mlir checks.

module attributes {{hfq.model_config = {mlir_attr(config)}}} {{
  func.func private @printMemrefF32(memref<*xf32>) attributes {{llvm.emit_c_interface}}

  // The dense path over the weight the generator dequantized, ahead of
  // @model so that lm_head.weight stays the model's last parameter.
  func.func @reference(%x: {T(m, k)}) -> {T(m, vocab)} {{
    %ru = hfq.weight "reference.up.weight_t" : {T(k, n)}
    %rl = hfq.weight "reference.lm_head.weight_t" : {T(n, vocab)}
    %zero = arith.constant 0.0 : f32
    %eh = tensor.empty() : {T(m, n)}
    %fh = linalg.fill ins(%zero : f32) outs(%eh : {T(m, n)}) -> {T(m, n)}
    %h = linalg.matmul ins(%x, %ru : {T(m, k)}, {T(k, n)}) outs(%fh : {T(m, n)}) -> {T(m, n)}
    %ey = tensor.empty() : {T(m, vocab)}
    %fy = linalg.fill ins(%zero : f32) outs(%ey : {T(m, vocab)}) -> {T(m, vocab)}
    %y = linalg.matmul ins(%h, %rl : {T(m, n)}, {T(n, vocab)}) outs(%fy : {T(m, vocab)}) -> {T(m, vocab)}
    return %y : {T(m, vocab)}
  }}

  func.func @model(%x: {T(m, k)}) -> {T(m, vocab)} {{
    %wu = hfq.weight "{MODULE}.weight" : {T(n, k)}
    %wl = hfq.weight "lm_head.weight" : {T(vocab, n)}
    %h = hfq.linear "{MODULE}" %x, %wu : {T(m, k)}, {T(n, k)} -> {T(m, n)}
    %y = hfq.linear "lm_head" %h, %wl : {T(m, n)}, {T(vocab, n)} -> {T(m, vocab)}
    return %y : {T(m, vocab)}
  }}

  func.func @main() {{
    %x = arith.constant {lit(x, [m, k])} : {T(m, k)}
    %y = call @model(%x) : ({T(m, k)}) -> {T(m, vocab)}{ref_decl}
    %ry = call @reference({ref_var}) : ({T(m, k)}) -> {T(m, vocab)}
{harness}
    return
  }}
}}
"""
    with open(os.path.join(MODELS, name + ".mlir"), "w") as f:
        f.write(text)


HQQ_CONFIG = {
    "quant_method": "hqq",
    "quant_config": {
        "weight_quant_params": {"nbits": 4, "channel_wise": True, "group_size": 64, "optimize": True,
                                "round_zero": True, "axis": 1, "view_as_float": False},
        "scale_quant_params": None, "zero_quant_params": None, "offload_meta": False},
    "skip_modules": ["lm_head"],
}

# name -> (doc, (module, function, args), pre-quantized config or None, user config or None, extra)
TESTS = {
    "awq-model": ("AWQ 4-bit gemm, group 32, pre-quantized",
                  ("awq", "awq_gemm", (32, 128, 32, 1)),
                  {"quant_method": "awq", "bits": 4, "group_size": 32, "zero_point": True, "version": "gemm"}, None),
    "bitsandbytes-4bit-model": ("bitsandbytes 4-bit nf4, pre-quantized",
                  ("bitsandbytes", "bnb4_prequantized", ("nf4", False, 16, 64, 1)),
                  {"quant_method": "bitsandbytes", "load_in_4bit": True, "load_in_8bit": False,
                   "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": False,
                   "bnb_4bit_compute_dtype": "float32", "bnb_4bit_quant_storage": "uint8"}, None),
    "bitsandbytes-8bit-model": ("LLM.int8(), threshold 6.0, pre-quantized",
                  ("bitsandbytes", "bnb8_prequantized", (6.0, (5, 17), 16, 64, 7)),
                  {"quant_method": "bitsandbytes", "load_in_8bit": True, "load_in_4bit": False,
                   "llm_int8_threshold": 6.0}, None),
    "aqlm-model": ("AQLM 2x8, in_group 8, pre-quantized",
                  ("aqlm", "aqlm", (2, 8, 8, 1, 16, 64, 1)),
                  {"quant_method": "aqlm", "in_group_size": 8, "out_group_size": 1,
                   "num_codebooks": 2, "nbits_per_codebook": 8,
                   # AQLM has no default skips (transformers' AqlmHfQuantizer
                   # passes only this list); real checkpoints name lm_head here.
                   "linear_weights_not_to_quantize": ["model.embed_tokens.weight", "lm_head.weight"]}, None),
    "quanto-model": ("quanto qint8, quantized on the fly",
                  ("quanto", "quanto_int8_on_the_fly", (16, 64, 6)),
                  None, {"quant_method": "quanto", "weights": "int8"}),
    "eetq-model": ("EETQ int8, quantized on the fly",
                  ("eetq", "eetq_on_the_fly", (64, 128, 3)),
                  None, {"quant_method": "eetq"}),
    "hqq-model": ("HQQ 4-bit, group 64, axis 1, optimize, quantized on the fly",
                  ("hqq", "on_the_fly", (4, 64, 1, True, 9, 16, 64, True)),
                  None, HQQ_CONFIG),
    "compressed-tensors-model": ("compressed-tensors pack-quantized int4, group 32, sym, pre-quantized",
                  ("compressed_tensors", "packed", (4, "group", 32, True, False, 1)),
                  {"quant_method": "compressed-tensors", "format": "pack-quantized",
                   "quantization_status": "compressed", "ignore": ["lm_head"],
                   # No nulls: hfq-lower-to-llvm keeps hfq.model_config on the
                   # module, and mlir-runner cannot parse #hfq.none in it.
                   "config_groups": {"group_0": {"targets": ["Linear"],
                       "weights": {"num_bits": 4, "type": "int", "symmetric": True, "strategy": "group",
                                   "group_size": 32, "dynamic": False}}}}, None),
    "fp8-model": ("FineGrainedFP8 block 128x128, dynamic activations, pre-quantized",
                  ("fp8", "prequantized", ("fp8-model", 256, 256, (128, 128), False, False, 1)),
                  {"quant_method": "fp8", "activation_scheme": "dynamic", "fmt": "e4m3",
                   "weight_block_size": [128, 128]}, None),
    "torchao-model": ("torchao Int8WeightOnlyConfig per row, pre-quantized",
                  ("torchao", "int8", (False, False, 4)),
                  {"quant_method": "torchao", "quant_type": {"default": {
                      "_type": "Int8WeightOnlyConfig", "_version": 2,
                      "_data": {"granularity": {"_type": "PerRow", "_data": {}}}}}}, None),
    "bitnet-model": ("BitNet bitlinear, packed ternary weight, pre-quantized",
                  ("bitnet", "packed_ternary", (1,)),
                  {"quant_method": "bitnet", "linear_class": "bitlinear", "quantization_mode": "offline"}, None),
}


def main(names):
    for name, (doc, (mod, fn, args), pre, user, *extra) in TESTS.items():
        if names and name not in names:
            continue
        case = capture(mod, fn, *args)
        write_model_test(name, doc, case, quantization_config=pre, user_config=user,
                         **(extra[0] if extra else {}))


if __name__ == "__main__":
    main(sys.argv[1:])
