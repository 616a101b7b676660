"""optimum-quanto end-to-end tests: python3 test/e2e/gen/quanto.py

qint8 / qfloat8 (w = _data * _scale per row) and qint4 / qint2 (W reshaped
to [R, g] groups along K, codes packed in planes along dim 0, first plane in
the low bits; w = _scale * q - _shift). The on-the-fly qint8 weight is built
so that quanto's AbsmaxOptimizer (scale = fp16(absmax / 127), q =
round(fp16(w / scale))) is unambiguous: every w / scale lies within 0.25 of
its code, well clear of the fp16 rounding of the quotient (< 0.07 at 127).
"""
import random

from common import f16, f32, write_test

ONES = [("input_scale", [1.0], [], "f16"), ("output_scale", [1.0], [], "f16")]


def attr(weights):
    return f'#hfq.method<"quanto", {{weights = "{weights}"}}>'


def e4m3(bits):
    s = -1.0 if bits & 0x80 else 1.0
    e, m = (bits >> 3) & 0xF, bits & 7
    if e == 0:
        return s * m / 8 * 2.0 ** -6
    return s * (1 + m / 8) * 2.0 ** (e - 7)


def group_size(k):
    if k <= 128:
        return k
    for g in (128, 96, 64, 32):
        if k % g == 0:
            return g
    return k


def quanto_bytes(weights, n, k, seed):
    rnd = random.Random(seed)
    if weights == "int8":
        data = [rnd.randint(-128, 127) for _ in range(n * k)]
        vals, elem = data, "i8"
    else:
        codes = [rnd.choice([b for b in range(256) if (b & 0x7F) != 0x7F]) for _ in range(n * k)]
        vals, elem = [e4m3(b) for b in codes], "f8E4M3FN"
    s = [f16(rnd.uniform(0.001, 0.01)) for _ in range(n)]
    w_ref = [f32(vals[r * k + c] * s[r]) for r in range(n) for c in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(3 * k)]
    packed = [("weight._data", vals, [n, k], elem), ("weight._scale", s, [n, 1], "f16")] + ONES
    write_test(f"quanto-{weights}-n{n}-k{k}", f"quanto q{weights}, pre-quantized", attr(weights),
               packed, 3, n, k, x, w_ref)


def quanto_bits(bits, n, k, seed):
    rnd = random.Random(seed)
    g = group_size(k)
    R = n * k // g
    per = 8 // bits
    Rp = -(-R // per)
    q = [[rnd.randrange(1 << bits) for _ in range(g)] for _ in range(R)]
    scale = [f16(rnd.uniform(0.001, 0.01)) for _ in range(R)]
    shift = [f16(rnd.uniform(-0.05, 0.05)) for _ in range(R)]
    data = []
    for r in range(Rp):
        for c in range(g):
            byte = 0
            for p in range(per):
                row = r + p * Rp
                if row < R:
                    byte |= q[row][c] << (p * bits)
            data.append(byte)
    # W.flat = the [R, g] groups in row-major order.
    w_ref = [f32(scale[r] * q[r][c] - shift[r]) for r in range(R) for c in range(g)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(3 * k)]
    packed = [("weight._data._data", data, [Rp, g], "ui8"),
              ("weight._scale", scale, [R, 1], "f16"),
              ("weight._shift", shift, [R, 1], "f16")] + ONES
    write_test(f"quanto-int{bits}-n{n}-k{k}", f"quanto qint{bits}, group {g}, pre-quantized",
               attr(f"int{bits}"), packed, 3, n, k, x, w_ref)


def quanto_int8_on_the_fly(n, k, seed):
    rnd = random.Random(seed)
    w, w_ref = [], []
    for r in range(n):
        a = f16(rnd.uniform(0.1, 1.0))
        s = f16(a / 127)
        top = rnd.randrange(k)
        for c in range(k):
            if c == top:
                v, q = a * rnd.choice([-1, 1]), None
                q = round(f16(v / s))            # +-127 (a / s lies within 0.07 of 127)
            else:
                q = rnd.randint(-126, 126)
                v = f16((q + rnd.uniform(-0.25, 0.25)) * s)
            w.append(v)
            w_ref.append(f32(q * s))
    x = [f32(rnd.uniform(-1, 1)) for _ in range(3 * k)]
    packed = [("weight._data", None, [n, k], "i8"), ("weight._scale", None, [n, 1], "f16")] + \
        [(name, None, dims, elem) for name, _, dims, elem in ONES]
    write_test(f"quanto-int8-onthefly-n{n}-k{k}", "quanto qint8, quantized on the fly", attr("int8"),
               packed, 3, n, k, x, w_ref, quantize_from=w)


if __name__ == "__main__":
    quanto_bytes("int8", 16, 64, 1)
    quanto_bytes("float8", 16, 64, 2)
    quanto_bits(4, 16, 256, 3)
    quanto_bits(2, 5, 64, 4)      # R = 5 rows: a partial last plane
    quanto_bits(4, 3, 96, 5)      # R = 3 (g = K = 96): odd plane count
    quanto_int8_on_the_fly(16, 64, 6)
