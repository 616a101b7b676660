#!/usr/bin/env python3
"""CPU self-test of make_checkpoint.py at tiny scale (no GPU needed).

    selftest.py [--work DIR]

For gptq, awq and bf16 (tiny shape, forced into several shards) it checks:
- the headers of the full run and of --header-only are byte-identical, and
  the files have the same sizes (the header-only data region is a hole);
- the safetensors package reads every shard; every tensor's dtype and shape
  are the planned ones; the index maps every tensor to its shard;
- the packed tensors equal test/models/gen/make_corpus.py's own packers
  (pack_gptq / pack_awq, pure-Python) applied to the same RTN codes, and the
  unpacked weights equal make_corpus's rtn_gptq / rtn_awq dequantization;
- a tensor does not depend on --layers (seeded by name);
- transformers loads the bf16 checkpoint and runs a forward;
- with --hfq build/bin/hfq-run: hfq-run (float32, CPU) on the tiny sharded
  gptq and awq checkpoints agrees with gpu_reference.py's dense reference of
  their dequantized weights (run on the CPU) within 1e-4, greedy ids equal
  (test/models/compare.py).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "test" / "models" / "gen"))
import make_checkpoint as mc  # noqa: E402


def run(*args):
    subprocess.run([sys.executable, str(HERE / "make_checkpoint.py"), *args], check=True,
                   stdout=subprocess.DEVNULL)


def header_bytes(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return n.to_bytes(8, "little") + f.read(n)


def shard_files(d):
    return sorted(p for p in os.listdir(d) if p.endswith(".safetensors"))


def check_header_only(full, hole):
    """Byte-identical headers and JSON files, equal file sizes."""
    files = shard_files(full)
    assert files == shard_files(hole), (files, shard_files(hole))
    for f in files:
        a, b = header_bytes(os.path.join(full, f)), header_bytes(os.path.join(hole, f))
        assert a == b, f"{f}: headers differ"
        assert os.path.getsize(os.path.join(full, f)) == os.path.getsize(os.path.join(hole, f)), f
        assert len(a) % 8 == 0, f"{f}: header length {len(a)} not a multiple of 8"
    for j in ("config.json", "generation_config.json", "model.safetensors.index.json"):
        pa, pb = os.path.join(full, j), os.path.join(hole, j)
        if os.path.exists(pa) or os.path.exists(pb):
            assert open(pa, "rb").read() == open(pb, "rb").read(), j
    used = sum(os.stat(os.path.join(hole, f)).st_blocks * 512 for f in files)
    total = sum(os.path.getsize(os.path.join(hole, f)) for f in files)
    return files, used, total


def load_all(d):
    """{name: tensor} over every shard, checked against the index."""
    from safetensors import safe_open
    out, where = {}, {}
    for f in shard_files(d):
        with safe_open(os.path.join(d, f), framework="pt") as st:
            for k in st.keys():
                out[k] = st.get_tensor(k)
                where[k] = f
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        wm = json.load(open(idx))["weight_map"]
        assert wm == where, "index weight_map differs from the shards"
    return out


def check_plan(tensors, fmt):
    s = mc.shape_for(True, None)
    dt = {"F16": torch.float16, "BF16": torch.bfloat16, "I32": torch.int32}
    planned = {n: (d, sh) for m in mc.plan_modules(s, fmt) for n, d, sh in m[4]}
    assert set(planned) == set(tensors), set(planned) ^ set(tensors)
    for n, (d, sh) in planned.items():
        assert tensors[n].dtype == dt[d] and list(tensors[n].shape) == sh, (n, tensors[n].dtype, tensors[n].shape)


def check_against_make_corpus(tensors, fmt, seed):
    """Every linear: packing = make_corpus's packers, dequantization = its RTN."""
    import make_corpus as ref
    s = mc.shape_for(True, None)
    for layer in range(s["layers"]):
        for suffix, n, k in mc.linear_dims(s):
            key = f"model.layers.{layer}.{suffix}"
            w = mc.randn(torch, (n, k), seed, key + ".weight", "cpu")
            if fmt == "gptq":
                q, scales, deq = ref.rtn_gptq(w, mc.GROUP)
                qweight, qzeros, g_idx = ref.pack_gptq(q, 7, mc.GROUP)
                want = {"qweight": qweight, "qzeros": qzeros, "scales": scales, "g_idx": g_idx}
                got_deq = unpack_gptq(tensors, key)
            else:
                q, z, scales, deq = ref.rtn_awq(w, mc.GROUP)
                qweight, qzeros = ref.pack_awq(q, z)
                want = {"qweight": qweight, "qzeros": qzeros, "scales": scales}
                got_deq = unpack_awq(tensors, key)
            for t, v in want.items():
                assert torch.equal(tensors[f"{key}.{t}"], v), f"{key}.{t} differs from make_corpus"
            assert torch.equal(got_deq, deq), f"{key}: dequantized weight differs"


def nibbles(words, order=None):
    """int32 [..., W] -> int64 [..., 8W] (inverse of make_checkpoint.pack_nibbles)."""
    w = words.to(torch.int64) & 0xFFFFFFFF
    q = (w.unsqueeze(-1) >> torch.arange(0, 32, 4)) & 15
    if order is not None:
        inv = [0] * 8
        for i, o in enumerate(order):
            inv[o] = i
        q = q[..., inv]
    return q.reshape(*words.shape[:-1], -1)


def unpack_gptq(t, key):
    qw, qz, sc = t[key + ".qweight"], t[key + ".qzeros"], t[key + ".scales"]
    q = nibbles(qw.t().contiguous())                      # [N, K]
    z = nibbles(qz) + 1                                  # [G, N]
    g = t[key + ".g_idx"].long()
    return (q - z[g].t()).float() * sc.float()[g].t()


def unpack_awq(t, key):
    qw, qz, sc = t[key + ".qweight"], t[key + ".qzeros"], t[key + ".scales"]
    q = nibbles(qw, mc.AWQ_ORDER)                         # [K, N]
    z = nibbles(qz, mc.AWQ_ORDER)                         # [G, N]
    g = torch.arange(q.shape[0]) // mc.GROUP
    return ((q - z[g]).float() * sc.float()[g]).t().contiguous()


def check_layers_independent(work, fmt, full):
    d = os.path.join(work, f"{fmt}-1layer")
    run("--out", d, "--format", fmt, "--tiny", "--layers", "1", "--device", "cpu")
    one = load_all(d)
    for k, v in one.items():
        assert torch.equal(v, full[k]), f"{k} depends on --layers"


def check_transformers(d):
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager").eval()
    assert m.dtype == torch.bfloat16, m.dtype
    with torch.no_grad():
        out = m(torch.tensor([[1, 2, 3]])).logits
    assert out.shape == (1, 3, 512) and torch.isfinite(out).all()
    # every tensor of the checkpoint ended up in the model unchanged
    sd = m.state_dict()
    for k, v in load_all(d).items():
        assert torch.equal(sd[k], v), k


def check_hfq(work, hfq):
    """hfq-run on tiny gptq/awq checkpoints against gpu_reference.py's dense reference."""
    models, out = os.path.join(work, "models"), os.path.join(work, "reference")
    prompt = [1, 17, 42, 99, 3, 250, 7, 64]
    for fmt in ("gptq", "awq"):
        d = os.path.join(models, f"tiny-{fmt}")
        run("--out", d, "--format", fmt, "--tiny", "--seed", "5", "--device", "cpu", "--max-shard-gb", "0.0004")
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump({"case": f"tiny-{fmt}", "dtype": "float32", "input_ids": prompt, "logits": [],
                       "greedy_ids": [], "reference": "transformers dense model with the dequantized weights"}, f)
    subprocess.run([sys.executable, str(HERE / "gpu_reference.py"), "--models", models, "--out", out,
                    "--device", "cpu"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for fmt in ("gptq", "awq"):
        got = os.path.join(out, f"hfq-{fmt}.json")
        subprocess.run([hfq, os.path.join(models, f"tiny-{fmt}"), "--prompt-ids=" + ",".join(map(str, prompt)),
                        "--max-new-tokens=16", "--dtype=float32", f"--logits-out={got}"],
                       check=True, stdout=subprocess.DEVNULL)
        r = subprocess.run([sys.executable, str(ROOT / "test" / "models" / "compare.py"),
                            os.path.join(out, f"tiny-{fmt}.json"), got, "--atol", "1e-4", "--rtol", "1e-4"],
                           capture_output=True, text=True)
        print("hfq-run vs gpu_reference.py: " + r.stdout.strip(), flush=True)
        assert r.returncode == 0, r.stdout + r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=None)
    ap.add_argument("--hfq", default=None, help="hfq-run binary: also check hfq against the dense reference")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="llama8b-selftest-")
    shutil.rmtree(work, ignore_errors=True)
    limits = {"gptq": "0.0004", "awq": "0.0004", "bf16": "0.0015"}
    for fmt in ("gptq", "awq", "bf16"):
        full, hole = os.path.join(work, fmt), os.path.join(work, fmt + "-h")
        run("--out", full, "--format", fmt, "--tiny", "--seed", "3", "--device", "cpu",
            "--max-shard-gb", limits[fmt])
        run("--out", hole, "--format", fmt, "--tiny", "--seed", "3", "--header-only",
            "--max-shard-gb", limits[fmt])
        files, used, total = check_header_only(full, hole)
        tensors = load_all(full)
        check_plan(tensors, fmt)
        if fmt != "bf16":
            check_against_make_corpus(tensors, fmt, 3)
        print(f"{fmt}: {len(files)} shards, {len(tensors)} tensors; header-only headers identical "
              f"({total} bytes, {used} allocated)", flush=True)
    run("--out", os.path.join(work, "g0"), "--format", "gptq", "--tiny", "--device", "cpu")
    check_layers_independent(work, "gptq", load_all(os.path.join(work, "g0")))
    print("gptq: --layers 1 tensors equal the 2-layer run's", flush=True)
    check_transformers(os.path.join(work, "bf16"))
    print("bf16: transformers loads it (bfloat16, every tensor equal), forward finite", flush=True)
    if args.hfq:
        check_hfq(work, args.hfq)
    print(f"selftest: PASS ({work})")


if __name__ == "__main__":
    main()
