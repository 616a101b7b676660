#!/usr/bin/env python3
"""Compares hfq-run's output with transformers' recorded one (standard library only).

    compare.py EXPECTED.json HFQ_OUT.json --atol A --rtol R [--greedy N]

EXPECTED.json is a corpus case's expected.json (test/models/<case>/), written
by gen/make_corpus.py from the real transformers 5.17. HFQ_OUT.json is what
hfq-run writes:

    {"input_ids": [...], "logits": [[V floats] per prompt position],
     "generated_ids": [...]}

Every logit must satisfy |hfq - ref| <= atol + rtol * |ref|, and the first N
greedy ids (default: all that transformers recorded) must be equal. Exit 0
with a one-line summary, 1 naming the worst element and the first differing
greedy step, 2 on unusable input.
"""
import argparse
import json
import math
import sys


def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"compare.py: cannot read {what} {path}: {e}")


def usage_error(msg):
    print(f"compare.py: {msg}", file=sys.stderr)
    sys.exit(2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--atol", type=float, required=True)
    ap.add_argument("--rtol", type=float, required=True)
    ap.add_argument("--greedy", type=int, default=None,
                    help="compare the first N greedy ids (default: all recorded; 0: none)")
    args = ap.parse_args(argv)

    exp = load(args.expected, "expected")
    act = load(args.actual, "hfq output")
    name = exp.get("case", args.expected)

    for key in ("input_ids", "logits"):
        if key not in act:
            usage_error(f"{args.actual} has no '{key}'")
    if act["input_ids"] != exp["input_ids"]:
        usage_error(f"input_ids differ: expected {exp['input_ids']}, got {act['input_ids']}")
    ref, got = exp["logits"], act["logits"]
    if len(got) != len(ref):
        usage_error(f"logits: expected {len(ref)} positions, got {len(got)}")

    worst = None   # (excess over tolerance, pos, index, got, ref, abs diff)
    max_abs = (0.0, 0, 0)
    bad = 0
    for pos, (r_row, g_row) in enumerate(zip(ref, got)):
        if len(g_row) != len(r_row):
            usage_error(f"logits[{pos}]: expected {len(r_row)} values, got {len(g_row)}")
        for idx, (r, g) in enumerate(zip(r_row, g_row)):
            g = float(g)
            d = abs(g - r) if math.isfinite(g) else math.inf
            if d > max_abs[0] or (math.isinf(d) and not math.isinf(max_abs[0])):
                max_abs = (d, pos, idx)
            excess = d - (args.atol + args.rtol * abs(r))
            if excess > 0:
                bad += 1
            if worst is None or excess > worst[0]:
                worst = (excess, pos, idx, g, r, d)

    n_rec = len(exp["greedy_ids"])
    n = n_rec if args.greedy is None else args.greedy
    if n > n_rec:
        usage_error(f"--greedy {n}: only {n_rec} greedy ids recorded")
    first_diff = None
    if n > 0:
        gen = act.get("generated_ids")
        if gen is None:
            usage_error(f"{args.actual} has no 'generated_ids' (needed for --greedy {n})")
        for step in range(n):
            e_id = exp["greedy_ids"][step]
            a_id = gen[step] if step < len(gen) else None
            if a_id != e_id:
                first_diff = (step, e_id, a_id)
                break

    summary = (f"max |diff| {max_abs[0]:.6g} at position {max_abs[1]}, vocab {max_abs[2]}; "
               f"atol {args.atol:g} rtol {args.rtol:g}")
    ok = bad == 0 and first_diff is None
    if ok:
        greedy = f"greedy ids equal for {n} steps" if n else "greedy not compared"
        print(f"{name}: PASS: {summary}; {greedy}")
        return 0
    print(f"{name}: FAIL: {summary}")
    if bad:
        excess, pos, idx, g, r, d = worst
        print(f"  {bad} logits outside tolerance; worst: logits[{pos}][{idx}] = {g!r}, "
              f"expected {r!r} (|diff| {d:.6g} > {args.atol + args.rtol * abs(r):.6g})")
    else:
        print("  logits within tolerance")
    if first_diff is not None:
        step, e_id, a_id = first_diff
        print(f"  greedy ids differ first at step {step}: expected {e_id}, got {a_id}")
    else:
        print(f"  greedy ids equal for {n} steps")
    return 1


if __name__ == "__main__":
    sys.exit(main())
