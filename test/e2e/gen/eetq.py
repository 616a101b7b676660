"""EETQ end-to-end tests: python3 test/e2e/gen/eetq.py

The stored weight is FasterTransformer's sm80 mixed-GEMM preprocessing of the
int8 W^T [K, N] (row permutation in groups of 16, column interleave by 2 in
64-row tiles, +128, bytes 1 and 2 of every word swapped), built here from
that description. The on-the-fly weight is built so that EETQ's
symmetric_quantize (scale = absmax / 128, round half away from zero, clip to
[-128, 127]) is unambiguous: every w / scale lies within 0.3 of its code.
"""
import random

from common import f16, f32, write_test

PERM = [0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15]  # output row r reads input row PERM[r]
INV = [PERM.index(i) for i in range(16)]
SWAP = [0, 2, 1, 3]
ATTR = '#hfq.method<"eetq", {weights = "int8"}>'


def preprocess(q, k, n):
    """q[k][n] int8 -> stored bytes (as int8) of the [K, N] tensor."""
    out = [0] * (k * n)
    for kk in range(k):
        r = 16 * (kk // 16) + INV[kk % 16]
        for nn in range(n):
            o = (nn // 2) * 2 * k + (r // 64) * 128 + (nn % 2) * 64 + r % 64
            b = (q[kk][nn] + 128) & 0xFF
            out[(o & ~3) | SWAP[o & 3]] = b - 256 if b >= 128 else b
    return out


def eetq_prequantized(n, k, seed):
    rnd = random.Random(seed)
    q = [[rnd.randint(-128, 127) for _ in range(n)] for _ in range(k)]
    s = [f16(rnd.uniform(0.001, 0.01)) for _ in range(n)]
    w_ref = [f32(q[kk][nn] * s[nn]) for nn in range(n) for kk in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(3 * k)]
    packed = [("weight", preprocess(q, k, n), [k, n], "i8"), ("weight_scales", s, [n], "f16")]
    write_test(f"eetq-int8-n{n}-k{k}", "EETQ int8, pre-quantized", ATTR, packed, 3, n, k, x, w_ref)


def eetq_on_the_fly(n, k, seed):
    rnd = random.Random(seed)
    w = [0.0] * (n * k)
    w_ref = [0.0] * (n * k)
    for nn in range(n):
        a = f16(rnd.uniform(0.1, 1.0))
        scale = a / 128                        # exact (power-of-two division)
        top = rnd.randrange(k)
        for kk in range(k):
            if kk == top:
                v, q = -a, -128                # -absmax is exactly code -128
            else:
                q = rnd.randint(-127, 126)
                v = f16((q + rnd.uniform(-0.3, 0.3)) * scale)
            w[nn * k + kk] = v
            w_ref[nn * k + kk] = f32(q * f16(scale))
    x = [f32(rnd.uniform(-1, 1)) for _ in range(3 * k)]
    packed = [("weight", None, [k, n], "i8"), ("weight_scales", None, [n], "f16")]
    write_test(f"eetq-int8-onthefly-n{n}-k{k}", "EETQ int8, quantized on the fly", ATTR, packed,
               3, n, k, x, w_ref, quantize_from=w)


if __name__ == "__main__":
    eetq_prequantized(64, 64, 1)
    eetq_prequantized(64, 128, 2)
    eetq_on_the_fly(64, 128, 3)
