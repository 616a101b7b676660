#!/usr/bin/env bash
# The model ops on the GPU machine (no LLVM/MLIR, no CMake of the project):
# builds libhfq_kernel_abi.so, libhfq_kernels_ref.so and
# libhfq_model_ops_cuda.so with the host compiler and nvcc alone, then runs
#   1. hfq-model-ops-gpu-test (every op against the CPU reference);
#   2. compute-sanitizer memcheck on its reduced set (--small);
#   3. hfq-model-ops-bench (attention decode / prefill on a Llama-3-8B layer)
#      and bench/model_ops_baseline.py (torch SDPA, same shapes, same run).
# Everything lands in $OUT (or ./device-out). Exits 1 if a test failed.
#
# The reference includes MLIR's CRunnerUtils.h for the memref descriptor
# (bench/shim holds it, as for bench/device.sh) and the generated
# kernels/generated/MethodArgs.h: taken from .device/gen/ when carried
# there (copied from a build tree), else generated with hfq-spec-compile.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUT:-$ROOT/device-out}
BUILD=/tmp/hfq-model-ops-build
mkdir -p "$OUT" "$BUILD/obj"
NVCC=${NVCC:-nvcc}
GENCODE="-gencode=arch=compute_90a,code=sm_90a"
GEN=$(bash bench/gpu/contract.sh "$BUILD")
INC="-I$ROOT -I$ROOT/bench/shim -I$GEN"
CXXFLAGS="-std=c++17 -O2 -fPIC $INC"

echo "== build =="
time {
  pids=()
  for src in kernels/abi/*.cpp kernels/ref/*.cpp; do
    g++ $CXXFLAGS -c "$src" -o "$BUILD/obj/$(basename "$src").o" & pids+=($!)
  done
  for src in kernels/cuda/ModelOps*.cu; do
    $NVCC -std=c++17 -O3 $INC $GENCODE -Xcompiler -fPIC -Xptxas -v -c "$src" \
      -o "$BUILD/obj/$(basename "$src").o" 2> "$BUILD/$(basename "$src").ptxas" & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  abi=(); for s in kernels/abi/*.cpp; do abi+=("$BUILD/obj/$(basename "$s").o"); done
  ref=(); for s in kernels/ref/*.cpp; do ref+=("$BUILD/obj/$(basename "$s").o"); done
  g++ -shared -o "$BUILD/libhfq_kernel_abi.so" "${abi[@]}"
  g++ -shared -o "$BUILD/libhfq_kernels_ref.so" "${ref[@]}" -L"$BUILD" -lhfq_kernel_abi -Wl,-rpath,"$BUILD"
  $NVCC -shared $GENCODE -o "$BUILD/libhfq_model_ops_cuda.so" "$BUILD"/obj/ModelOps*.cu.o \
    "$BUILD/obj/ModelOps.cpp.o" -L"$BUILD" -lhfq_kernel_abi -lcublas -Xlinker -rpath,"$BUILD"
  g++ $CXXFLAGS -I/usr/local/cuda/include -DHFQ_MODEL_OPS_CUDA_LIB="\"$BUILD/libhfq_model_ops_cuda.so\"" \
    test/gpu/ModelOpsGpuTest.cpp -o "$BUILD/hfq-model-ops-gpu-test" -L"$BUILD" -lhfq_kernels_ref \
    -lhfq_kernel_abi -L/usr/local/cuda/lib64 -lcudart -ldl -Wl,-rpath,"$BUILD"
  g++ $CXXFLAGS -I/usr/local/cuda/include bench/ModelOpsBench.cpp -o "$BUILD/hfq-model-ops-bench" \
    -L"$BUILD" -lhfq_model_ops_cuda -lhfq_kernel_abi -L/usr/local/cuda/lib64 -lcudart -Wl,-rpath,"$BUILD"
}
cat "$BUILD"/*.ptxas | grep -E "Compiling entry|Used|spill" > "$OUT/model-ops-ptxas.txt" || true

FAILED=0
echo "== GPU test: every model op against the CPU reference =="
"$BUILD/hfq-model-ops-gpu-test" > "$OUT/model-ops-test.log" 2>&1 || FAILED=1
grep -v "^ok " "$OUT/model-ops-test.log" | head -60 || true
grep -c "^ok " "$OUT/model-ops-test.log" || true

echo "== compute-sanitizer memcheck (--small) =="
if command -v compute-sanitizer > /dev/null; then
  if timeout 200 compute-sanitizer --tool memcheck --error-exitcode 3 \
      "$BUILD/hfq-model-ops-gpu-test" --small > "$OUT/model-ops-memcheck.log" 2>&1; then
    echo "memcheck: clean"
  else
    echo "memcheck: FAILED (status $?)"
    FAILED=1
  fi
  grep -E "ERROR SUMMARY|checks," "$OUT/model-ops-memcheck.log" || tail -20 "$OUT/model-ops-memcheck.log"
else
  echo "compute-sanitizer not found"
fi

echo "== bench =="
"$BUILD/hfq-model-ops-bench" --json "$OUT/model-ops-bench.json" | tee "$OUT/model-ops-bench.md" || FAILED=1
PYTHONUNBUFFERED=1 python3 bench/model_ops_baseline.py --json "$OUT/model-ops-torch.json" \
  | tee "$OUT/model-ops-torch.md" || echo "torch baseline failed"
if [ "$FAILED" != 0 ]; then
  echo "FAILED (logs in $OUT)"
  exit 1
fi
