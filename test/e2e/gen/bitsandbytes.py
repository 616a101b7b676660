"""bitsandbytes end-to-end tests: python3 test/e2e/gen/bitsandbytes.py

4-bit (NF4 / FP4, with and without double quantization) and LLM.int8().
Pre-quantized tests build the state dict from random codes and scales and
dequantize it here from the format description. On-the-fly tests quantize a
float weight in hfq.quantize; the weight is built so that its quantization is
unambiguous (every value lies well inside one code's interval and each block
/ row has an element exactly at its absmax), so the quantization here and in
the reference cannot legitimately differ by a rounding tie and the tolerance
stays at float-accumulation level.
"""
import random

from common import f16, f32, write_test

# bnb's dequantization tables (csrc kernels.cu dDequantizeNF4 / FP4 tree).
NF4 = [f32(v) for v in [
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
    0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
    0.7229568362236023, 1.0]]
_FP4_MAG = [0.0, 5.208333333e-03, 0.66666667, 1.0, 0.33333333, 0.5, 0.16666667, 0.25]
FP4 = [f32(v) for v in _FP4_MAG] + [f32(-v) for v in _FP4_MAG]

M = 3


def activations(rnd, k, outlier_cols=(), threshold=6.0):
    """x = q * 2^-6 with integer |q| <= 127 and |q| = 127 somewhere in every
    row outside the outlier columns: LLM.int8()'s row-wise int8 quantization
    of x (SCA = 127 * 2^-6, fp16 cast included) is then exact. Outlier
    columns get |x| >= threshold in row 0 (taken by the fp16 outlier path)."""
    x = []
    for i in range(M):
        row = [rnd.randint(-127, 127) * 2.0 ** -6 for _ in range(k)]
        plain = [j for j in range(k) if j not in outlier_cols]
        row[rnd.choice(plain)] = rnd.choice([-127, 127]) * 2.0 ** -6
        for j in outlier_cols:
            if i == 0:
                row[j] = rnd.choice([-1, 1]) * (threshold + rnd.randint(0, 64) * 2.0 ** -4)
        x += row
    return x


def pack_nibbles(codes):
    """Two codes per byte, element 2i in the high nibble (odd count: low nibble 0)."""
    out = []
    for i in range(0, len(codes), 2):
        lo = codes[i + 1] if i + 1 < len(codes) else 0
        out.append((codes[i] << 4) | lo)
    return out


def attr4(qtype, dq):
    return ('#hfq.method<"bitsandbytes_4bit", {load_in_4bit = true, '
            f'bnb_4bit_quant_type = "{qtype}", bnb_4bit_use_double_quant = {"true" if dq else "false"}}}>')


def bnb4_prequantized(qtype, dq, n, k, seed):
    rnd = random.Random(seed)
    table = NF4 if qtype == "nf4" else FP4
    nk = n * k
    blocks = -(-nk // 64)
    codes = [rnd.randrange(16) for _ in range(nk)]
    packed_w = pack_nibbles(codes)
    qmap = ("weight.quant_map", table, [16], "f32")
    if not dq:
        absmax = [f32(rnd.uniform(0.05, 0.5)) for _ in range(blocks)]
        scale = absmax
        packed = [("weight", packed_w, [len(packed_w), 1], "ui8"),
                  ("weight.absmax", absmax, [blocks], "f32"), qmap]
    else:
        # Nested: A[b] = nested_quant_map[absmax_code[b]] * nested_absmax[b // 256] + offset,
        # each a float32 operation. Any 256-entry map reads the same way.
        nmap = sorted(f32(rnd.uniform(-1, 1)) for _ in range(256))
        acodes = [rnd.randrange(256) for _ in range(blocks)]
        nested = [f32(rnd.uniform(0.05, 0.2)) for _ in range(-(-blocks // 256))]
        offset = f32(rnd.uniform(0.25, 0.35))
        scale = [f32(f32(nmap[acodes[b]] * nested[b // 256]) + offset) for b in range(blocks)]
        packed = [("weight", packed_w, [len(packed_w), 1], "ui8"),
                  ("weight.absmax", acodes, [blocks], "ui8"), qmap,
                  ("weight.nested_absmax", nested, [len(nested)], "f32"),
                  ("weight.nested_quant_map", nmap, [256], "f32"),
                  ("weight.nested_offset", [offset], [], "f32")]
    w_ref = [f32(table[codes[i]] * scale[i // 64]) for i in range(nk)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    name = f"bitsandbytes-4bit-{qtype}{'-dq' if dq else ''}-n{n}-k{k}"
    write_test(name, f"bitsandbytes 4-bit {qtype}, double quant {dq}, pre-quantized",
               attr4(qtype, dq), packed, M, n, k, x, w_ref)


def bnb4_on_the_fly(qtype, n, k, seed):
    """Without double quant: the nested absmax goes through bnb's dynamic map
    and a float mean, which this generator does not model."""
    rnd = random.Random(seed)
    table = NF4 if qtype == "nf4" else FP4
    srt = sorted(set(table))
    nk = n * k
    blocks = -(-nk // 64)
    w, w_ref = [], []
    for b in range(blocks):
        size = min(64, nk - b * 64)
        am = f32(rnd.uniform(0.05, 0.5))
        top = rnd.randrange(size)
        for i in range(size):
            c = rnd.randrange(16)
            if i == top:
                c = table.index(1.0) if rnd.random() < 0.5 else table.index(-1.0)
            v = table[c]
            j = srt.index(v)
            # stay within 30% of the distance to the neighbouring midpoints
            lo = (srt[j] - srt[j - 1]) / 2 if j > 0 else 0.0
            hi = (srt[j + 1] - srt[j]) / 2 if j + 1 < len(srt) else 0.0
            s = v if i == top else v + rnd.uniform(-0.3 * lo, 0.3 * hi)
            w.append(f32(s * am) if i != top else f32(v * am))
            w_ref.append(f32(v * am))
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    packed_len = (nk + 1) // 2
    packed = [("weight", None, [packed_len, 1], "ui8"),
              ("weight.absmax", None, [blocks], "f32"),
              ("weight.quant_map", None, [16], "f32")]
    name = f"bitsandbytes-4bit-{qtype}-onthefly-n{n}-k{k}"
    write_test(name, f"bitsandbytes 4-bit {qtype}, quantized on the fly",
               attr4(qtype, False), packed, M, n, k, x, w_ref, quantize_from=w)


def attr8(threshold):
    return f'#hfq.method<"bitsandbytes_8bit", {{load_in_8bit = true, llm_int8_threshold = {threshold!r} : f64}}>'


def bnb8_prequantized(threshold, outliers, n, k, seed):
    rnd = random.Random(seed)
    cb = [rnd.randint(-127, 127) for _ in range(n * k)]
    scb = [f32(rnd.uniform(0.05, 0.5)) for _ in range(n)]
    w_ref = [f32(cb[r * k + c] * scb[r] / 127) for r in range(n) for c in range(k)]
    x = activations(rnd, k, outliers, threshold)
    packed = [("weight", cb, [n, k], "i8"), ("SCB", scb, [n], "f32")]
    name = f"bitsandbytes-8bit-t{threshold}-n{n}-k{k}"
    write_test(name, f"LLM.int8(), threshold {threshold}, {len(outliers)} outlier columns, pre-quantized",
               attr8(threshold), packed, M, n, k, x, w_ref, rtol=1e-5, atol=1e-4)


def bnb8_on_the_fly(threshold, outliers, n, k, seed):
    rnd = random.Random(seed)
    w, w_ref = [], []
    for r in range(n):
        scb = f16(rnd.uniform(0.05, 0.5))
        top = rnd.randrange(k)
        for c in range(k):
            if c == top:
                q = rnd.choice([-127, 127])
                v = scb * q / 127
            else:
                q = rnd.randint(-126, 126)
                # fp16 of (q + u) * scb / 127 with |u| <= 0.3 still rounds to q
                v = f16((q + rnd.uniform(-0.3, 0.3)) * scb / 127)
            w.append(v)
            w_ref.append(f32(q * scb / 127))
    x = activations(rnd, k, outliers, threshold)
    packed = [("weight", None, [n, k], "i8"), ("SCB", None, [n], "f32")]
    name = f"bitsandbytes-8bit-t{threshold}-onthefly-n{n}-k{k}"
    write_test(name, f"LLM.int8(), threshold {threshold}, quantized on the fly",
               attr8(threshold), packed, M, n, k, x, w_ref, rtol=1e-5, atol=1e-4,
               quantize_from=w)


if __name__ == "__main__":
    bnb4_prequantized("nf4", False, 16, 64, 1)
    bnb4_prequantized("fp4", False, 24, 96, 2)
    bnb4_prequantized("nf4", True, 32, 128, 3)
    bnb4_prequantized("fp4", True, 16, 65, 4)   # odd N*K: a half byte and a partial block
    bnb4_on_the_fly("nf4", 16, 64, 5)
    bnb4_on_the_fly("fp4", 16, 96, 6)
    bnb8_prequantized(6.0, (5, 17), 16, 64, 7)
    bnb8_prequantized(0.0, (), 24, 96, 8)
    bnb8_on_the_fly(6.0, (3,), 16, 64, 9)
