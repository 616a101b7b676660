"""AWQ end-to-end tests: python3 test/e2e/gen/awq.py

Pre-quantized only: AWQ needs calibration (the quantize entry says so).
"""
import random

from common import f16, f32, pack_lsb, write_test

ORDER = [0, 2, 4, 6, 1, 3, 5, 7]   # AutoAWQ GEMM: nibble i of a word holds column 8j + ORDER[i]


def pack_gemm_row(vals):
    """One row of N 4-bit values -> N/8 int32 words in AutoAWQ's GEMM order."""
    words = []
    for j in range(len(vals) // 8):
        words += pack_lsb([vals[8 * j + ORDER[i]] for i in range(8)], 4, 8)
    return words


def attr(group, fmt):
    return f'#hfq.method<"awq", {{bits = 4 : i64, group_size = {group} : i64, format = "{fmt}"}}>'


def awq_gemm(n, k, group, seed):
    rnd = random.Random(seed)
    g = k if group == -1 else group
    G = k // g
    q = [[rnd.randrange(16) for _ in range(n)] for _ in range(k)]        # q[k][n]
    z = [[rnd.randrange(16) for _ in range(n)] for _ in range(G)]
    s = [[f16(rnd.uniform(0.005, 0.05)) for _ in range(n)] for _ in range(G)]
    qweight = [w for kk in range(k) for w in pack_gemm_row(q[kk])]
    qzeros = [w for gg in range(G) for w in pack_gemm_row(z[gg])]
    w_ref = [f32((q[kk][nn] - z[kk // g][nn]) * s[kk // g][nn]) for nn in range(n) for kk in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(3 * k)]
    packed = [("qweight", qweight, [k, n // 8], "i32"),
              ("qzeros", qzeros, [G, n // 8], "i32"),
              ("scales", [s[gg][nn] for gg in range(G) for nn in range(n)], [G, n], "f16")]
    write_test(f"awq-gemm-g{group if group > 0 else 'k'}-n{n}-k{k}", f"AWQ gemm, group {group}",
               attr(group, "gemm"), packed, 3, n, k, x, w_ref)


def awq_gemv(n, k, group, seed):
    rnd = random.Random(seed)
    g = k if group == -1 else group
    G = k // g
    mult = 1 if g >= 128 else (2 if g == 64 else 4)
    W = -(-(-(-G // 8)) // mult) * mult
    q = [[rnd.randrange(16) for _ in range(k)] for _ in range(n)]        # q[n][k]
    z = [[rnd.randrange(16) for _ in range(G)] for _ in range(n)]
    s = [[f16(rnd.uniform(0.005, 0.05)) for _ in range(G)] for _ in range(n)]
    qweight = [w for nn in range(n) for w in pack_lsb(q[nn], 4, k)]
    qzeros = []
    scales = []
    for nn in range(n):
        words = pack_lsb(z[nn], 4, G)
        qzeros += words + [0] * (W - len(words))          # padding words
        scales += s[nn] + [0.0] * (W * 8 - G)             # padding scales
    w_ref = [f32((q[nn][kk] - z[nn][kk // g]) * s[nn][kk // g]) for nn in range(n) for kk in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(3 * k)]
    packed = [("qweight", qweight, [n, k // 8], "i32"),
              ("qzeros", qzeros, [n, W], "i32"),
              ("scales", scales, [n, W * 8], "f16")]
    write_test(f"awq-gemv-g{group if group > 0 else 'k'}-n{n}-k{k}", f"AWQ gemv, group {group}",
               attr(group, "gemv"), packed, 3, n, k, x, w_ref)


if __name__ == "__main__":
    awq_gemm(32, 128, 32, 1)
    awq_gemm(16, 64, -1, 2)
    awq_gemv(16, 256, 64, 3)
    awq_gemv(24, 128, 32, 4)
    awq_gemv(16, 256, 128, 5)
