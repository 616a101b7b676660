"""BitNet b1.58 end-to-end tests: python3 test/e2e/gen/bitnet.py

Layout: `weight` ui8 [N/4, K], ternary t in {-1, 0, 1} stored as t + 1, four
per byte in planes along N (byte row r holds rows r, r + N/4, r + N/2,
r + 3N/4 at bits 0-1, 2-3, 4-5, 6-7); `weight_scale` [1].
BitLinear: activations per token s_x = 127 / max(max|x|, 1e-5),
x_q = clamp(round(x s_x), -128, 127); y = (x_q . t^T) / (s_x * weight_scale).
AutoBitLinear offline: y = (x_q / s_x) . t^T * weight_scale; online (bf16
weight): W' = clamp(round(W s), -1, 1) / s with s = 1 / max(mean|W|, 1e-5).
The reference applies the same activation quantization (ref_x) and
multiplies in double; the kernel's integer sum is exact and only its f32
epilogue differs (rtol 1e-5).
"""
import random

from common import f32, write_test
from fpformats import bf16

M = 3


def attr(linear_class, mode):
    return ('#hfq.method<"bitnet", {quant_method = "bitnet", modules_to_not_convert = #hfq.none, '
            f'linear_class = "{linear_class}", quantization_mode = "{mode}", '
            'use_rms_norm = false, rms_norm_eps = 1.0e-06 : f64}>')


def act_quant(x, k):
    out = []
    for i in range(len(x) // k):
        row = x[i * k:(i + 1) * k]
        s = f32(127.0 / max(max(abs(v) for v in row), 1e-5))
        out += [min(max(round(f32(v * s)), -128), 127) / s for v in row]
    return out


def packed_ternary(seed, n=16, k=64, linear_class="bitlinear"):
    rnd = random.Random(seed)
    t = [rnd.randrange(-1, 2) for _ in range(n * k)]
    q = n // 4
    weight = [sum((t[(r + p * q) * k + c] + 1) << (2 * p) for p in range(4)) for r in range(q) for c in range(k)]
    ws = bf16(rnd.uniform(1.0, 4.0))
    if linear_class == "bitlinear":
        w_ref = [v / ws for v in t]
    else:
        w_ref = [v * ws for v in t]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    write_test(f"bitnet-{linear_class}-offline", f"BitNet {linear_class}, packed ternary weight",
               attr(linear_class, "offline"),
               [("weight", weight, [q, k], "ui8"), ("weight_scale", [ws], [1], "bf16")],
               M, n, k, x, w_ref, ref_x=act_quant(x, k))


def online(seed, n=16, k=64):
    rnd = random.Random(seed)
    w = [bf16(rnd.uniform(-0.1, 0.1)) for _ in range(n * k)]
    mean = f32(sum(abs(v) for v in w) / (n * k))
    s = f32(1.0 / max(mean, 1e-5))
    w_ref = [min(max(round(f32(v * s)), -1), 1) / s for v in w]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    # mean|W| is summed in double in both; a product W*s landing exactly on
    # +-0.5 or +-1.5 would need identical f32 rounding, which it has.
    write_test("bitnet-autobitlinear-online", "BitNet AutoBitLinear online (bf16 weight quantized at run time)",
               attr("autobitlinear", "online"), [("weight", w, [n, k], "bf16")],
               M, n, k, x, w_ref, ref_x=act_quant(x, k))


if __name__ == "__main__":
    packed_ternary(1)
    packed_ternary(2, linear_class="autobitlinear")
    online(3)
