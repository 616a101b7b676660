"""HQQ end-to-end tests: python3 test/e2e/gen/hqq.py

Layout (hqq's Quantizer, quant-formats-and-kernels.md): W [N, K] reshaped
row-major to the grouped matrix [R, C] (axis 1: [N*K/g, g], scale / zero
[R, 1]; axis 0: [g, N*K/g], scale / zero [1, C]); W_q packs grouped rows in
planes of `step` rows along dim 0 (4-bit: plane 0 in the high nibble;
2-bit: planes at bits 6, 4, 2, 0; 1-bit: bits 7..0; 3-bit: i32 words,
planes at bits 27, 24, ..., 0, step = ceil(R/10)); W = (W_q - zero) * scale.
"""
import math
import random
import struct

from common import f16, f32, write_test

PLANES = {8: (1, [0]), 4: (2, [4, 0]), 2: (4, [6, 4, 2, 0]),
          1: (8, [7, 6, 5, 4, 3, 2, 1, 0]), 3: (10, [27, 24, 21, 18, 15, 12, 9, 6, 3, 0])}


def grouped(n, k, g, axis):
    if g == 0:
        return n, k
    return (n * k // g, g) if axis == 1 else (g, n * k // g)


def pack(q, nbits, R, C):
    planes, shifts = PLANES[8 if nbits in (5, 6, 8) else nbits]
    step = -(-R // planes)
    words = [0] * (step * C)
    for r in range(R):
        for c in range(C):
            words[(r % step) * C + c] |= q[r * C + c] << shifts[r // step]
    return words, step


def as_f16_view(words, step, C, word_bytes):
    """view_as_float: the same bytes reinterpreted as float16."""
    fmt = "<%d%s" % (len(words), "I" if word_bytes == 4 else "B")
    raw = struct.pack(fmt, *words)
    vals = list(struct.unpack("<%de" % (len(raw) // 2), raw))
    return vals, [step, C * word_bytes // 2]


def attr(nbits, g, axis, vaf, round_zero, optimize=False):
    nb = f"{nbits} : f64" if nbits == 1.58 else f"{nbits} : i64"
    gs = f"{g} : i64" if g else "#hfq.none"
    return ('#hfq.method<"hqq", {quant_config = {weight_quant_params = {'
            f'nbits = {nb}, channel_wise = true, group_size = {gs}, optimize = {"true" if optimize else "false"}, '
            f'round_zero = {"true" if round_zero else "false"}, axis = {axis} : i64, '
            f'view_as_float = {"true" if vaf else "false"}}}, '
            'scale_quant_params = #hfq.none, zero_quant_params = #hfq.none, offload_meta = false}, '
            'skip_modules = ["lm_head"]}>')


def optimize_zeros(w, groups, scale, zero, maxv):
    """hqq's default optimizer (hqq/core/optimize.py,
    optimize_weights_proximal_legacy, which Quantizer.quantize calls with
    optimize=True), written from its definition on the CPU path: float32
    throughout, lp_norm 0.7, beta 10 (hqq >= 0.2.7 no longer grows it by
    kappa), 20 iterations, early stopping on mean |W - W_r| over the whole
    tensor; only zero moves and the failing iteration's zero is kept.
    `groups` lists each group's flat indices; scale is the quantize
    multiplier. Each operation is rounded to f32; sums are exact (fsum)."""
    inv_beta, p = f32(1.0 / 10.0), f32(0.7 - 1.0)
    best = math.inf
    total = sum(len(idx) for idx in groups)
    for _ in range(20):
        err_terms, new_zero = [], []
        for gi, idx in enumerate(groups):
            s, z = scale[gi], zero[gi]
            terms = []
            for i in idx:
                q = min(max(float(round(f32(f32(w[i] * s) + z))), 0.0), maxv)
                wr = f32(f32(q - z) / s)
                d = f32(w[i] - wr)
                a = abs(d)
                pw = f32(math.pow(a, p)) if a != 0.0 else math.inf
                a = max(f32(a - f32(inv_beta * pw)), 0.0)
                we = a * (1.0 if d > 0 else (-1.0 if d < 0 else 0.0))
                terms.append(f32(q - f32(f32(w[i] - we) * s)))
                err_terms.append(abs(d))
            new_zero.append(f32(math.fsum(terms) / len(idx)))
        err = f32(math.fsum(err_terms) / total)
        zero = new_zero
        if err < best:
            best = err
        else:
            break
    return zero


def tensors(words, step, C, R, axis, nbits, vaf, scale, zero):
    wb = 4 if nbits == 3 else 1
    if vaf:
        wq, dims = as_f16_view(words, step, C, wb)
        wq_t = ("W_q", wq, dims, "f16")
    else:
        vals = [w - (1 << 32) if wb == 4 and w >= (1 << 31) else w for w in words]
        wq_t = ("W_q", vals, [step, C], "i32" if wb == 4 else "ui8")
    meta = [R, 1] if axis == 1 else [1, C]
    return [wq_t, ("scale", scale, meta, "f16"), ("zero_", zero, meta, "f16")]  # "%zero" is taken by write_test


def prequantized(nbits, g, axis, vaf, seed, n=16, k=64):
    rnd = random.Random(seed)
    m = 3
    b = 2 if nbits == 1.58 else nbits
    R, C = grouped(n, k, g, axis)
    G = R if axis == 1 else C
    top = 3 if nbits == 1.58 else (1 << b)
    while True:
        q = [rnd.randrange(top) for _ in range(R * C)]
        if not vaf:
            break
        # The f16 view must hold no NaN / Inf: MLIR's float literals cannot
        # carry their payload bits. Redraw until it does not.
        words, step = pack(q, b, R, C)
        vals, _ = as_f16_view(words, step, C, 4 if b == 3 else 1)
        if all(v == v and abs(v) != float("inf") for v in vals):
            break
    scale = [f16(rnd.uniform(0.005, 0.05)) for _ in range(G)]
    zero = [f16(rnd.uniform(0, (1 << b) - 1)) for _ in range(G)]
    words, step = pack(q, b, R, C)
    # Dense reference: element (r, c) of the grouped matrix is W's flat r*C + c.
    gi = (lambda r, c: r) if axis == 1 else (lambda r, c: c)
    w_ref = [(q[i] - zero[gi(i // C, i % C)]) * scale[gi(i // C, i % C)] for i in range(R * C)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(m * k)]
    name = f"hqq-{str(nbits).replace('.', 'p')}bit-g{g or 'none'}-axis{axis}{'-vaf' if vaf else ''}"
    write_test(name, f"HQQ {nbits}-bit, group {g or 'None'}, axis {axis}{', view_as_float' if vaf else ''}",
               attr(nbits, g, axis, vaf, False),
               tensors(words, step, C, R, axis, b, vaf, scale, zero), m, n, k, x, w_ref)


def on_the_fly(nbits, g, axis, round_zero, seed, n=16, k=64, optimize=False):
    """hqq's Quantizer.quantize in f32, each operation rounded to f32 as
    torch does (with optimize: optimize_zeros above); scale / zero stored
    in f16."""
    rnd = random.Random(seed)
    m = 3
    R, C = grouped(n, k, g, axis)
    w = [f32(rnd.uniform(-1, 1)) for _ in range(n * k)]
    maxv = float((1 << nbits) - 1)
    G = R if axis == 1 else C
    per = C if axis == 1 else R
    w_ref = [0.0] * (n * k)
    groups = [[gi * C + j if axis == 1 else j * C + gi for j in range(per)] for gi in range(G)]
    scales, zeros = [], []
    for idx in groups:
        lo, hi = min(w[i] for i in idx), max(w[i] for i in idx)
        denom = f32(hi - lo)
        scale = f32(maxv / denom) if abs(denom) > 1e-4 else 1.0
        scale = min(scale, 2e4)
        zero = f32(-lo * scale)
        if round_zero:
            zero = float(round(zero))
        scales.append(scale)
        zeros.append(zero)
    if optimize:
        zeros = optimize_zeros(w, groups, scales, zeros, maxv)
    for idx, scale, zero in zip(groups, scales, zeros):
        s16, z16 = f16(f32(1.0 / scale)), f16(zero)
        for i in idx:
            code = min(max(round(f32(f32(w[i] * scale) + zero)), 0), int(maxv))
            w_ref[i] = (code - z16) * s16
    x = [f32(rnd.uniform(-1, 1)) for _ in range(m * k)]
    step = -(-R // PLANES[nbits][0])
    wb = 4 if nbits == 3 else 1
    dummy = tensors([0] * (step * C), step, C, R, axis, nbits, False, [0.0] * G, [0.0] * G)
    name = f"hqq-onthefly-{nbits}bit-g{g}-axis{axis}{'-opt' if optimize else ''}"
    # Python's round() and the reference's nearbyint both round half to
    # even, and every step is one f32 operation, so the codes agree; the
    # small tolerance only covers the f32 vs double accumulation of x.W.
    write_test(name, f"HQQ on-the-fly {nbits}-bit, group {g}, axis {axis}, round_zero {round_zero}, "
               f"optimize {optimize}",
               attr(nbits, g, axis, False, round_zero, optimize), dummy, m, n, k, x, w_ref,
               quantize_from=w)


if __name__ == "__main__":
    prequantized(4, 64, 1, False, 1)
    prequantized(8, 32, 0, False, 2)
    prequantized(3, 64, 1, False, 3)
    prequantized(2, 16, 1, False, 4)
    prequantized(1, 64, 1, False, 5)
    prequantized(1.58, 32, 1, False, 6)
    prequantized(4, 64, 1, True, 7)
    prequantized(4, 0, 1, False, 8)
    on_the_fly(4, 64, 1, True, 9)
    on_the_fly(8, 32, 1, False, 10)
    on_the_fly(4, 64, 1, True, 11, optimize=True)
    on_the_fly(3, 64, 1, False, 12, optimize=True)
    on_the_fly(2, 16, 0, False, 13, optimize=True)
