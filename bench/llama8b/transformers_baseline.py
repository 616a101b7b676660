#!/usr/bin/env python3
"""transformers' own bf16 Llama-3-8B on the GPU: prefill and decode speed, the
baseline beside hfq's GPTQ 4-bit numbers, and the HBM floor of hfq's model.

    transformers_baseline.py --json OUT.json [--batch 1 16] [--prefill 2048]
                             [--decode 128] [--tiny] [--budget 290]

The model: LlamaForCausalLM with Llama-3-8B's shape (make_checkpoint.py's),
bfloat16, attn_implementation "sdpa", seeded random weights initialised on the
device (no checkpoint is read or written).

Measured (CUDA events, after warm-up, medians):
- prefill: one forward of --prefill tokens at batch 1 into a static KV cache,
  last-position logits only (what generate's prefill computes): tokens/s;
- decode, per batch size: model.generate(do_sample=False, min_new_tokens=N,
  max_new_tokens=N) over a StaticCache (what cache_implementation="static"
  builds; made once per batch size and reset between calls, so compiled CUDA
  graphs keep their addresses), ms per step = (T(N) - T(1)) / (N - 1), where
  T(1) is the same call with one new token (prefill + first token);
- peak device memory (torch.cuda.max_memory_allocated).

Modes, tried in this order until every measurement has a result:
"static+compile" (generate's automatic torch.compile of the decode forward,
inductor "reduce-overhead"), "static eager" (disable_compile), "dynamic eager"
(DynamicCache). Each mode runs in a child process with a time limit, so a
compile that hangs or exceeds the budget is killed and the remaining
measurements fall back; the mode of each measurement is recorded.

The HBM floor is computed, not measured: the bytes one batch-1 decode step
of hfq's GPTQ 4-bit group-128 model must read, divided by the bandwidth.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_checkpoint as mc  # noqa: E402 (the shapes; imports no torch)

MODES = ("static+compile", "static eager", "dynamic eager")
BANDWIDTH = {"h200": 4.8e12, "h200_issue": 4.3e12, "h100_sxm": 3.35e12}
EAGER_RESERVE_S = 100        # kept back from the compile attempt for the eager fallback


def log(msg):
    print(msg, flush=True)


# --- the HBM floor (no torch) ------------------------------------------------------------

def floor_bytes(s, ctx, weight_bits=4, group=mc.GROUP):
    """Bytes read by one batch-1 decode step: every linear's weights at
    `weight_bits` (+ an f16 scale and a packed 4-bit zero per group when
    quantized; GPTQ's g_idx is not read, desc_act being false), lm_head and
    norms in 16 bits, one embedding row, and the KV cache of `ctx` positions."""
    lin = s["layers"] * sum(n * k for _, n, k in mc.linear_dims(s))
    parts = {"linear_weights": lin * weight_bits // 8}
    if weight_bits < 16:
        parts["scales_f16"] = lin // group * 2
        parts["zeros_4bit"] = lin // group // 2
    parts["lm_head"] = s["vocab"] * s["hidden"] * 2
    parts["embedding_row"] = s["hidden"] * 2
    parts["norms"] = (2 * s["layers"] + 1) * s["hidden"] * 2
    parts["kv_cache"] = 2 * s["layers"] * s["kv_heads"] * s["head_dim"] * ctx * 2
    return sum(parts.values()), parts


def floors(s, prompt, steps):
    """The GPTQ 4-bit floor (and the bf16 model's, for transformers) at the mean
    context of the decode steps."""
    ctx = prompt + steps // 2
    b4, parts = floor_bytes(s, ctx)
    b16, _ = floor_bytes(s, ctx, weight_bits=16)
    out = {"floor_bytes": b4, "floor_ctx": ctx, "floor_breakdown": parts, "floor_bandwidth": BANDWIDTH}
    out["floor_ms"] = b4 / BANDWIDTH["h200"] * 1e3
    out["floor_ms_4_3"] = b4 / BANDWIDTH["h200_issue"] * 1e3
    out["floor_ms_h100"] = b4 / BANDWIDTH["h100_sxm"] * 1e3
    out["bf16_floor_bytes"] = b16
    out["bf16_floor_ms"] = b16 / BANDWIDTH["h200"] * 1e3
    return out


# --- the worker (one mode, in a child process) -------------------------------------------

def build_model(torch, s, device, seed):
    """LlamaForCausalLM, bf16, sdpa, random weights drawn on the device."""
    from transformers import LlamaConfig, LlamaForCausalLM
    cfg = mc.model_config(s, "bf16")
    for k in ("architectures", "transformers_version", "dtype", "model_type"):
        cfg.pop(k)
    config = LlamaConfig(**cfg)
    torch.manual_seed(seed)
    with torch.device(device):
        model = LlamaForCausalLM._from_config(config, attn_implementation="sdpa", dtype=torch.bfloat16)
    return model.eval()


class Clock:
    """Milliseconds of fn(): CUDA events on a GPU, perf_counter on the CPU."""

    def __init__(self, torch, device):
        self.torch, self.cuda = torch, device.startswith("cuda")

    def __call__(self, fn):
        if not self.cuda:
            t = time.perf_counter()
            fn()
            return (time.perf_counter() - t) * 1e3
        a = self.torch.cuda.Event(enable_timing=True)
        b = self.torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        return a.elapsed_time(b)


def make_cache(model, mode, max_len, fresh):
    """The StaticCache generate will use, or None where generate makes its own
    (a DynamicCache; or, with --fresh-cache, cache_implementation="static")."""
    from transformers import StaticCache
    if mode == "dynamic eager" or fresh:
        return None
    return StaticCache(config=model.config, max_cache_len=max_len)


def prompt_ids(torch, s, batch, length, device, seed):
    g = torch.Generator(device="cpu").manual_seed(seed + batch)
    return torch.randint(0, s["vocab"], (batch, length), generator=g).to(device)


def measure_prefill(torch, model, s, args, clock):
    """Batch-1 prefill into a static cache, last-position logits: tokens/s."""
    from transformers import StaticCache
    ids = prompt_ids(torch, s, 1, args.prefill, args.device, args.seed)
    cache = StaticCache(config=model.config, max_cache_len=args.prefill)

    def run():
        cache.reset()
        with torch.no_grad():
            model(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1)

    run()
    times = [clock(run) for _ in range(3)]
    ms = statistics.median(times)
    return {"prefill_tokens": args.prefill, "prefill_ms": ms, "prefill_ms_all": times,
            "transformers_prefill_tok_s": args.prefill / ms * 1e3,
            "what": "forward of the prompt at batch 1 into a StaticCache, logits_to_keep=1 (eager)"}


def generate_fn(torch, model, ids, cache, mode, new):
    """A closure running one greedy generate of `new` tokens."""
    kw = dict(do_sample=False, min_new_tokens=new, max_new_tokens=new, pad_token_id=0,
              attention_mask=torch.ones_like(ids))
    if cache is None and mode != "dynamic eager":
        kw["cache_implementation"] = "static"
    if mode != "static+compile":
        kw["disable_compile"] = True
    elif ids.device.type == "cpu":        # the --tiny CPU test: generate compiles only on GPUs by default
        from transformers import CompileConfig
        cc = CompileConfig(mode="default")
        cc._compile_all_devices = True
        kw["compile_config"] = cc

    def run():
        if cache is not None:
            cache.reset()
            kw["past_key_values"] = cache
        with torch.no_grad():
            run.out = model.generate(ids, **kw)
    return run


def measure_decode(torch, model, s, args, clock, batch, mode):
    """ms per decode step at `batch`: (T(N) - T(1)) / (N - 1), medians of 3."""
    length = args.prefill
    while True:
        try:
            return decode_at(torch, model, s, args, clock, batch, mode, length)
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            if length <= 128:
                raise
            length //= 2
            log(f"  batch {batch}: out of memory, prompt {length * 2} -> {length}")


def decode_at(torch, model, s, args, clock, batch, mode, length):
    n = args.decode
    ids = prompt_ids(torch, s, batch, length, args.device, args.seed)
    cache = make_cache(model, mode, length + n, args.fresh_cache)
    full, one = generate_fn(torch, model, ids, cache, mode, n), generate_fn(torch, model, ids, cache, mode, 1)
    t0 = time.time()
    warm = [clock(full) for _ in range(2)]      # compiles and records CUDA graphs in compile mode
    log(f"  batch {batch} {mode}: warm-up {time.time() - t0:.1f} s ({', '.join(f'{w:.0f}' for w in warm)} ms)")
    clock(one)
    tn, t1 = [], []
    for _ in range(3):
        tn.append(clock(full))
        t1.append(clock(one))
    assert full.out.shape == (batch, length + n), full.out.shape
    mn, m1 = statistics.median(tn), statistics.median(t1)
    compiled = hasattr(model, "_compiled_call")
    return {"batch": batch, "prompt": length, "new_tokens": n,
            "mode": "static eager (compile not triggered)" if mode == "static+compile" and not compiled else mode,
            "compiled": compiled, "cache": "dynamic" if mode == "dynamic eager" else
            ("static, new per call (cache_implementation)" if cache is None else "static, reused and reset"),
            "ms_per_step": (mn - m1) / (n - 1), "generate_ms": mn, "generate_1_token_ms": m1,
            "generate_ms_all": tn, "generate_1_token_ms_all": t1, "warmup_ms": warm,
            "warmup_s": time.time() - t0}


def worker(args):
    """Runs the measurements named in --todo in one mode; writes each result to
    --part as soon as it exists."""
    import torch
    import transformers
    s = mc.shape_for(args.tiny, None)
    done = {"device": args.device, "torch": torch.__version__, "transformers": transformers.__version__}
    if args.device.startswith("cuda"):
        done["device_name"] = torch.cuda.get_device_name()
    t0 = time.time()
    model = build_model(torch, s, args.device, args.seed)
    log(f"[{args.worker}] model built in {time.time() - t0:.1f} s")
    clock = Clock(torch, args.device)
    for item in args.todo:
        if args.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        if item == "prefill":
            res = measure_prefill(torch, model, s, args, clock)
        else:
            res = measure_decode(torch, model, s, args, clock, int(item.split("_b")[1]), args.worker)
        res["peak_mem_gb"] = torch.cuda.max_memory_allocated() / 1e9 if args.device.startswith("cuda") else None
        done[item] = res
        log(f"[{args.worker}] {item}: " + ", ".join(f"{k} {v:.4g}" for k, v in res.items()
                                                    if isinstance(v, float)))
        with open(args.part + ".tmp", "w") as f:
            json.dump(done, f)
        os.replace(args.part + ".tmp", args.part)


# --- the orchestrator ----------------------------------------------------------------------

def run_worker(args, mode, todo, timeout):
    """One child process; returns (its results, why it stopped early or None)."""
    part = tempfile.mktemp(prefix="tb-part-", suffix=".json")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", mode, "--part", part,
           "--device", args.device, "--prefill", str(args.prefill), "--decode", str(args.decode),
           "--seed", str(args.seed), "--todo", *todo] + (["--tiny"] if args.tiny else []) + \
        (["--fresh-cache"] if args.fresh_cache else [])
    proc = subprocess.Popen(cmd, start_new_session=True)
    why = None
    try:
        rc = proc.wait(timeout=max(timeout, 1))
        if rc:
            why = f"exit status {rc}"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)       # the child and its compile workers
        proc.wait()
        why = f"killed after the {timeout:.0f} s limit"
    res = {}
    if os.path.exists(part):
        with open(part) as f:
            res = json.load(f)
        os.remove(part)
    return res, why


def measure_all(args):
    """Runs the modes in order until every measurement has a result."""
    todo = ["prefill"] + [f"decode_b{b}" for b in args.batch]
    got, attempts, deadline = {}, [], time.time() + args.budget
    modes = [m for m in MODES if m in args.modes]
    for i, mode in enumerate(modes):
        left = [t for t in todo if t not in got]
        if not left:
            break
        reserve = EAGER_RESERVE_S if mode == "static+compile" and i + 1 < len(modes) else 0
        limit = deadline - time.time() - reserve
        log(f"== {mode}: {' '.join(left)} (limit {limit:.0f} s)")
        res, why = run_worker(args, mode, left, limit)
        attempts.append({"mode": mode, "todo": left, "finished": [t for t in left if t in res],
                         "stopped": why})
        for k, v in res.items():
            got.setdefault(k, v)
        if why:
            log(f"== {mode} stopped: {why}")
    got["attempts"] = attempts
    return got


def summarize(args, got):
    """The JSON document: the required keys first, then the details."""
    s = mc.shape_for(args.tiny, None)
    b1 = got.get("decode_b1", {})
    b16 = got.get("decode_b16", {})
    peaks = [v["peak_mem_gb"] for v in got.values() if isinstance(v, dict) and v.get("peak_mem_gb")]
    doc = {
        "device": got.get("device_name", got.get("device", args.device)),
        "mode": b1.get("mode"),
        "transformers_bf16_decode_ms": b1.get("ms_per_step"),
        "transformers_bf16_decode_ms_b16": b16.get("ms_per_step"),
        "transformers_prefill_tok_s": got.get("prefill", {}).get("transformers_prefill_tok_s"),
        "peak_mem_gb": max(peaks) if peaks else None,
    }
    doc.update(floors(s, args.prefill, args.decode))
    doc["shape"] = "tiny" if args.tiny else "llama-3-8b"
    doc["config"] = {"prefill": args.prefill, "decode": args.decode, "batch": args.batch, "seed": args.seed,
                     "dtype": "bfloat16", "attn_implementation": "sdpa", "fresh_cache": args.fresh_cache}
    doc["versions"] = {"torch": got.get("torch"), "transformers": got.get("transformers")}
    doc["measurements"] = {k: v for k, v in got.items() if k == "prefill" or k.startswith("decode_b")}
    doc["attempts"] = got.get("attempts")
    return doc


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def print_table(doc):
    log("")
    log(f"device: {doc['device']}; shape {doc['shape']}; prompt {doc['config']['prefill']}, "
        f"{doc['config']['decode']} new tokens")
    log("| what | value | mode |")
    log("|---|---|---|")
    m = doc["measurements"]
    log(f"| transformers bf16 prefill, batch 1 | {fmt(doc['transformers_prefill_tok_s'], '.0f')} tokens/s | eager |")
    for key, v in sorted(m.items()):
        if key.startswith("decode_b"):
            log(f"| transformers bf16 decode, batch {v['batch']} (prompt {v['prompt']}) | "
                f"{fmt(v['ms_per_step'], '.3f')} ms/step | {v['mode']} |")
    log(f"| peak device memory | {fmt(doc['peak_mem_gb'], '.2f')} GB | |")
    log(f"| HBM floor, hfq GPTQ 4-bit g128, batch 1 ({doc['floor_bytes'] / 1e9:.3f} GB/step, ctx {doc['floor_ctx']}) "
        f"| {doc['floor_ms']:.3f} ms at 4.8 TB/s; {doc['floor_ms_4_3']:.3f} ms at 4.3 TB/s; "
        f"{doc['floor_ms_h100']:.3f} ms at 3.35 TB/s | computed |")
    log(f"| HBM floor, bf16 model, batch 1 ({doc['bf16_floor_bytes'] / 1e9:.3f} GB/step) "
        f"| {doc['bf16_floor_ms']:.3f} ms at 4.8 TB/s | computed |")


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="output file (required unless --worker)")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--prefill", type=int, default=2048)
    ap.add_argument("--decode", type=int, default=128)
    ap.add_argument("--tiny", action="store_true", help="make_checkpoint.py's tiny shape")
    ap.add_argument("--budget", type=float, default=290, help="seconds for all modes together")
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None)
    ap.add_argument("--fresh-cache", action="store_true",
                    help='generate(cache_implementation="static") makes a new StaticCache per call '
                         "(default: one StaticCache per batch size, reset between calls)")
    ap.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--part", help=argparse.SUPPRESS)
    ap.add_argument("--todo", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.decode < 2:
        ap.error("--decode must be at least 2")
    if not args.worker and not args.json:
        ap.error("--json is required")
    return args


def main(argv=None):
    args = parse(argv)
    if args.device is None:
        import torch
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.worker:
        return worker(args)
    t0 = time.time()
    doc = summarize(args, measure_all(args))
    doc["wall_s"] = round(time.time() - t0, 1)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print_table(doc)
    log(f"wrote {args.json} ({doc['wall_s']} s)")
    missing = [k for k in ("transformers_bf16_decode_ms", "transformers_prefill_tok_s") if doc[k] is None]
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
