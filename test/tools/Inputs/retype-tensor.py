"""Copies a safetensors file with one tensor's dtype changed (same byte
size: F32 <-> I32), as a checkpoint whose tensor has the wrong type."""
import json
import struct
import sys

src, dst, name, dtype = sys.argv[1:5]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
header[name]["dtype"] = dtype
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
