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


# The abi fuzzer's input (test/fuzz/abi-fuzzer.cpp reads it front to back):
# kernel and activation, sizes, descriptor modes, args, table rows.
ABI_KERNELS = ["awq", "bnb4", "bnb8", "gptq", "aqlm", "quanto", "eetq", "hqq",
               "fp8_dequant_bf16", "compressed_tensors", "fbgemm_fp8", "torchao",
               "bitnet", "fp8", "mxfp8", "mxfp4"]  # HFQ_REF_KERNELS order
ABI_ACT = {"f32": 0, "f16": 2, "bf16": 3, "quantize_f32": 4, "quantize_f16": 6,
           "quantize_bf16": 7}
ABI_DTYPES = {"i8": 1, "u8": 2, "i16": 3, "i32": 4, "f16": 5, "bf16": 6, "f32": 7, "i64": 10}
ABI_SPECIAL_ARGS = ["nan", "inf", "-inf", "1e300", "-1e300", "4.5"]


def abi_size(v):
    """A readSize: one byte for 0..63, else 0xF0 and the raw int64."""
    return bytes([v]) if 0 <= v < 64 else b"\xf0" + struct.pack("<q", v)


def abi_arg(v):
    """A readArg: a small integer in one byte, a special by index, else raw."""
    if isinstance(v, str):
        return bytes([0x80 + ABI_SPECIAL_ARGS.index(v)])
    if float(v).is_integer() and -16 <= v < 112:
        return bytes([int(v) + 16])
    return b"\xc0" + struct.pack("<d", v)


def abi_call(kernel, act, sizes, args, rows, bias=False, modes=None):
    """One entry-point call: `sizes` M, N, K (N, K for a quantize entry),
    `rows` (dtype, shape, data bytes) of the tensor table."""
    quantize = act.startswith("quantize")
    out = bytes([ABI_KERNELS.index(kernel) << 3 | ABI_ACT[act]])
    out += b"".join(abi_size(v) for v in sizes)
    if not quantize:
        out += bytes([1 if bias else 0])
    out += modes or (b"\0" if quantize else b"\0\0\0")  # y, x, bias or w: contiguous
    out += b"\0\0" + b"".join(abi_arg(v) for v in args)  # the kernel's count
    out += bytes([len(rows), 0, 0])
    for dtype, shape, data in rows:
        # A rank over 4 is written raw (0xF0, then a size), as a bad one is.
        rank = bytes([len(shape)]) if len(shape) <= 4 else b"\xf0" + abi_size(len(shape))
        out += bytes([ABI_DTYPES[dtype] - 1]) + rank
        out += b"".join(abi_size(d) for d in shape) + data + b"\0"
    return out


def abi_seeds():
    def words(count, seed):
        return b"".join(struct.pack("<I", (i * 2654435761 + seed) & 0xFFFFFFFF)
                        for i in range(count))

    def halves(count, value=0x2E66):  # f16 0.1
        return struct.pack("<%dH" % count, *([value] * count))

    # GPTQ 4-bit, N=16, K=64, groups of 32: qweight, qzeros, scales, g_idx.
    gptq_rows = [("i32", [8, 16], words(128, 1)), ("i32", [2, 2], words(4, 2)),
                 ("f16", [2, 16], halves(32)),
                 ("i32", [64], struct.pack("<64i", *[j // 32 for j in range(64)]))]
    for act in ("f32", "f16", "bf16"):
        write("abi", abi_call("gptq", act, [2, 16, 64], [4, 32, 1], gptq_rows, bias=True))
    # AWQ gemm, N=16, K=64: qweight [K, N/8], qzeros, scales.
    write("abi", abi_call("awq", "f32", [3, 16, 64], [4, 32, 0],
                          [("i32", [64, 2], words(128, 3)), ("i32", [2, 2], words(4, 4)),
                           ("f16", [2, 16], halves(32))]))
    # bnb int8, N=8, K=16: CB, SCB; threshold 6.
    write("abi", abi_call("bnb8", "f32", [1, 8, 16], [6.0],
                          [("i8", [8, 16], bytes(range(128))),
                           ("f32", [8], struct.pack("<8f", *[0.5] * 8))]))
    # EETQ, N=K=64 (the sm80 layout's multiple): weight i8 [K, N], scales.
    write("abi", abi_call("eetq", "f32", [1, 64, 64], [],
                          [("i8", [64, 64], bytes((i * 37) % 256 for i in range(4096))),
                           ("f16", [64], halves(64))]))
    # quanto qint8 quantize, N=16, K=32: the outputs (data, scale and the two
    # activation scales) are written.
    write("abi", abi_call("quanto", "quantize_f32", [16, 32], [0, 8, 0],
                          [("i8", [16, 32], bytes(512)), ("f16", [16, 1], bytes(32)),
                           ("f16", [], bytes(2)), ("f16", [], bytes(2))]))
    # The malformed calls: negative M, an M x N that overflows,
    # NaN / inf / 1e300 / 4.5 bits, rank 5, an unknown dtype, a null table.
    write("abi", abi_call("gptq", "f32", [-1, 16, 64], [4, 32, 1], gptq_rows))
    write("abi", abi_call("gptq", "f32", [1 << 40, 1 << 40, 1], [4, 32, 1], gptq_rows))
    for bad in ABI_SPECIAL_ARGS:
        write("abi", abi_call("gptq", "f32", [2, 16, 64], [bad, 32, 1], gptq_rows))
        write("abi", abi_call("aqlm", "f32", [2, 16, 64], [8, 1, 1, bad], []))
    write("abi", abi_call("gptq", "f32", [2, 16, 64], [4, 32, 1],
                          [("i32", [1, 1, 1, 1, 1], b"")]))
    write("abi", abi_call("gptq", "f32", [2, 16, 64], [4, 32, 1], gptq_rows)[:-1] +
          b"\xff")  # the last row's data address: wraps
    write("abi", abi_call("gptq", "f32", [2, 16, 64], [4, 32, 1], gptq_rows,
                          modes=b"\5" + abi_size(0) + abi_size(2 ** 63 - 1) + abi_size(1) +
                          b"\0\0"))  # y: strides whose indices overflow


if __name__ == "__main__":
    only = sys.argv[1:]  # e.g. `make-seeds.py abi`: just those corpora
    for name, seeds in (("dispatch", dispatch_seeds), ("safetensors", safetensors_seeds),
                        ("ir", ir_seeds), ("abi", abi_seeds)):
        if not only or name in only:
            seeds()
    for fuzzer in sorted(os.listdir(OUT)):
        folder = os.path.join(OUT, fuzzer)
        if os.path.isdir(folder):
            files = os.listdir(folder)
            print(fuzzer, len(files), "seeds,", sum(os.path.getsize(os.path.join(folder, f)) for f in files), "bytes")
