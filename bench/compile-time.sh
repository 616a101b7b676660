#!/usr/bin/env bash
# Compile time and peak memory of a whole model, by stage, from config.json
# alone (no weights: they are loaded at run time, so compile time does not
# depend on the checkpoint's size). Default: a Llama-3-70B-shaped GPTQ 4-bit
# model (80 layers) for sm_90, through hfq-import, --hfq-dispatch,
# hfq-lower-to-llvm, mlir-translate and llc to an object file.
#
#   bench/compile-time.sh [MODEL_DIR] [TARGET]      (after ./setup.sh build)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-bench/models/llama-3-70b-gptq}
TARGET=${2:-sm_90}
BIN=build/bin
LLVM=/usr/lib/llvm-22/bin
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

stage() {  # stage NAME CMD...: runs CMD, prints seconds and peak RSS
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$@"
  read -r secs kb < "$OUT/time"
  printf '| %-38s | %8s | %8d |\n' "$name" "$secs" "$((kb / 1024))"
}

echo "model: $MODEL, target: $TARGET"
echo "| stage                                  | seconds  | peak MB  |"
echo "|----------------------------------------|----------|----------|"
stage "hfq-import --config-only" $BIN/hfq-import --config-only "$MODEL" -o "$OUT/model.mlir"
stage "hfq-opt --hfq-dispatch" $BIN/hfq-opt "$OUT/model.mlir" \
  --hfq-dispatch="target=$TARGET" -o "$OUT/dispatched.mlir"
stage "hfq-opt --hfq-lower-to-llvm" $BIN/hfq-opt "$OUT/dispatched.mlir" \
  --hfq-lower-to-llvm="target=$TARGET" -o "$OUT/llvm.mlir"
stage "mlir-translate --mlir-to-llvmir" $LLVM/mlir-translate --mlir-to-llvmir \
  "$OUT/llvm.mlir" -o "$OUT/model.ll"
stage "llc -O2 -filetype=obj" $LLVM/llc -O2 -filetype=obj "$OUT/model.ll" -o "$OUT/model.o"
echo
echo "IR sizes: $(wc -c < "$OUT/model.mlir") bytes imported, $(wc -c < "$OUT/llvm.mlir") lowered, object $(wc -c < "$OUT/model.o") bytes"
echo "quantized linears: $(grep -c 'hfq.qlinear' "$OUT/dispatched.mlir")"
