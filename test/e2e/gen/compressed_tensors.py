"""compressed-tensors end-to-end tests: python3 test/e2e/gen/compressed_tensors.py

Formats (compressed-tensors / llm-compressor, quant-formats-and-kernels.md):
* pack-quantized: weight_packed i32 [N, ceil(K/pf)], pf = 32 // bits, along
  K LSB first (field j of word w is column w*pf + j), each field the signed
  value + 2^(bits-1); weight_zero_point (asymmetric) packed the same way
  along N: i32 [ceil(N/pf), G]; weight_scale bf16 [N, G] (group) or [N, 1]
  (channel); weight_g_idx i32 [K] maps columns to groups (actorder);
  weight_shape i64 [2] = [N, K] (torch.tensor(weight.shape), as the
  library writes it). w = (q - zp) * scale.
* int-quantized / naive-quantized: weight i8 [N, K] signed values, zero
  points i8 with the scale's shape.
* float-quantized: weight f8E4M3FN [N, K] * scale; on every target this
  runs through the dequantize fallback hfq_fp8_dequant_bf16:
  W = bf16(fp8 * scale), a plain linear.
W8A8 (int-quantized, dynamic per-token int8 activations): s = max|x| / 127,
x_q = clamp(round(x / s), -128, 127); the reference applies the same
(ref_x) and multiplies in double; the kernel's integer sum is exact and
only its f32 epilogue differs (rtol 1e-5).
"""
import random

from common import f32, write_test
from fpformats import bf16, e4m3_decode

M = 3


def scheme_attr(fmt, weights, input_activations="#hfq.none"):
    return (f'{{targets = ["Linear"], format = "{fmt}", input_activations = {input_activations}, '
            f'output_activations = #hfq.none, weights = {{{weights}}}}}')


def method_attr(fmt, scheme):
    return ('#hfq.method<"compressed-tensors", {quant_method = "compressed-tensors", '
            f'format = "{fmt}", quantization_status = "compressed", ignore = ["lm_head"], '
            f'config_groups = {{group_0 = {scheme}}}}}>')


def weights_attr(bits, typ, sym, strategy, group=None, actorder=False):
    g = f"{group} : i64" if group else "#hfq.none"
    ao = '"group"' if actorder else "#hfq.none"
    return (f'num_bits = {bits} : i64, type = "{typ}", symmetric = {"true" if sym else "false"}, '
            f'strategy = "{strategy}", group_size = {g}, dynamic = false, '
            f'actorder = {ao}')


def i32(w):
    return w - (1 << 32) if w >= (1 << 31) else w


def pack_rows(vals, rows, cols, bits):
    """Packs along dim 1 (each row into ceil(cols/pf) words)."""
    pf = 32 // bits
    wc = -(-cols // pf)
    out = []
    for r in range(rows):
        for w in range(wc):
            word = 0
            for j in range(pf):
                c = w * pf + j
                if c < cols:
                    word |= (vals[r * cols + c] + (1 << (bits - 1))) << (j * bits)
            out.append(i32(word))
    return out, wc


def pack_cols(vals, rows, cols, bits):
    """Packs along dim 0 (each column into ceil(rows/pf) words)."""
    pf = 32 // bits
    wr = -(-rows // pf)
    out = [0] * (wr * cols)
    for r in range(rows):
        for c in range(cols):
            out[(r // pf) * cols + c] |= (vals[r * cols + c] + (1 << (bits - 1))) << ((r % pf) * bits)
    return [i32(w) for w in out], wr


def packed(bits, strategy, group, sym, actorder, seed, n=16, k=64):
    rnd = random.Random(seed)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1))
    q = [rnd.randrange(lo, hi) for _ in range(n * k)]
    G = -(-k // group) if strategy == "group" else 1
    scale = [bf16(rnd.uniform(0.005, 0.05)) for _ in range(n * G)]
    zp = [0] * (n * G) if sym else [rnd.randrange(lo, hi) for _ in range(n * G)]
    if actorder:
        # Act-order: a permutation of columns, every group keeping g members.
        gidx = [c // group for c in range(k)]
        rnd.shuffle(gidx)
    else:
        gidx = [c // group if strategy == "group" else 0 for c in range(k)]
    words, wc = pack_rows(q, n, k, bits)
    tensors = [("weight_packed", words, [n, wc], "i32"),
               ("weight_scale", scale, [n, G], "bf16")]
    if not sym:
        zwords, zr = pack_cols(zp, n, G, bits)
        tensors.append(("weight_zero_point", zwords, [zr, G], "i32"))
    if actorder:
        tensors.append(("weight_g_idx", gidx, [k], "i32"))
    tensors.append(("weight_shape", [n, k], [2], "i64"))
    w_ref = [(q[r * k + c] - zp[r * G + gidx[c]]) * scale[r * G + gidx[c]] for r in range(n) for c in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    scheme = scheme_attr("pack-quantized", weights_attr(bits, "int", sym, strategy, group, actorder))
    name = (f"compressed-tensors-pack-int{bits}-{strategy}{group or ''}-{'sym' if sym else 'asym'}"
            f"{'-actorder' if actorder else ''}")
    write_test(name, f"compressed-tensors pack-quantized int{bits}, {strategy}, {'sym' if sym else 'asym'}",
               method_attr("pack-quantized", scheme), tensors, M, n, k, x, w_ref, scheme=scheme)


def act_quant_int8(x, k):
    out = []
    for i in range(len(x) // k):
        row = x[i * k:(i + 1) * k]
        s = f32(max(abs(v) for v in row) / 127.0)
        out += [min(max(round(f32(v / s)), -128), 127) * s if s else 0.0 for v in row]
    return out


def int_quantized(fmt, strategy, sym, dynamic, seed, n=16, k=64):
    rnd = random.Random(seed)
    q = [rnd.randrange(-128, 128) for _ in range(n * k)]
    S = n if strategy == "channel" else 1
    dims = [n, 1] if strategy == "channel" else [1]
    scale = [bf16(rnd.uniform(1e-3, 5e-3)) for _ in range(S)]
    zp = [0] * S if sym else [rnd.randrange(-20, 20) for _ in range(S)]
    at = (lambda r: r) if strategy == "channel" else (lambda r: 0)
    w_ref = [(q[r * k + c] - zp[at(r)]) * scale[at(r)] for r in range(n) for c in range(k)]
    tensors = [("weight", q, [n, k], "i8"), ("weight_scale", scale, dims, "bf16")]
    if not sym:
        tensors.append(("weight_zero_point", zp, dims, "i8"))
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    ia = ('{num_bits = 8 : i64, type = "int", symmetric = true, strategy = "token", '
          'dynamic = true, group_size = #hfq.none, actorder = #hfq.none}') if dynamic else "#hfq.none"
    scheme = scheme_attr(fmt, weights_attr(8, "int", sym, strategy), ia)
    name = f"compressed-tensors-{fmt.split('-')[0]}-int8-{strategy}-{'sym' if sym else 'asym'}{'-w8a8' if dynamic else ''}"
    write_test(name, f"compressed-tensors {fmt} int8 {strategy}{', dynamic per-token int8 activations' if dynamic else ''}",
               method_attr(fmt, scheme), tensors, M, n, k, x, w_ref, scheme=scheme,
               ref_x=act_quant_int8(x, k) if dynamic else None)


def float_quantized(strategy, seed, n=16, k=64):
    rnd = random.Random(seed)
    codes = []
    while len(codes) < n * k:
        c = rnd.randrange(256)
        if c & 0x7F != 0x7F:
            codes.append(c)
    S = n if strategy == "channel" else 1
    dims = [n, 1] if strategy == "channel" else [1]
    scale = [bf16(rnd.uniform(1e-4, 1e-3)) for _ in range(S)]
    at = (lambda r: r) if strategy == "channel" else (lambda r: 0)
    w_ref = [bf16(f32(e4m3_decode(codes[r * k + c]) * scale[at(r)])) for r in range(n) for c in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    ia = ('{num_bits = 8 : i64, type = "float", symmetric = true, strategy = "token", '
          'dynamic = true, group_size = #hfq.none, actorder = #hfq.none}')
    scheme = scheme_attr("float-quantized", weights_attr(8, "float", True, strategy), ia)
    write_test(f"compressed-tensors-float-fp8-{strategy}",
               f"compressed-tensors float-quantized fp8 {strategy} (dequantize fallback)",
               method_attr("float-quantized", scheme),
               [("weight", [e4m3_decode(c) for c in codes], [n, k], "f8E4M3FN"),
                ("weight_scale", scale, dims, "bf16")], M, n, k, x, w_ref, scheme=scheme)


if __name__ == "__main__":
    packed(4, "group", 32, True, False, 1)
    packed(4, "group", 32, False, False, 2)
    packed(8, "channel", None, True, False, 3)
    packed(4, "group", 16, True, True, 4)
    packed(3, "group", 32, False, False, 5)
    int_quantized("int-quantized", "channel", True, True, 6)
    int_quantized("int-quantized", "tensor", True, True, 7)
    int_quantized("naive-quantized", "channel", False, False, 8)
    float_quantized("channel", 9)
    float_quantized("tensor", 10)
