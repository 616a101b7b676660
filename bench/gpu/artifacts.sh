#!/usr/bin/env bash
# Compiles, on this machine (LLVM 22), the artifacts bench/gpu/run.sh runs on
# the GPU machine (which has no LLVM): every case of bench/gpu/cases.txt for
# sm_90 into .device/artifacts/<case>/, and the Llama-3-8B-shaped GPTQ and
# AWQ models of bench/llama8b (from header-only checkpoints: the compiler
# reads headers only) into .device/artifacts/llama8b-{gptq,awq}/. Then copies the
# generated kernel contract (MethodArgs.h) into .device/gen, which the GPU
# build includes. .device/ is git-ignored: `run` carries it.
#   bench/gpu/artifacts.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
ART=.device/artifacts
rm -rf "$ART" && mkdir -p "$ART" .device/gen/kernels/generated
cp "$BUILD/kernels/generated/MethodArgs.h" .device/gen/kernels/generated/
grep -v '^#' bench/gpu/cases.txt | while read -r name atol options; do
  [ -n "$name" ] || continue
  # shellcheck disable=SC2086
  "$BUILD/bin/hfq-compile" "test/models/$name" --target=sm_90 $options \
    -o "$ART/$name" > /dev/null
  rm -f "$ART/$name/model.o"
  echo "compiled $name"
done
for format in gptq awq; do
  L8B=/tmp/hfq-llama8b-headers-$format
  rm -rf "$L8B"
  python3 bench/llama8b/make_checkpoint.py --format $format --header-only --out "$L8B" > /dev/null
  "$BUILD/bin/hfq-compile" "$L8B" --target=sm_90 -o "$ART/llama8b-$format" > /dev/null
  rm -f "$ART/llama8b-$format/model.o"
  echo "compiled llama8b-$format"
done
du -sh "$ART"
