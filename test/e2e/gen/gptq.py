"""GPTQ end-to-end tests: python3 test/e2e/gen/gptq.py"""
import random

import os

from common import OUT, f16, f32, pack_lsb, write_test


def gptq(bits, group, v2, sym, seed, example=False, reuse_check=False):
    rnd = random.Random(seed)
    # 3-bit zero points pack 32 columns into 3 words: N must be a multiple of 32.
    m, n, k = 3, (32 if bits == 3 else 16), 64
    g = k if group == -1 else group
    G = k // g
    q = [[rnd.randrange(1 << bits) for _ in range(n)] for _ in range(k)]   # q[k][n]
    z = [[(1 << (bits - 1)) if sym else rnd.randrange(1, 1 << bits) for _ in range(n)] for _ in range(G)]
    s = [[f16(rnd.uniform(0.005, 0.05)) for _ in range(n)] for _ in range(G)]
    gidx = [kk // g for kk in range(k)]
    # qweight [K*bits/32, N]: column n holds the K-stream of q[:, n].
    cols = [pack_lsb([q[kk][nn] for kk in range(k)], bits, k) for nn in range(n)]
    rows = len(cols[0])
    qweight = [cols[nn][r] for r in range(rows) for nn in range(n)]
    stored = [[(z[gg][nn] - (0 if v2 else 1)) for nn in range(n)] for gg in range(G)]
    qzeros = [w for gg in range(G) for w in pack_lsb(stored[gg], bits, n)]
    w_ref = [s[gidx[kk]][nn] * (q[kk][nn] - z[gidx[kk]][nn]) for nn in range(n) for kk in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(m * k)]
    fmt = "gptq_v2" if v2 else "gptq"
    attr = (f'#hfq.method<"gptq", {{bits = {bits} : i64, group_size = {group} : i64, '
            f'format = "{fmt}", sym = {"true" if sym else "false"}}}>')
    packed = [("qweight", qweight, [rows, n], "i32"),
              ("qzeros", qzeros, [G, len(qzeros) // G], "i32"),
              ("scales", [s[gg][nn] for gg in range(G) for nn in range(n)], [G, n], "f16"),
              ("g_idx", gidx, [k], "i32")]
    name = f"gptq-{bits}bit-g{group if group > 0 else 'k'}-{fmt}-{'sym' if sym else 'asym'}"
    doc = f"GPTQ {bits}-bit, group {group}, format {fmt}, {'sym' if sym else 'asym'}"
    if reuse_check:
        write_test(name + "-result-reuse", doc + "; its result is squared in place before it is checked",
                   attr, packed, m, n, k, x, w_ref, reuse_check=True)
        return
    write_test(name, doc, attr, packed, m, n, k, x, w_ref)
    if example:
        # The README's main job runs this one and prints both outputs.
        write_test("gptq-linear", doc, attr, packed, m, n, k, x, w_ref,
                   out_dir=os.path.join(os.path.dirname(OUT), os.pardir, "examples"),
                   print_values=True)


if __name__ == "__main__":
    gptq(4, 32, False, True, 1, example=True)
    gptq(4, 32, True, False, 2)
    gptq(8, -1, False, True, 3)
    gptq(3, 32, False, False, 4)
    gptq(2, 64, True, True, 5)
    gptq(4, 32, False, True, 6, reuse_check=True)
