"""FineGrainedFP8 end-to-end tests: python3 test/e2e/gen/fp8.py

Layout: `weight` f8E4M3FN [N, K], `weight_scale_inv` f32 [N/bn, K/bk] (or
[] per tensor), the dequant MULTIPLIER: W = W8 * s_w. FP8Linear quantizes
activations dynamically per token and 1 x bk group, s = max|x| / 448 (f32),
x8 = e4m3(x / s); or statically with activation_scale:
x8 = e4m3(clamp(x / s, +-448)). The reference here applies the same
activation quantization and multiplies the dequantized operands in double:
fp8 x fp8 products are exact, so the only difference from the kernel is its
f32 epilogue (chunk sums rounded to f32, then scaled) -- hence rtol 1e-5.
The `dequantize` fallback (hfq_fp8_dequant_bf16) is a plain linear over
W = bf16(W8 * s_w).
"""
import random

from common import f32, write_test
from fpformats import bf16, e4m3, e4m3_decode, e4m3_encode

M = 3


def attr(block, static, dequantize):
    wbs = f"[{block[0]} : i64, {block[1]} : i64]" if block else "#hfq.none"
    return ('#hfq.method<"fp8", {quant_method = "fp8", activation_scheme = '
            f'"{"static" if static else "dynamic"}", dequantize = {"true" if dequantize else "false"}, '
            f'modules_to_not_convert = #hfq.none, weight_block_size = {wbs}}}>')


def random_codes(rnd, count):
    """Finite e4m3 codes (0x7f / 0xff are NaN), of every magnitude."""
    out = []
    while len(out) < count:
        c = rnd.randrange(256)
        if c & 0x7F != 0x7F:
            out.append(c)
    return out


def act_quant_dynamic(x, m, k, bk):
    xq = []
    for i in range(m):
        for g0 in range(0, k, bk):
            row = x[i * k + g0:i * k + min(k, g0 + bk)]
            s = f32(max(abs(v) for v in row) / 448.0)
            xq += [e4m3(f32(v / s)) * s if s else 0.0 for v in row]
    return xq


def act_quant_static(x, s):
    return [e4m3(max(-448.0, min(448.0, f32(v / s)))) * s for v in x]


def prequantized(name, n, k, block, static, dequantize, seed):
    rnd = random.Random(seed)
    codes = random_codes(rnd, n * k)
    if block:
        bn, bk = block
        sr, sc = -(-n // bn), -(-k // bk)
        s_w = [f32(rnd.uniform(1e-4, 1e-3)) for _ in range(sr * sc)]
        scale_dims = [sr, sc]
        sw_at = lambda i, j: s_w[(i // bn) * sc + j // bk]
    else:
        s_w = [f32(rnd.uniform(1e-4, 1e-3))]
        scale_dims = []
        sw_at = lambda i, j: s_w[0]
    if dequantize:
        w_ref = [bf16(f32(e4m3_decode(codes[i * k + j]) * sw_at(i, j))) for i in range(n) for j in range(k)]
    else:
        w_ref = [e4m3_decode(codes[i * k + j]) * sw_at(i, j) for i in range(n) for j in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    packed = [("weight", [e4m3_decode(c) for c in codes], [n, k], "f8E4M3FN"),
              ("weight_scale_inv", s_w, scale_dims, "f32")]
    if static:
        s_x = f32(rnd.uniform(0.001, 0.004))   # some |x| / s_x exceed 448: clamped
        packed.append(("activation_scale", [s_x], [], "f32"))
    # The kernel sees x; the dense reference runs on the activations
    # quantized here the way FP8Linear does (ref_x).
    if dequantize:
        xq = x
    elif static:
        xq = act_quant_static(x, s_x)
    else:
        xq = act_quant_dynamic(x, M, k, block[1])
    write_test(name, f"FineGrainedFP8 block {block}, {'static' if static else 'dynamic'} activations, dequantize {dequantize}",
               attr(block, static, dequantize), packed, M, n, k, x, w_ref, ref_x=xq)


def on_the_fly(name, n, k, block, seed):
    """Fp8Quantize in f32: per block scale = 448 / amax,
    W8 = e4m3(clamp(w * scale, +-448)), weight_scale_inv = 1 / scale; the same
    single-rounded f32 operations as the reference, so the codes agree."""
    rnd = random.Random(seed)
    bn, bk = block
    w = [f32(rnd.uniform(-1, 1)) for _ in range(n * k)]
    sc = k // bk
    w_ref = [0.0] * (n * k)
    for bi in range(n // bn):
        for bj in range(sc):
            idx = [i * k + j for i in range(bi * bn, (bi + 1) * bn) for j in range(bj * bk, (bj + 1) * bk)]
            amax = max(abs(w[t]) for t in idx)
            scale = f32(448.0 / amax) if amax > 0 else 1.0
            inv = f32(1.0 / scale)
            for t in idx:
                w_ref[t] = e4m3(max(-448.0, min(448.0, f32(w[t] * scale)))) * inv
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    packed = [("weight", None, [n, k], "f8E4M3FN"),
              ("weight_scale_inv", None, [n // bn, sc], "f32")]
    write_test(name, f"FineGrainedFP8 on-the-fly, block {block}, dynamic activations",
               attr(block, False, False), packed, M, n, k, x, w_ref,
               quantize_from=w, ref_x=act_quant_dynamic(x, M, k, bk))


if __name__ == "__main__":
    prequantized("fp8-block128-dynamic", 256, 256, (128, 128), False, False, 1)
    prequantized("fp8-block128x64-static", 128, 256, (128, 64), True, False, 2)
    prequantized("fp8-pertensor-static", 128, 128, None, True, False, 3)
    prequantized("fp8-block128-dequantize", 256, 128, (128, 128), False, True, 4)
    on_the_fly("fp8-onthefly-block128", 256, 256, (128, 128), 5)
