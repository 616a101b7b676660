"""AQLM end-to-end tests: python3 test/e2e/gen/aqlm.py

Pre-quantized only: AQLM learns its codebooks over calibration data. Small
nbits keep the codebooks printable (a 1x16 codebook is 2^16 * in_group
values); the i16 path is covered by nbits = 10.
"""
import random

from common import f16, f32, write_test


def aqlm(C, nbits, ig, og, n, k, seed):
    rnd = random.Random(seed)
    size = 1 << nbits
    cb = [f16(rnd.uniform(-0.5, 0.5)) for _ in range(C * size * og * ig)]   # [C, size, og, ig]
    O, I = n // og, k // ig
    codes = [rnd.randrange(size) for _ in range(O * I * C)]               # [O, I, C]
    stored = [c - size if c >= size // 2 else c for c in codes]           # aqlm stores codes signed
    scales = [f16(rnd.uniform(0.5, 2.0)) for _ in range(O)]

    def cbv(c, code, r, j):
        return cb[((c * size + code) * og + r) * ig + j]
    w_ref = [0.0] * (n * k)
    for o in range(O):
        for i in range(I):
            for r in range(og):
                for j in range(ig):
                    s = sum(cbv(c, codes[(o * I + i) * C + c], r, j) for c in range(C))
                    w_ref[(o * og + r) * k + i * ig + j] = f32(scales[o] * s)
    x = [f32(rnd.uniform(-1, 1)) for _ in range(3 * k)]
    attr = (f'#hfq.method<"aqlm", {{in_group_size = {ig} : i64, out_group_size = {og} : i64, '
            f'num_codebooks = {C} : i64, nbits_per_codebook = {nbits} : i64}}>')
    packed = [("codes", stored, [O, I, C], "i8" if nbits <= 8 else "i16"),
              ("codebooks", cb, [C, size, og, ig], "f16"),
              ("scales", scales, [O, 1, 1, 1], "f16")]
    write_test(f"aqlm-{C}x{nbits}-in{ig}-out{og}", f"AQLM {C}x{nbits}, in_group {ig}, out_group {og}",
               attr, packed, 3, n, k, x, w_ref)


if __name__ == "__main__":
    aqlm(2, 8, 8, 1, 16, 64, 1)
    aqlm(1, 10, 8, 1, 16, 64, 2)
    aqlm(3, 4, 4, 2, 16, 32, 3)
