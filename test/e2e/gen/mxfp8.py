"""MXFP8 end-to-end tests: python3 test/e2e/gen/mxfp8.py

Layout (specs/mxfp8.json): `weight` f8E4M3FN [N, K], `weight_scale_inv` ui8
[N/bn, K/bk] (weight_block_size [bn, bk], [1, 32] in MXFP8 checkpoints; []
for null), each byte an e8m0 exponent. transformers 5.17's Fp8Dequantize
reads uint8 scales as 2^(byte - 127) and multiplies in f32, then runs a
plain linear on unquantized activations (its path without a GPU):
W = e4m3 * 2^(byte - 127), exact. The reference here decodes the codes
itself (fpformats.py) and multiplies by the power of two exactly.

Writes test/e2e/mxfp8-*.mlir, and with model.py's writer the checkpoint
example examples/models/mxfp8-model.{mlir,safetensors} and its test
test/e2e/mxfp8-model-from-checkpoint.mlir.
"""
import random

from common import f32, write_test
from fpformats import e4m3_decode

M = 3


def attr(block, static):
    wbs = f"[{block[0]} : i64, {block[1]} : i64]" if block else "#hfq.none"
    return ('#hfq.method<"mxfp8", {quant_method = "mxfp8", activation_scheme = '
            f'"{"static" if static else "dynamic"}", dequantize = false, '
            'modules_to_not_convert = #hfq.none, modules_to_convert = #hfq.none, '
            f'scale_fmt = "ue8m0", weight_block_size = {wbs}}}>')


def random_codes(rnd, count):
    """Finite e4m3 codes (0x7f / 0xff are NaN), of every magnitude."""
    out = []
    while len(out) < count:
        c = rnd.randrange(256)
        if c & 0x7F != 0x7F:
            out.append(c)
    return out


def prequantized(name, n, k, block, static, seed):
    rnd = random.Random(seed)
    codes = random_codes(rnd, n * k)
    if block:
        bn, bk = block
        sr, sc = n // bn, k // bk
        scale_dims = [sr, sc]
        at = lambda i, j: (i // bn) * sc + j // bk
    else:
        sr, sc = 1, 1
        scale_dims = []
        at = lambda i, j: 0
    # Exponents of 2^-17 .. 2^8: W stays finite and far from f32's limits.
    e8m0 = [rnd.randrange(110, 136) for _ in range(sr * sc)]
    w_ref = [e4m3_decode(codes[i * k + j]) * 2.0 ** (e8m0[at(i, j)] - 127)
             for i in range(n) for j in range(k)]
    x = [f32(rnd.uniform(-1, 1)) for _ in range(M * k)]
    packed = [("weight", [e4m3_decode(c) for c in codes], [n, k], "f8E4M3FN"),
              ("weight_scale_inv", e8m0, scale_dims, "ui8")]
    if static:
        # Loaded and unused: transformers' dequantize path drops it.
        packed.append(("activation_scale", [f32(rnd.uniform(0.001, 0.004))], [], "f32"))
    write_test(name, f"MXFP8 block {block}, {'static' if static else 'dynamic'} activations, "
               "dequantized as transformers does without a GPU",
               attr(block, static), packed, M, n, k, x, w_ref)


CHECKPOINT_CONFIG = {"quant_method": "mxfp8", "activation_scheme": "dynamic",
                     "weight_block_size": [1, 32], "scale_fmt": "ue8m0",
                     "modules_to_not_convert": ["lm_head"]}


def model_from_checkpoint():
    from model import capture, write_model_test
    case = capture("mxfp8", "prequantized", "mxfp8-model", 32, 128, (1, 32), False, 7)
    write_model_test("mxfp8-model", "MXFP8 block 1x32 (e8m0 bytes), pre-quantized", case,
                     quantization_config=CHECKPOINT_CONFIG)


if __name__ == "__main__":
    prequantized("mxfp8-block1x32-n32-k128", 32, 128, (1, 32), False, 1)
    prequantized("mxfp8-block1x32-static-n16-k64", 16, 64, (1, 32), True, 2)
    prequantized("mxfp8-block2x64-n8-k128", 8, 128, (2, 64), False, 3)
    prequantized("mxfp8-pertensor-n16-k32", 16, 32, None, False, 4)
    model_from_checkpoint()
