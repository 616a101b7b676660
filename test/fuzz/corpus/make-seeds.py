#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (test/fuzz/corpus/<fuzzer>/) from the
repository's own inputs: hub quantization configs and example configs for
dispatch, tiny valid safetensors files and indexes for safetensors, and the
hfq dialect's lit inputs (split at `// -----`) for ir. Run from anywhere;
the seeds are committed, this records how they were made.
"""
import hashlib
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OUT = os.path.join(ROOT, "test", "fuzz", "corpus")


def write(fuzzer, data):
    if isinstance(data, str):
        data = data.encode()
    folder = os.path.join(OUT, fuzzer)
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def dispatch_seeds():
    tiny = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
            "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 256,
            "torch_dtype": "float16"}
    configs = json.load(open(os.path.join(ROOT, "test", "unit", "Inputs", "real-quant-configs.json")))
    for entry in configs:
        qc = entry["quantization_config"]
        model = dict(tiny, quantization_config=qc)
        write("dispatch", json.dumps({"model": model}, separators=(",", ":")))
        write("dispatch", json.dumps({"user": qc, "target": "sm_80", "device_map": "auto"},
                                     separators=(",", ":")))
    for name in ("deepseek-v3.json", "llama-2-7b-gptq.json"):
        write("dispatch", open(os.path.join(ROOT, "examples", "configs", name)).read())
    write("dispatch", json.dumps({"model": tiny, "user": {"quant_method": "gptq", "bits": 4},
                                  "device_map": {"": 0, "lm_head": "cpu"}, "dtype": "bfloat16",
                                  "target": "cpu"}))


def safetensors_file(tensors, metadata=True):
    sizes = {"F16": 2, "BF16": 2, "F32": 4, "I32": 4, "I8": 1, "U8": 1, "F8_E4M3": 1}
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = {"format": "pt"}
    for name, dtype, shape in tensors:
        count = 1
        for d in shape:
            count *= d
        size = count * sizes[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + size]}
        data += bytes((i * 7 + 3) % 256 for i in range(size))
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    write("safetensors", safetensors_file([("model.layers.0.mlp.up_proj.qweight", "I32", [2, 8]),
                                           ("model.layers.0.mlp.up_proj.scales", "F16", [1, 8]),
                                           ("lm_head.weight", "F16", [4, 2])]))
    write("safetensors", safetensors_file([("a.weight", "BF16", [2, 2]), ("b", "F8_E4M3", [3])], False))
    write("safetensors", safetensors_file([("empty", "F32", [0, 4]), ("x.weight", "U8", [1, 1])]))
    write("safetensors", json.dumps({"metadata": {"total_size": 64}, "weight_map": {
        "model.layers.0.self_attn.q_proj.weight": "model-00001-of-00002.safetensors",
        "model.layers.0.mlp.down_proj.qweight": "model-00002-of-00002.safetensors",
        "lm_head.weight": "model-00002-of-00002.safetensors"}}))


def ir_seeds():
    files = [os.path.join(ROOT, "examples", "llama-block.mlir"),
             os.path.join(ROOT, "examples", "llama-block-gptq.mlir"),
             os.path.join(ROOT, "test", "dialect", "ops.mlir"),
             os.path.join(ROOT, "test", "dialect", "invalid.mlir"),
             os.path.join(ROOT, "test", "passes", "hfq-select-kernel.mlir")]
    dispatch = os.path.join(ROOT, "test", "passes", "hfq-dispatch")
    files += sorted(os.path.join(dispatch, f) for f in os.listdir(dispatch) if f.endswith(".mlir"))
    for path in files:
        for chunk in open(path).read().split("// -----"):
            # Comments (RUN and CHECK lines included) are no use to the parser.
            text = "\n".join(l for l in chunk.splitlines() if not l.lstrip().startswith("//")).strip()
            if text and len(text) <= 4096:
                write("ir", text + "\n")


if __name__ == "__main__":
    dispatch_seeds()
    safetensors_seeds()
    ir_seeds()
    for fuzzer in sorted(os.listdir(OUT)):
        folder = os.path.join(OUT, fuzzer)
        if os.path.isdir(folder):
            files = os.listdir(folder)
            print(fuzzer, len(files), "seeds,", sum(os.path.getsize(os.path.join(folder, f)) for f in files), "bytes")
