"""torch's scaled_dot_product_attention on the shapes of bench/ModelOpsBench.cpp.

A Llama-3-8B layer (32 query heads, 8 KV heads, head_dim 128, bf16) at cache
lengths 128, 2048, 8192: decode (one query against L keys) and causal
prefill (L queries). enable_gqa=True, so K/V are not expanded. CUDA graphs
of one call, replayed in batches of 20; median of 15 batches, CUDA events;
the K/V of 8 layers rotate as in the hfq bench. Prints a markdown table;
--json PATH writes the rows.
"""
import argparse
import json

import torch
import torch.nn.functional as F

HEADS, KV, DIM, LAYERS = 32, 8, 128, 8


def time_graph(fns):
    stream = torch.cuda.Stream()
    graphs = []
    with torch.cuda.stream(stream):
        for fn in fns:  # warm up (kernel selection) outside the capture
            fn()
        torch.cuda.synchronize()
        for fn in fns:
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g, stream=stream):
                fn()
            graphs.append(g)
    times = []
    for batch in range(17):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for i in range(20):
            graphs[i % len(graphs)].replay()
        stop.record()
        torch.cuda.synchronize()
        if batch >= 2:
            times.append(start.elapsed_time(stop) / 20 * 1e3)
    times.sort()
    return times[len(times) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = []
    for length in (128, 2048, 8192):
        for kind in ("decode", "prefill"):
            t = 1 if kind == "decode" else length
            q = torch.randn(1, HEADS, t, DIM, device="cuda", dtype=torch.bfloat16)
            ks = [torch.randn(1, KV, length, DIM, device="cuda", dtype=torch.bfloat16) for _ in range(LAYERS)]
            vs = [torch.randn(1, KV, length, DIM, device="cuda", dtype=torch.bfloat16) for _ in range(LAYERS)]
            causal = kind == "prefill"
            fns = [
                (lambda k=k, v=v: F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True))
                for k, v in zip(ks, vs)
            ]
            us = time_graph(fns)
            rows.append({"op": kind, "L": length, "us": us})
            print(f"| {kind} | {length} | {us:.1f} |", flush=True)
            del ks, vs
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "rows": rows}, f)


if __name__ == "__main__":
    print("| op | L | torch SDPA µs |\n|---|---|---|")
    main()
