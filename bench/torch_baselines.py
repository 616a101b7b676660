#!/usr/bin/env python3
"""torch's built-in kernels on the benchmark grid, timed the way hfq-bench
times hfq's (weights rotated past the L2, CUDA graphs for M <= 64, CUDA
events, median): F.linear in bf16 (cuBLAS) and torch._weight_int4pack_mm
(tinygemm, int4 with bf16 scale-and-zero, group 128); and, where the
bitsandbytes package imports (bench/device.sh installs the wheel it finds in
.device/whl), bitsandbytes' own NF4 forward (bnb.matmul_4bit, what
Linear4bit runs: gemv_4bit at M = 1, dequantize + matmul above) on an NF4
double-quantized blocksize-64 weight, the format of hfq's hfq-bnb4-nf4 rows;
and torch._scaled_mm on e4m3 operands (sm_89+), row-wise (f32 scales per
token and per output channel) and, where this torch and cuBLAS take it,
block-wise (1 x 128 activation and 128 x 128 weight scales, DeepSeek's),
beside hfq's hfq-fp8-block rows; these time the GEMM alone, on activations
already in e4m3 (hfq's time includes quantizing them).
Writes JSON with the same row shape as hfq-bench. Accepts (and ignores)
hfq-bench's --tune."""
import argparse
import json
import sys

import torch

try:
    import bitsandbytes as bnb
except Exception as e:  # noqa: BLE001 - a missing package only skips its rows
    bnb = None
    print(f"bitsandbytes rows skipped: cannot import bitsandbytes ({e})", file=sys.stderr)

L2 = 60 << 20


def bnb_weights(n, k, dev):
    """bitsandbytes NF4 (double quant, blocksize 64) copies of a random
    weight, enough to rotate past the L2; [] without bitsandbytes."""
    if bnb is None:
        return []
    qbytes = n * k // 2 + n * k // 64
    out = []
    for _ in range(max(1, -(-3 * L2 // qbytes))):
        w = torch.randn(n, k, device=dev, dtype=torch.bfloat16) * 0.02
        packed, state = bnb.functional.quantize_4bit(w, blocksize=64, compress_statistics=True,
                                                     quant_type="nf4")
        out.append((packed, state))
        del w
    return out


def fp8_rows(n, k, ms, x_all, graph_max, trials, dev):
    """torch._scaled_mm rows (row-wise, then block-wise) for every M; [] where
    FP8 is not available."""
    rows = []
    if not hasattr(torch, "float8_e4m3fn") or torch.cuda.get_device_capability() < (8, 9):
        return rows
    wbytes = n * k
    copies = max(1, -(-3 * L2 // wbytes))
    try:
        w8 = [(torch.randn(n, k, device=dev) * 100).clamp(-448, 448).to(torch.float8_e4m3fn)
              for _ in range(copies)]
    except Exception as e:  # noqa: BLE001
        print(f"fp8 weights failed at {n}x{k}: {e}", file=sys.stderr)
        return rows
    x8_all = (x_all.float() * 100).clamp(-448, 448).to(torch.float8_e4m3fn)
    sb_row = torch.rand(1, n, device=dev) * 1e-3 + 1e-4
    sb_block = torch.rand(n // 128, k // 128, device=dev) * 1e-3 + 1e-4
    for m in ms:
        x8 = x8_all[:m]
        sa_row = torch.rand(m, 1, device=dev) * 1e-2 + 1e-3
        # 1 x 128 activation scales, M-major (cuBLAS's block-scaled layout).
        sa_block = (torch.rand(k // 128, m, device=dev) * 1e-2 + 1e-3).t()
        for name, sa, sb in (("torch-scaled-mm-rowwise", sa_row, sb_row),
                             ("torch-scaled-mm-blockwise", sa_block, sb_block)):
            try:
                us = median_us(lambda i: torch._scaled_mm(x8, w8[i].t(), scale_a=sa, scale_b=sb,
                                                          out_dtype=torch.bfloat16),
                               copies, m <= graph_max, trials)
                rows.append(dict(n=n, k=k, m=m, kernel=name, path="torch._scaled_mm", us=us,
                                 weight_bytes=wbytes + sb.numel() * 4))
            except Exception as e:  # noqa: BLE001 - an unsupported scaling only skips its rows
                torch.cuda.synchronize()
                print(f"{name} failed at {n}x{k} M={m}: {e}", file=sys.stderr)
    del w8
    return rows


def median_us_any(launch, copies, graph, trials):
    """median_us, without a CUDA graph where the launch cannot be captured."""
    if graph:
        try:
            return median_us(launch, copies, True, trials), ""
        except Exception as e:  # noqa: BLE001
            print(f"graph capture failed ({e}); timing plain launches", file=sys.stderr)
            torch.cuda.synchronize()
    return median_us(launch, copies, False, trials), " (no graph)" if graph else ""


def median_us(launch, copies, graph, trials):
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        for i in range(copies):
            launch(i)
    torch.cuda.synchronize()
    rounds = max(1, (64 + copies - 1) // copies) if graph else 1
    per = rounds * copies
    g = None
    if graph:
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g, stream=stream):
            for _ in range(rounds):
                for i in range(copies):
                    launch(i)
        g.replay()
        torch.cuda.synchronize()
    times = []
    with torch.cuda.stream(stream):
        for _ in range(trials):
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            a.record(stream)
            if graph:
                g.replay()
            else:
                for _ in range(rounds):
                    for i in range(copies):
                        launch(i)
            b.record(stream)
            b.synchronize()
            times.append(a.elapsed_time(b) * 1000.0 / per)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--shapes", default="4096x4096,14336x4096,4096x14336,8192x8192,28672x8192")
    ap.add_argument("--ms", default="1,16,64,256,1024,4096")
    args = ap.parse_args()
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    ms = [int(v) for v in args.ms.split(",")]
    trials = 5 if args.quick else 15
    torch.manual_seed(0)
    dev = "cuda"
    rows = []
    for n, k in shapes:
        dense_bytes = n * k * 2
        copies = max(1, -(-3 * L2 // dense_bytes))
        ws = [torch.randn(n, k, device=dev, dtype=torch.bfloat16) * 0.02 for _ in range(copies)]
        # tinygemm int4, group 128.
        g = 128
        q4 = []
        try:
            qbytes = n * k // 2 + (k // g) * n * 4
            c4 = max(1, -(-3 * L2 // qbytes))
            for _ in range(c4):
                codes = torch.randint(0, 16, (n, k), device=dev, dtype=torch.int32)
                packed_u8 = ((codes[:, ::2] << 4) | codes[:, 1::2]).to(torch.uint8)
                wp = torch._convert_weight_to_int4pack(packed_u8, 8)
                sz = torch.empty(k // g, n, 2, device=dev, dtype=torch.bfloat16)
                sz[..., 0].uniform_(0.004, 0.02)
                sz[..., 1].uniform_(-0.05, 0.05)
                q4.append((wp, sz))
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"tinygemm unavailable: {e}", file=sys.stderr)
            q4 = []
        try:
            b4 = bnb_weights(n, k, dev)
        except Exception as e:  # noqa: BLE001
            print(f"bitsandbytes quantize_4bit failed at {n}x{k}: {e}", file=sys.stderr)
            b4 = []
        x_all = torch.randn(max(ms), k, device=dev, dtype=torch.bfloat16)
        for m in ms:
            x = x_all[:m]
            graph = m <= 64
            us = median_us(lambda i: torch.nn.functional.linear(x, ws[i]), copies, graph, trials)
            rows.append(dict(n=n, k=k, m=m, kernel="torch-linear-bf16", path="F.linear", us=us,
                             weight_bytes=dense_bytes))
            if q4:
                try:
                    us = median_us(lambda i: torch._weight_int4pack_mm(x, q4[i][0], g, q4[i][1]),
                                   len(q4), graph, trials)
                    rows.append(dict(n=n, k=k, m=m, kernel="torch-int4-tinygemm",
                                     path="_weight_int4pack_mm g128", us=us,
                                     weight_bytes=n * k // 2 + (k // g) * n * 4))
                except Exception as e:  # noqa: BLE001
                    print(f"tinygemm failed at {n}x{k} M={m}: {e}", file=sys.stderr)
            if b4:
                try:
                    us, note = median_us_any(
                        lambda i: bnb.matmul_4bit(x, b4[i][0].t(), quant_state=b4[i][1]),
                        len(b4), graph, trials)
                    rows.append(dict(n=n, k=k, m=m, kernel="bnb-nf4",
                                     path="bnb.matmul_4bit nf4 dq bs64" + note, us=us,
                                     weight_bytes=n * k // 2 + n * k // 64))
                except Exception as e:  # noqa: BLE001
                    print(f"bitsandbytes failed at {n}x{k} M={m}: {e}", file=sys.stderr)
            print(f"torch done {n}x{k} M={m}", file=sys.stderr)
        rows += fp8_rows(n, k, ms, x_all, 64, trials, dev)
        del ws, q4, b4
        torch.cuda.empty_cache()
    with open(args.json, "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                   "bitsandbytes": bnb.__version__ if bnb is not None else None,
                   "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
