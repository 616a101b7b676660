#!/usr/bin/env python3
"""Writes the malformed inputs of the hardening tests into the test's
temporary files, so that nothing large is committed.

  gen.py safetensors OUT HEADER_JSON DATA_BYTES [HEADER_LENGTH]
      an 8-byte length, HEADER_JSON, then DATA_BYTES zero bytes; the length
      field is HEADER_LENGTH when given (a lie), else the header's length;
      HEADER_JSON may be @FILE
  gen.py tensors OUT COUNT       a valid header of COUNT empty U8 tensors
  gen.py index OUT COUNT         an index whose weight_map has COUNT entries
  gen.py deep OUT DEPTH [BEFORE] [AFTER]
      BEFORE + DEPTH '[' + DEPTH ']' + AFTER (a JSON nesting DEPTH deep)
  gen.py replace OUT FILE OLD NEW   FILE with OLD replaced by NEW (once)
  gen.py ir-deep OUT DEPTH       a module whose hfq.model_config nests DEPTH deep
"""
import json
import struct
import sys


def main(argv):
    kind, out = argv[1], argv[2]
    if kind == "safetensors":
        header = open(argv[3][1:], "rb").read() if argv[3].startswith("@") else argv[3].encode()
        data = b"\0" * int(argv[4])
        length = int(argv[5]) if len(argv) > 5 else len(header)
        blob = struct.pack("<Q", length) + header + data
    elif kind == "tensors":
        header = {"t%d" % i: {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}
                  for i in range(int(argv[3]))}
        text = json.dumps(header, separators=(",", ":")).encode()
        blob = struct.pack("<Q", len(text)) + text
    elif kind == "index":
        index = {"weight_map": {"t%d.weight" % i: "model.safetensors" for i in range(int(argv[3]))}}
        blob = json.dumps(index, separators=(",", ":")).encode()
    elif kind == "deep":
        depth = int(argv[3])
        before = argv[4] if len(argv) > 4 else ""
        after = argv[5] if len(argv) > 5 else ""
        blob = (before + "[" * depth + "]" * depth + after).encode()
    elif kind == "replace":
        text = open(argv[3]).read()
        if argv[4] not in text:
            sys.exit("gen.py: '%s' is not in %s" % (argv[4], argv[3]))
        blob = text.replace(argv[4], argv[5], 1).encode()
    elif kind == "ir-deep":
        depth = int(argv[3])
        blob = ("module attributes {hfq.model_config = {x = " + "[" * depth + "]" * depth +
                "}} {}\n").encode()
    else:
        sys.exit("gen.py: unknown kind " + kind)
    with open(out, "wb") as f:
        f.write(blob)


if __name__ == "__main__":
    main(sys.argv)
