"""Copies a safetensors file with lm_head.weight's data_offsets moved past
the end of the file (the header's length prefix kept consistent)."""
import json
import struct
import sys

src, dst = sys.argv[1], sys.argv[2]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
begin, end = header["lm_head.weight"]["data_offsets"]
header["lm_head.weight"]["data_offsets"] = [begin + 4096, end + 4096]
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
