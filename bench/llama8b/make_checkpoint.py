#!/usr/bin/env python3
"""Writes a Llama-3-8B-shaped checkpoint directory with seeded random weights.

    make_checkpoint.py --out DIR --format gptq|awq|bf16 [--layers N] [--tiny]
                       [--header-only] [--seed S] [--device cuda|cpu]

DIR gets config.json, generation_config.json and the weights: safetensors
shards of at most 5 GB (model-0000i-of-0000n.safetensors) with
model.safetensors.index.json, or one model.safetensors where everything fits
one shard (as transformers' save_pretrained does; --tiny). Shards written by
an earlier run into DIR are removed first. Tensors of one module stay in one
shard; inside a shard, tensors are sorted by name and laid out in that order.

gptq: GPTQ v1 ("gptq" checkpoint format), 4-bit, symmetric, group 128,
      desc_act false: per linear qweight i32 [K/8, N], qzeros i32 [K/128, N/8]
      (zero 8 stored as 7), scales f16 [K/128, N], g_idx i32 [K]
      (specs/gptq.json); dtype float16.
awq:  AutoAWQ GEMM, 4-bit, zero point, group 128: qweight i32 [K, N/8]
      (nibble order 0 2 4 6 1 3 5 7), qzeros i32 [K/128, N/8],
      scales f16 [K/128, N] (specs/awq.json); dtype float16.
bf16: the dense model, every tensor bf16.

Every linear's dense weight is drawn from N(0, 0.02) with a generator seeded
from (--seed, tensor name) alone, so a tensor does not depend on the order it
is written in or on --layers; the quantized formats round it to nearest
(test/models/gen/make_corpus.py's rtn_gptq / rtn_awq, vectorized here).
Embedding and lm_head are N(0, 0.02) too, norms are 1. The values depend on
the device that drew them (CUDA and CPU generators differ); the headers do not.

--header-only writes the same files with byte-identical headers, but leaves
each shard's data region a sparse hole (the file is truncated to its full
size), so a compiler can read the headers without the disk space. This mode
needs only the standard library (no torch).
"""
import argparse
import hashlib
import json
import os
import sys
import time

SHAPES = {
    "8b": dict(hidden=4096, intermediate=14336, layers=32, heads=32, kv_heads=8, head_dim=128,
               vocab=128256, bos=128000, eos=128001),
    "tiny": dict(hidden=256, intermediate=512, layers=2, heads=4, kv_heads=2, head_dim=64,
                 vocab=512, bos=1, eos=2),
}
GROUP = 128
MAX_SHARD = 5 * 10**9              # transformers' "5GB"
STD = 0.02
DTYPE_BYTES = {"F16": 2, "BF16": 2, "F32": 4, "I32": 4}
LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")
AWQ_ORDER = (0, 2, 4, 6, 1, 3, 5, 7)   # nibble i of an AWQ GEMM word holds column 8j + AWQ_ORDER[i]


# --- config ------------------------------------------------------------------------

def shape_for(tiny, layers):
    s = dict(SHAPES["tiny" if tiny else "8b"])
    if layers is not None:
        s["layers"] = layers
    return s


def quantization_config(fmt):
    """quantization_config as the quantizing libraries write it (gptqmodel /
    optimum for GPTQ, AutoAWQ for AWQ gemm), 4-bit group 128."""
    if fmt == "gptq":
        return {"bits": 4, "checkpoint_format": "gptq", "damp_percent": 0.01, "desc_act": False,
                "group_size": GROUP, "lm_head": False, "quant_method": "gptq", "static_groups": False,
                "sym": True, "true_sequential": True}
    if fmt == "awq":
        return {"bits": 4, "group_size": GROUP, "modules_to_not_convert": None, "quant_method": "awq",
                "version": "gemm", "zero_point": True}
    return None


def model_config(s, fmt):
    """config.json of a LlamaForCausalLM as transformers 5.17 writes it (sorted
    keys), with Meta-Llama-3.1-8B's llama3 rope parameters."""
    dtype = "bfloat16" if fmt == "bf16" else "float16"
    cfg = {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": s["bos"], "dtype": dtype, "eos_token_id": s["eos"], "head_dim": s["head_dim"],
        "hidden_act": "silu", "hidden_size": s["hidden"], "initializer_range": STD,
        "intermediate_size": s["intermediate"], "max_position_embeddings": 131072, "mlp_bias": False,
        "model_type": "llama", "num_attention_heads": s["heads"], "num_hidden_layers": s["layers"],
        "num_key_value_heads": s["kv_heads"], "pretraining_tp": 1, "rms_norm_eps": 1e-05,
        "rope_parameters": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                            "original_max_position_embeddings": 8192, "rope_theta": 500000.0,
                            "rope_type": "llama3"},
        "tie_word_embeddings": False, "transformers_version": "5.17.0", "use_cache": True,
        "vocab_size": s["vocab"],
    }
    qc = quantization_config(fmt)
    if qc is not None:
        cfg["quantization_config"] = qc
    return cfg


def generation_config(s):
    """Llama 3.1's bos/eos ids (tiny: 1/2), without its sampling defaults (the
    benchmarks decode greedily)."""
    return {"_from_model_config": True, "bos_token_id": s["bos"], "eos_token_id": s["eos"],
            "transformers_version": "5.17.0"}


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


# --- the tensor plan (pure Python: --header-only needs no torch) -----------------------

def linear_dims(s):
    """(module suffix, N out, K in) of one decoder layer's linears."""
    h, i = s["hidden"], s["intermediate"]
    q, kv = s["heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
    n_k = {"self_attn.q_proj": (q, h), "self_attn.k_proj": (kv, h), "self_attn.v_proj": (kv, h),
           "self_attn.o_proj": (h, q), "mlp.gate_proj": (i, h), "mlp.up_proj": (i, h),
           "mlp.down_proj": (h, i)}
    return [(m, *n_k[m]) for m in LINEARS]


def linear_tensors(fmt, n, k):
    """[(suffix, dtype, shape)] of one linear in `fmt` (specs/gptq.json, specs/awq.json)."""
    if fmt == "bf16":
        return [("weight", "BF16", [n, k])]
    g = k // GROUP
    if fmt == "gptq":
        return [("qweight", "I32", [k // 8, n]), ("qzeros", "I32", [g, n // 8]),
                ("scales", "F16", [g, n]), ("g_idx", "I32", [k])]
    return [("qweight", "I32", [k, n // 8]), ("qzeros", "I32", [g, n // 8]), ("scales", "F16", [g, n])]


def plan_modules(s, fmt):
    """The model's modules in state-dict order: [(module, kind, n, k, [(name, dtype, shape)])],
    kind one of embed, linear, norm, lm_head."""
    fdt = "BF16" if fmt == "bf16" else "F16"
    h, v = s["hidden"], s["vocab"]
    mods = [("model.embed_tokens", "embed", v, h, [("model.embed_tokens.weight", fdt, [v, h])])]
    for layer in range(s["layers"]):
        p = f"model.layers.{layer}"
        for suffix, n, k in linear_dims(s):
            if k % GROUP or n % 8:
                raise SystemExit(f"{p}.{suffix}: N {n}, K {k} do not pack at group {GROUP}")
            mod = f"{p}.{suffix}"
            mods.append((mod, "linear", n, k, [(f"{mod}.{t}", d, sh) for t, d, sh in linear_tensors(fmt, n, k)]))
        for norm in ("input_layernorm", "post_attention_layernorm"):
            mods.append((f"{p}.{norm}", "norm", h, 1, [(f"{p}.{norm}.weight", fdt, [h])]))
    mods.append(("model.norm", "norm", h, 1, [("model.norm.weight", fdt, [h])]))
    mods.append(("lm_head", "lm_head", v, h, [("lm_head.weight", fdt, [v, h])]))
    return mods


def nbytes(dtype, shape):
    n = DTYPE_BYTES[dtype]
    for d in shape:
        n *= d
    return n


def shard_modules(mods, limit=MAX_SHARD):
    """Splits the module list into shards of at most `limit` bytes (a module's
    tensors stay together); returns [[module, ...], ...]."""
    shards, cur, size = [], [], 0
    for m in mods:
        b = sum(nbytes(d, sh) for _, d, sh in m[4])
        if cur and size + b > limit:
            shards.append(cur)
            cur, size = [], 0
        cur.append(m)
        size += b
    shards.append(cur)
    return shards


def shard_header(mods):
    """(header bytes incl. the 8-byte length, data size, [(name, begin, end)] in file
    order) of one shard: tensors sorted by name, laid out in that order, the JSON
    padded with spaces to a multiple of 8 bytes."""
    tensors = sorted((t for m in mods for t in m[4]), key=lambda t: t[0])
    meta, layout, at = {"__metadata__": {"format": "pt"}}, [], 0
    for name, dtype, shape in tensors:
        end = at + nbytes(dtype, shape)
        meta[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, end]}
        layout.append((name, at, end))
        at = end
    text = json.dumps(meta, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text, at, layout


def shard_names(count):
    if count == 1:
        return ["model.safetensors"]
    return [f"model-{i + 1:05d}-of-{count:05d}.safetensors" for i in range(count)]


# --- the tensors (torch) -----------------------------------------------------------

def name_seed(seed, name):
    """A 63-bit generator seed from (seed, tensor name), independent of order."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "little") >> 1


def randn(torch, shape, seed, name, device):
    g = torch.Generator(device=device)
    g.manual_seed(name_seed(seed, name))
    return torch.randn(shape, generator=g, device=device, dtype=torch.float32).mul_(STD)


def to_i32(torch, words):
    """int64 words in [0, 2^32) -> int32 with the same bits."""
    return torch.where(words >= 2**31, words - 2**32, words).to(torch.int32)


def pack_nibbles(torch, q, order=None):
    """q int64 [..., 8*W] (values 0..15) -> int32 [..., W]: nibble i of word j holds
    q[..., 8j + order[i]] (LSB first; order defaults to 0..7)."""
    q = q.reshape(*q.shape[:-1], q.shape[-1] // 8, 8)
    if order is not None:
        q = q[..., list(order)]
    shifts = torch.arange(0, 32, 4, device=q.device, dtype=torch.int64)
    return to_i32(torch, (q << shifts).sum(-1))


def rtn_gptq(torch, w):
    """GPTQ 4-bit sym round to nearest (make_corpus.rtn_gptq): zero 8,
    scale = max|w| / 7.5 per group. Returns q [N, K] int64, scales f16 [G, N]."""
    n, k = w.shape
    g = w.view(n, k // GROUP, GROUP)
    scale = (g.abs().amax(-1) / 7.5).clamp(min=1e-8).half()
    q = torch.clamp(torch.round(g / scale.float().unsqueeze(-1)) + 8, 0, 15)
    return q.view(n, k).to(torch.int64), scale.t().contiguous()


def rtn_awq(torch, w):
    """AWQ 4-bit min-max round to nearest (make_corpus.rtn_awq). Returns q [N, K],
    zeros [G, N] (int64), scales f16 [G, N]."""
    n, k = w.shape
    g = w.view(n, k // GROUP, GROUP)
    mx, mn = g.amax(-1), g.amin(-1)
    scale = ((mx - mn) / 15).clamp(min=1e-8).half()
    s = scale.float()
    z = torch.clamp(torch.round(-mn / s), 0, 15)
    q = torch.clamp(torch.round(g / s.unsqueeze(-1)) + z.unsqueeze(-1), 0, 15)
    return q.view(n, k).to(torch.int64), z.t().to(torch.int64).contiguous(), scale.t().contiguous()


def pack_gptq(torch, q, scales):
    """qweight [K/8, N] (column n: q[n, :] packed along K), qzeros [G, N/8] of
    zero - 1 = 7 (v1 format), g_idx [K]."""
    n, k = q.shape
    qweight = pack_nibbles(torch, q.t().contiguous().view(k // 8, 8, n).permute(0, 2, 1)).contiguous()
    zeros = torch.full((k // GROUP, n), 7, dtype=torch.int64, device=q.device)
    g_idx = torch.arange(k, device=q.device, dtype=torch.int32) // GROUP
    return {"qweight": qweight, "qzeros": pack_nibbles(torch, zeros), "scales": scales, "g_idx": g_idx}


def pack_awq(torch, q, z, scales):
    """AutoAWQ GEMM: qweight [K, N/8], qzeros [G, N/8] in AWQ_ORDER."""
    return {"qweight": pack_nibbles(torch, q.t().contiguous(), AWQ_ORDER),
            "qzeros": pack_nibbles(torch, z, AWQ_ORDER), "scales": scales}


def module_tensors(torch, mod, fmt, seed, device):
    """{tensor name: tensor} of one planned module."""
    name, kind, n, k, tensors = mod
    fdt = torch.bfloat16 if fmt == "bf16" else torch.float16
    if kind == "norm":
        return {tensors[0][0]: torch.ones(n, dtype=fdt, device=device)}
    w = randn(torch, (n, k), seed, name + ".weight", device)
    if kind != "linear" or fmt == "bf16":
        return {tensors[0][0]: w.to(fdt)}
    if fmt == "gptq":
        out = pack_gptq(torch, *rtn_gptq(torch, w))
    else:
        out = pack_awq(torch, *rtn_awq(torch, w))
    return {f"{name}.{t}": v for t, v in out.items()}


def write_tensor(f, torch, t):
    """Writes a tensor's bytes (little-endian, C order) without numpy."""
    import ctypes
    t = t.contiguous().cpu()
    n = t.numel() * t.element_size()
    if n:
        f.write((ctypes.c_ubyte * n).from_address(t.data_ptr()))


# --- writing -----------------------------------------------------------------------

def write_shard(path, mods, header, size, layout, args, torch):
    """One shard file: header, then the data (or a hole of the same size)."""
    with open(path, "wb") as f:
        f.write(header)
        if args.header_only:
            f.truncate(len(header) + size)
            return
        pending = {}
        by_tensor = {t[0]: m for m in mods for t in m[4]}
        for name, begin, end in layout:
            if name not in pending:
                pending.update(module_tensors(torch, by_tensor[name], args.format, args.seed, args.device))
            t = pending.pop(name)
            assert f.tell() == len(header) + begin, name
            write_tensor(f, torch, t)
            assert f.tell() == len(header) + end, (name, f.tell(), end)
        assert not pending, sorted(pending)


def remove_old_weights(out):
    """Removes model*.safetensors and the index an earlier run left in `out`."""
    for f in os.listdir(out):
        if f.startswith("model") and (f.endswith(".safetensors") or f == "model.safetensors.index.json"):
            os.remove(os.path.join(out, f))


def write_checkpoint(args):
    """Writes the whole directory; returns {file: bytes}."""
    s = shape_for(args.tiny, args.layers)
    torch = None
    if not args.header_only:
        import torch  # noqa: F811 (imported only where data is written)
    os.makedirs(args.out, exist_ok=True)
    remove_old_weights(args.out)
    write_json(os.path.join(args.out, "config.json"), model_config(s, args.format))
    write_json(os.path.join(args.out, "generation_config.json"), generation_config(s))
    shards = shard_modules(plan_modules(s, args.format), int(args.max_shard_gb * 1e9))
    files = shard_names(len(shards))
    weight_map, total, sizes = {}, 0, {}
    for mods, fname in zip(shards, files):
        header, size, layout = shard_header(mods)
        t0 = time.time()
        write_shard(os.path.join(args.out, fname), mods, header, size, layout, args, torch)
        print(f"{fname}: {len(layout)} tensors, {size / 1e9:.3f} GB"
              f"{' (header only)' if args.header_only else ''}, {time.time() - t0:.1f} s", flush=True)
        for name, _, _ in layout:
            weight_map[name] = fname
        total += size
        sizes[fname] = len(header) + size
    if len(files) > 1:
        write_json(os.path.join(args.out, "model.safetensors.index.json"),
                   {"metadata": {"total_size": total}, "weight_map": weight_map})
    return sizes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--format", required=True, choices=["gptq", "awq", "bf16"])
    ap.add_argument("--layers", type=int, default=None, help="override the layer count")
    ap.add_argument("--tiny", action="store_true", help="hidden 256, 2 layers, vocab 512")
    ap.add_argument("--header-only", action="store_true", help="shard data left as sparse holes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None, help="cuda when available, else cpu")
    ap.add_argument("--max-shard-gb", type=float, default=5.0,
                    help="shard size limit in GB (10^9 bytes; default 5, as transformers' 5GB)")
    args = ap.parse_args(argv)
    if args.device is None and not args.header_only:
        import torch
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    t0 = time.time()
    sizes = write_checkpoint(args)
    print(f"{args.out}: {args.format}, {len(sizes)} shard(s), {sum(sizes.values()) / 1e9:.3f} GB, "
          f"device {args.device}, {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
