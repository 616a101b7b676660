"""Float formats for the e2e generators of group-B methods (bf16, f8E4M3FN),
written from the IEEE / OCP FP8 descriptions, independent of hfq's C++."""
import struct

from common import f32


def bf16(v):
    """Rounds a float to bfloat16 (round to nearest even) and back."""
    b = struct.unpack("<I", struct.pack("<f", f32(v)))[0]
    b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    return struct.unpack("<f", struct.pack("<I", (b & 0xFFFF) << 16))[0]


def e4m3_decode(code):
    """OCP f8E4M3FN: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no
    infinities, 0x7f / 0xff are NaN, max 448."""
    s = -1.0 if code & 0x80 else 1.0
    e = (code >> 3) & 0xF
    m = code & 7
    if e == 0xF and m == 7:
        return float("nan")
    if e == 0:
        return s * m / 8.0 * 2.0 ** -6
    return s * (1 + m / 8.0) * 2.0 ** (e - 7)


_POS = [(e4m3_decode(c), c) for c in range(0x7F)]  # every finite non-negative code


def e4m3_encode(v):
    """Round to nearest, ties to the even code, saturating at +-448."""
    sign = 0x80 if v < 0 or (v == 0 and str(v).startswith("-")) else 0
    a = min(abs(v), 448.0)
    best = None
    for val, c in _POS:
        d = abs(val - a)
        if best is None or d < best[0] or (d == best[0] and c % 2 == 0):
            best = (d, c)
    return sign | best[1]


def e4m3(v):
    return e4m3_decode(e4m3_encode(v))
