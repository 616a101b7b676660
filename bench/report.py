#!/usr/bin/env python3
"""Merges hfq-bench's and torch_baselines.py's JSON (one run) into the
markdown tables kept in kernels/cuda/NOTES.md: per N x K and M, the time of
cuBLAS bf16, torch's F.linear, torch's tinygemm int4 and hfq's 4-bit and
8-bit kernels, with hfq's speedups and effective weight bandwidth; then
hfq's bitsandbytes NF4 kernel beside cuBLAS bf16 and bitsandbytes' own;
hfq's fine-grained FP8 beside the best dense bf16 and torch._scaled_mm."""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"(could not read {path}: {e})", file=sys.stderr)
        return {"rows": []}


def main():
    rows = load(sys.argv[1])["rows"] + (load(sys.argv[2])["rows"] if len(sys.argv) > 2 else [])
    main_rows = [r for r in rows if "(tuning)" not in r["path"]]
    table = {}
    for r in main_rows:
        table.setdefault((r["n"], r["k"], r["m"]), {})[r["kernel"]] = r
    print("| N x K | M | cuBLAS bf16 us | F.linear us | tinygemm int4 us | hfq w4g128 us "
          "(path) | w4 vs cuBLAS | w4 vs tinygemm | w4 TB/s | w4 TFLOP/s | hfq w8 us | "
          "w8 vs cuBLAS | w8 TB/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (n, k, m), kern in sorted(table.items()):
        def us(name):
            return kern[name]["us"] if name in kern else float("nan")
        cb, fl, tg, w4, w8 = (us("cublas-bf16"), us("torch-linear-bf16"), us("torch-int4-tinygemm"),
                              us("hfq-w4g128"), us("hfq-w8"))
        w4b = kern.get("hfq-w4g128", {}).get("weight_bytes", float("nan"))
        w8b = kern.get("hfq-w8", {}).get("weight_bytes", float("nan"))
        path = kern.get("hfq-w4g128", {}).get("path", "")
        print(f"| {n}x{k} | {m} | {cb:.1f} | {fl:.1f} | {tg:.1f} | {w4:.1f} ({path}) | "
              f"{cb / w4:.2f}x | {tg / w4:.2f}x | {w4b / w4 / 1e6:.2f} | "
              f"{2 * m * n * k / w4 / 1e6:.1f} | {w8:.1f} | {cb / w8:.2f}x | {w8b / w8 / 1e6:.2f} |")
    if any("hfq-bnb4-nf4" in kern for kern in table.values()):
        print("\nbitsandbytes NF4 (double quant, blocksize 64):\n")
        print("| N x K | M | cuBLAS bf16 us | hfq bnb4 us (path) | vs cuBLAS | TB/s | "
              "bitsandbytes us (path) | vs bitsandbytes |")
        print("|---|---|---|---|---|---|---|---|")
        for (n, k, m), kern in sorted(table.items()):
            if "hfq-bnb4-nf4" not in kern:
                continue
            cb = kern["cublas-bf16"]["us"] if "cublas-bf16" in kern else float("nan")
            h = kern["hfq-bnb4-nf4"]
            b = kern.get("bnb-nf4", {"us": float("nan"), "path": "not run"})
            print(f"| {n}x{k} | {m} | {cb:.1f} | {h['us']:.1f} ({h['path']}) | {cb / h['us']:.2f}x | "
                  f"{h['weight_bytes'] / h['us'] / 1e6:.2f} | {b['us']:.1f} ({b['path']}) | "
                  f"{b['us'] / h['us']:.2f}x |")
    if any("hfq-w4g128-wgmma" in kern for kern in table.values()):
        # The Wgmma path (forced; Auto does not take it yet) against the best
        # dense bf16 of the same run: cuBLAS timed before and after the hfq
        # rows of that M, and torch's F.linear.
        print("\nWgmma path (sm_90a, forced) against the best dense bf16 of the run:\n")
        print("| N x K | M | best dense bf16 us | w4 auto us (path) | w4 wgmma us | w4 wgmma vs "
              "dense | w4 wgmma TFLOP/s | w8 auto us | w8 wgmma us | w8 wgmma vs dense |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for (n, k, m), kern in sorted(table.items()):
            if "hfq-w4g128-wgmma" not in kern:
                continue
            def us(name):
                return kern[name]["us"] if name in kern else float("nan")
            dense = min(kern[name]["us"] for name in
                        ("cublas-bf16", "cublas-bf16-again", "torch-linear-bf16") if name in kern)
            w4, w4g, w8, w8g = (us("hfq-w4g128"), us("hfq-w4g128-wgmma"), us("hfq-w8"),
                                us("hfq-w8-wgmma"))
            path = kern.get("hfq-w4g128", {}).get("path", "")
            print(f"| {n}x{k} | {m} | {dense:.1f} | {w4:.1f} ({path}) | {w4g:.1f} | "
                  f"{dense / w4g:.2f}x | {2 * m * n * k / w4g / 1e6:.1f} | {w8:.1f} | {w8g:.1f} | "
                  f"{dense / w8g:.2f}x |")
    if any("hfq-fp8-block" in kern for kern in table.values()):
        # Fine-grained FP8 (e4m3, 128 x 128 block scales; hfq's time includes
        # the 1 x 128 activation quantization, torch's _scaled_mm rows do not
        # quantize) against the best dense bf16 of the run.
        print("\nFine-grained FP8 (sm_90a) against the best dense bf16 and torch._scaled_mm:\n")
        print("| N x K | M | best dense bf16 us | hfq fp8 us (path) | vs dense | TB/s | TFLOP/s | "
              "_scaled_mm row-wise us | vs row-wise | _scaled_mm block-wise us | vs block-wise |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for (n, k, m), kern in sorted(table.items()):
            if "hfq-fp8-block" not in kern:
                continue
            dense = min((kern[name]["us"] for name in
                         ("cublas-bf16", "cublas-bf16-again", "torch-linear-bf16") if name in kern),
                        default=float("nan"))
            h = kern["hfq-fp8-block"]
            rw = kern.get("torch-scaled-mm-rowwise", {"us": float("nan")})["us"]
            bw = kern.get("torch-scaled-mm-blockwise", {"us": float("nan")})["us"]
            print(f"| {n}x{k} | {m} | {dense:.1f} | {h['us']:.1f} ({h['path']}) | "
                  f"{dense / h['us']:.2f}x | {h['weight_bytes'] / h['us'] / 1e6:.2f} | "
                  f"{2 * m * n * k / h['us'] / 1e6:.1f} | {rw:.1f} | {rw / h['us']:.2f}x | "
                  f"{bw:.1f} | {bw / h['us']:.2f}x |")
    tuning = [r for r in rows if "(tuning)" in r["path"]]
    if tuning:
        print("\nTuning sweep (best three per shape, M, kernel):\n")
        groups = {}
        for r in tuning:
            groups.setdefault((r["n"], r["k"], r["m"], r["kernel"]), []).append(r)
        for key, rs in sorted(groups.items()):
            rs.sort(key=lambda r: r["us"])
            best = ", ".join(f"{r['path'].replace(' (tuning)', '')}: {r['us']:.1f}" for r in rs[:3])
            print(f"- {key[0]}x{key[1]} M={key[2]} {key[3]}: {best}")


if __name__ == "__main__":
    main()
