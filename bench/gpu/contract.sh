#!/usr/bin/env bash
# Prints the include directory that holds kernels/generated/MethodArgs.h
# (the kernel contract generated from specs/*.json) for a GPU-machine build
# without CMake: .device/gen when bench/gpu/artifacts.sh copied it there,
# else one generated into BUILD_DIR/gen with hfq-spec-compile (host
# compiler and nlohmann-json).
#   GEN=$(bash bench/gpu/contract.sh BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
B=$1
GEN=$ROOT/.device/gen
if [ ! -f "$GEN/kernels/generated/MethodArgs.h" ]; then
  GEN=$B/gen
  mkdir -p "$GEN/kernels/generated"
  g++ -std=c++17 -O1 -I"$ROOT" spec/*.cpp spec/expr/*.cpp tools/hfq-spec-compile/*.cpp \
    -o "$B/hfq-spec-compile" >&2
  "$B/hfq-spec-compile" --root "$ROOT" --kernel-contract "$GEN/kernels/generated/MethodArgs.h" \
    specs/*.json >&2
fi
echo "$GEN"
