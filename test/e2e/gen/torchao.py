"""torchao end-to-end tests: python3 test/e2e/gen/torchao.py

Layouts (torchao v2 tensor subclasses, quant-formats-and-kernels.md), named
as transformers saves them: torchao's flatten_tensor_state_dict writes data
attribute <attr> of the subclass weight as <module>._weight_<attr>
(_weight_qdata, _weight_scale, ...).
* int4 plain (Int4Tensor): qdata i8 [N, K/2], signed int4 codes, element 2j
  in the low nibble and 2j+1 in the high; scale / zero_point bf16 [K/g, N];
  w = q * scale + zero_point.
* int4 tile_packed_to_4d (tinygemm): W padded to [Np, Kp] (Np to 8, Kp to
  1024); qdata i32 [Np/8, Kp/128, 32, 4]: word [nt][kt][t][j] serves row
  n = 8 nt + t / 4, k0 = 128 kt + 32 j, and with c = t % 4 its nibble i holds
  k = k0 + 2c + 8 (i & 3) + (i >> 2); scale_and_zero bf16 [Kp/g, Np, 2];
  w = (q - 8) * scale + zero.
* int8 (weight-only and dynamic), as torchao 0.18 writes it: qdata i8 [N, K],
  scale f32 [N, 1] or [1, 1], zero_point i8 of the scale's shape (0 from
  from_hp's symmetric mapping; the per-tensor weight-only test uses another);
  w = (q - zp) * s. Int8DynamicActivationInt8Weight quantizes x per token,
  s = max(max|x| / 127.5, 2^-23), q = clamp(round(x * (1/s)), -128, 127)
  (f32 here, the activation dtype); the reference applies the same and
  multiplies in double: the kernel's integer sum is exact and only its f32
  epilogue differs (rtol 1e-5).
"""
import random

from common import f32, write_test
from fpformats import bf16

M = 3


def attr(typ, data):
    return (f'#hfq.method<"torchao", {{quant_method = "torchao", modules_to_not_convert = #hfq.none, '
            f'quant_type = {{default = {{_type = "{typ}", _version = 2 : i64, _data = {{{data}}}}}}}}}>')


def s8(v):
    return v - 256 if v >= 128 else v


def int4_plain(g, seed, n=16, k=64):
    rnd = random.Random(seed)
    q = [rnd.randrange(-8, 8) for _ in range(n * k)]
    G = k // g
    sc = [bf16(rnd.uniform(0.005, 0.05)) for _ in range(G * n)]
    zp = [bf16(rnd.uniform(-0.1, 0.1)) for _ in range(G * n)]
    qdata = [s8((q[r * k + 2 * j] & 0xF) | ((q[r * k + 2 * j + 1] & 0xF) << 4)) for r in range(n) for j in range(k // 2)]
    w_ref = [q[r * k + c] * sc[(c // g) * n + r] + zp[(c // g) * n + r] for r in range(n) for c in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    write_test(f"torchao-int4-plain-g{g}", f"torchao Int4WeightOnlyConfig plain, group {g}",
               attr("Int4WeightOnlyConfig", f'group_size = {g} : i64, int4_packing_format = "plain"'),
               [("_weight_qdata", qdata, [n, k // 2], "i8"), ("_weight_scale", sc, [G, n], "bf16"),
                ("_weight_zero_point", zp, [G, n], "bf16")], M, n, k, x, w_ref)


def int4_tiled(g, seed, n=16, k=128):
    rnd = random.Random(seed)
    Np, Kp = -(-n // 8) * 8, -(-k // 1024) * 1024
    q = [rnd.randrange(16) for _ in range(Np * Kp)]    # padding codes too: ignored
    G = Kp // g
    sz = []
    for _ in range(G * Np):
        sz += [bf16(rnd.uniform(0.005, 0.05)), bf16(rnd.uniform(-0.1, 0.1))]
    words = []
    for nt in range(Np // 8):
        for kt in range(Kp // 128):
            for t in range(32):
                for j in range(4):
                    nn, k0, c = 8 * nt + t // 4, kt * 128 + j * 32, t % 4
                    wd = 0
                    for i in range(8):
                        kk = k0 + 2 * c + 8 * (i & 3) + (i >> 2)
                        wd |= q[nn * Kp + kk] << (4 * i)
                    words.append(wd - (1 << 32) if wd >= (1 << 31) else wd)
    w_ref = [(q[r * Kp + c] - 8) * sz[((c // g) * Np + r) * 2] + sz[((c // g) * Np + r) * 2 + 1]
             for r in range(n) for c in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    write_test(f"torchao-int4-tiled-g{g}", f"torchao Int4WeightOnlyConfig tile_packed_to_4d, group {g}",
               attr("Int4WeightOnlyConfig", f'group_size = {g} : i64, int4_packing_format = "tile_packed_to_4d"'),
               [("_weight_qdata", words, [Np // 8, Kp // 128, 32, 4], "i32"),
                ("_weight_scale_and_zero", sz, [G, Np, 2], "bf16")], M, n, k, x, w_ref)


def act_quant(x, k):
    out = []
    for i in range(len(x) // k):
        row = x[i * k:(i + 1) * k]
        s = max(f32(max(abs(v) for v in row) / 127.5), 2.0 ** -23)
        inv = f32(1.0 / s)
        out += [min(max(round(f32(v * inv)), -128), 127) * s for v in row]
    return out


def granularity(per_tensor):
    return f'granularity = {{_type = "{"PerTensor" if per_tensor else "PerRow"}", _data = {{}}}}'


def int8(dynamic, per_tensor, seed, n=16, k=64, zero_points=False):
    rnd = random.Random(seed)
    q = [rnd.randrange(-128, 128) for _ in range(n * k)]
    S = 1 if per_tensor else n
    s = [f32(rnd.uniform(1e-3, 5e-3)) for _ in range(S)]
    zp = [rnd.randrange(-8, 8) if zero_points else 0 for _ in range(S)]
    at = (lambda r: 0) if per_tensor else (lambda r: r)
    w_ref = [(q[r * k + c] - zp[at(r)]) * s[at(r)] for r in range(n) for c in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    typ = "Int8DynamicActivationInt8WeightConfig" if dynamic else "Int8WeightOnlyConfig"
    write_test(f"torchao-int8-{'dynamic' if dynamic else 'weightonly'}-{'pertensor' if per_tensor else 'perrow'}",
               f"torchao {typ}, {'per tensor' if per_tensor else 'per row'}",
               attr(typ, granularity(per_tensor)),
               [("_weight_qdata", q, [n, k], "i8"), ("_weight_scale", s, [S, 1], "f32"),
                ("_weight_zero_point", zp, [S, 1], "i8")],
               M, n, k, x, w_ref, ref_x=act_quant(x, k) if dynamic else None)


def on_the_fly_int4_plain(g, seed, n=16, k=64):
    """Int4Tensor.from_hp (int4_row_quantize_zp) on the bf16 weight, in f32:
    scale = max(max - min, 1e-6) / 15, zero = min + scale * 8,
    q = clamp(round((w - min) / scale), 0, 15) - 8; scale / zero stored in
    bf16. Each step is one f32 operation as in the reference, and round()
    rounds half to even like nearbyint, so the codes agree."""
    rnd = random.Random(seed)
    w = [f32(rnd.uniform(-1, 1)) for _ in range(n * k)]
    w_ref = [0.0] * (n * k)
    for r in range(n):
        for gg in range(k // g):
            idx = [r * k + gg * g + j for j in range(g)]
            vals = [bf16(w[i]) for i in idx]
            mn, mx = min(vals), max(vals)
            scale = f32(max(f32(mx - mn), 1e-6) / 15.0)   # 1e-6 never binds here
            zero = f32(mn + f32(scale * 8.0))
            for i, v in zip(idx, vals):
                code = min(max(round(f32(f32(v - mn) / scale)), 0), 15) - 8
                w_ref[i] = code * bf16(scale) + bf16(zero)
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    G = k // g
    write_test(f"torchao-onthefly-int4-plain-g{g}", f"torchao on-the-fly Int4WeightOnlyConfig plain, group {g}",
               attr("Int4WeightOnlyConfig", f'group_size = {g} : i64, int4_packing_format = "plain"'),
               [("_weight_qdata", None, [n, k // 2], "i8"), ("_weight_scale", None, [G, n], "bf16"),
                ("_weight_zero_point", None, [G, n], "bf16")], M, n, k, x, w_ref, quantize_from=w)


def on_the_fly_int8(dynamic, seed, n=16, k=64):
    """Int8Tensor.from_hp per row on the f32 weight: the activation rule
    above applied to each weight row, the scale stored in f32 (the layout's
    dtype) and the zero point 0."""
    rnd = random.Random(seed)
    w = [f32(rnd.uniform(-1, 1)) for _ in range(n * k)]
    w_ref = []
    for r in range(n):
        row = w[r * k:(r + 1) * k]
        s = max(f32(max(abs(v) for v in row) / 127.5), 2.0 ** -23)
        inv = f32(1.0 / s)
        w_ref += [min(max(round(f32(v * inv)), -128), 127) * s for v in row]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    typ = "Int8DynamicActivationInt8WeightConfig" if dynamic else "Int8WeightOnlyConfig"
    write_test(f"torchao-onthefly-int8-{'dynamic' if dynamic else 'weightonly'}",
               f"torchao on-the-fly {typ}, per row", attr(typ, granularity(False)),
               [("_weight_qdata", None, [n, k], "i8"), ("_weight_scale", None, [n, 1], "f32"),
                ("_weight_zero_point", None, [n, 1], "i8")],
               M, n, k, x, w_ref, quantize_from=w, ref_x=act_quant(x, k) if dynamic else None)


if __name__ == "__main__":
    int4_plain(32, 1)
    int4_tiled(32, 2)
    int4_tiled(128, 3)
    int8(False, False, 4)
    int8(False, True, 5, zero_points=True)
    int8(True, False, 6)
    int8(True, True, 7)
    on_the_fly_int4_plain(32, 8)
    on_the_fly_int8(False, 9)
    on_the_fly_int8(True, 10)
