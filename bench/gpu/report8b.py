#!/usr/bin/env python3
"""The Llama-3-8B-shaped benchmark's table and JSON (bench/gpu/run.sh bench8b).

    report8b.py --hfq HFQ_EXEC.log --transformers TF.json --compare CMP.txt --json OUT.json

Reads hfq-exec's summary (prefill, decode and device lines), the
transformers baseline's JSON (bench/llama8b/transformers_baseline.py: its
decode and prefill numbers, the mode it ran in and the HBM floor of the GPTQ
model) and compare.py's verdict on the short-prompt logits; writes the
issue's JSON {"floor_ms", "hfq_decode_ms", "transformers_bf16_decode_ms",
"hfq_prefill_tok_s", "transformers_prefill_tok_s", "logits_ok"} with the
ratios beside, and prints a markdown table. Standard library only.
"""
import argparse
import json
import re
import sys


def hfq_numbers(path):
    """prefill tokens/s, decode ms/token, graph steps and peak GB from hfq-exec's summary."""
    text = open(path).read()
    out = {}
    m = re.search(r"^prefill\s+([\d.]+) ms \((\d+) tokens, ([\d.]+) tokens/s\)", text, re.M)
    if m:
        out["hfq_prefill_ms"] = float(m.group(1))
        out["hfq_prefill_tok_s"] = float(m.group(3))
    m = re.search(r"^decode\s+([\d.]+) ms/token", text, re.M)
    if m:
        out["hfq_decode_ms"] = float(m.group(1))
    m = re.search(r"^device\s+(.*): (\d+) of (\d+) decode steps .* peak ([\d.]+) GB", text, re.M)
    if m:
        out["device"] = m.group(1)
        out["hfq_graph_steps"] = f"{m.group(2)} of {m.group(3)}"
        out["hfq_peak_gb"] = float(m.group(4))
    return out


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hfq", required=True)
    ap.add_argument("--transformers", required=True)
    ap.add_argument("--compare", required=True)
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    hfq = hfq_numbers(a.hfq)
    try:
        tf = json.load(open(a.transformers))
    except (OSError, ValueError) as e:
        print(f"report8b.py: no transformers baseline ({e})", file=sys.stderr)
        tf = {}
    try:
        verdict = open(a.compare).read().strip().splitlines()[-1]
    except (OSError, IndexError):
        verdict = "no comparison"
    result = {
        "floor_ms": tf.get("floor_ms"),
        "hfq_decode_ms": hfq.get("hfq_decode_ms"),
        "transformers_bf16_decode_ms": tf.get("transformers_bf16_decode_ms"),
        "hfq_prefill_tok_s": hfq.get("hfq_prefill_tok_s"),
        "transformers_prefill_tok_s": tf.get("transformers_prefill_tok_s"),
        "logits_ok": "PASS" in verdict,
        "logits_verdict": verdict,
        "decode_vs_floor": ratio(hfq.get("hfq_decode_ms"), tf.get("floor_ms")),
        "decode_speedup_vs_transformers": ratio(tf.get("transformers_bf16_decode_ms"),
                                                hfq.get("hfq_decode_ms")),
        "prefill_vs_transformers": ratio(hfq.get("hfq_prefill_tok_s"),
                                         tf.get("transformers_prefill_tok_s")),
        "transformers_mode": tf.get("mode"),
        "transformers_bf16_decode_ms_b16": tf.get("transformers_bf16_decode_ms_b16"),
        "hfq_decode_ms_b16": None,  # hfq's entry points take one sequence
        "hfq_peak_gb": hfq.get("hfq_peak_gb"),
        "transformers_peak_gb": tf.get("peak_mem_gb"),
        "hfq_graph_steps": hfq.get("hfq_graph_steps"),
        "device": hfq.get("device") or tf.get("device"),
        "floor": {k: v for k, v in tf.items() if k.startswith("floor")},
    }
    with open(a.json, "w") as f:
        json.dump(result, f, indent=1)
    fmt = lambda v, spec: "-" if v is None else format(v, spec)
    print(f"Llama-3-8B shape, GPTQ 4-bit g128, batch 1, on {result['device']}\n")
    print("| | hfq (GPTQ 4-bit) | transformers bf16 | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| decode ms/step (2048 context) | {fmt(result['hfq_decode_ms'], '.2f')} | "
          f"{fmt(result['transformers_bf16_decode_ms'], '.2f')} "
          f"({result['transformers_mode']}) | "
          f"{fmt(result['decode_speedup_vs_transformers'], '.2f')}x faster | >= 4x |")
    print(f"| decode vs HBM floor ({fmt(result['floor_ms'], '.2f')} ms) | "
          f"{fmt(result['decode_vs_floor'], '.2f')}x the floor | | | <= 1.3x |")
    print(f"| prefill tokens/s (2048) | {fmt(result['hfq_prefill_tok_s'], '.0f')} | "
          f"{fmt(result['transformers_prefill_tok_s'], '.0f')} | "
          f"{fmt(result['prefill_vs_transformers'], '.2f')}x | >= 1x |")
    print(f"| peak device memory GB | {fmt(result['hfq_peak_gb'], '.2f')} | "
          f"{fmt(result['transformers_peak_gb'], '.2f')} | | |")
    print(f"| decode batch 16 ms/step | not supported (batch-1 entry points) | "
          f"{fmt(result['transformers_bf16_decode_ms_b16'], '.2f')} | | |")
    print(f"\nlogits: {verdict}; decode graph: {result['hfq_graph_steps']} steps replayed")


if __name__ == "__main__":
    main()
