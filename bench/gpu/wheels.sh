#!/usr/bin/env bash
# Downloads, on this machine (which has the Python registry), the wheels of
# the quantization libraries transformers needs to load the corpus's
# checkpoints on the GPU machine (which has none), into .device/whl; `run`
# carries that folder and bench/gpu/run.sh installs it (--no-deps, ahead of
# the machine's own packages). The versions are those the corpus was
# recorded with (test/models/<case>/expected.json, "versions"); the GPU
# machine's Python is 3.12 with torch 2.11 and transformers 5.17, so only
# what it lacks is fetched.
#   bench/gpu/wheels.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=.device/whl
mkdir -p "$DEST"
TARGET=(--python-version 3.12 --only-binary=:all: --no-deps)
for p in manylinux_2_28_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64; do
  TARGET+=(--platform "$p")
done
# name==version, one per line: the library, then what it imports that the
# GPU machine's torch environment does not have.
PINNED=(
  bitsandbytes==0.50.2
  compressed-tensors==0.20.1 loguru pydantic pydantic-core annotated-types typing-inspection
  torchao==0.18.0
  optimum-quanto==0.2.7 ninja
)
python3 -m pip download -q "${TARGET[@]}" -d "$DEST" "${PINNED[@]}"
# hqq publishes a source distribution only: built here into a wheel (pure
# Python; its optional CUDA extension is not needed for the references).
python3 -m pip wheel -q --no-deps --no-build-isolation -w "$DEST" hqq==0.2.8.post1
du -sh "$DEST"
ls "$DEST"
