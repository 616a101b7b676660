#!/usr/bin/env bash
# The one script for the GPU machine (no LLVM/MLIR there, so no CMake of the
# whole project): builds the CUDA kernels, the GPU test and the benchmark with
# nvcc alone, then runs what is asked. Everything it prints also lands in
# $OUT (or ./device-out) for later reading.
#
#   bench/device.sh test        GPU correctness tests (kernels; ABI entry points
#                               against the CPU references; bitsandbytes NF4 /
#                               FP4; fine-grained FP8) + compute-sanitizer
#   bench/device.sh profile M.. ncu on one launch of the 4-bit kernel per M
#   bench/device.sh bench [..]  hfq-bench (args passed on) + torch baselines + report
#   bench/device.sh all         both
#   bench/device.sh build       only the build (into /tmp/hfq-device-build)
#
# The entry-point test and the reference kernels include MLIR's
# CRunnerUtils.h for one thing, the memref descriptor StridedMemRefType. The
# GPU machine has no MLIR: the script writes that descriptor (the layout
# kernels/include/hfq_kernels.h documents) into its build directory, unless
# .device/include/mlir/ExecutionEngine/CRunnerUtils.h (MLIR's own, copied from
# the development machine and carried) is there. A clean checkout needs
# neither.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUT:-$ROOT/device-out}
mkdir -p "$OUT"
BUILD=/tmp/hfq-device-build
mkdir -p "$BUILD"
WHAT=${1:-all}
shift || true

NVCC=${NVCC:-nvcc}
GENCODE="-gencode=arch=compute_90a,code=sm_90a"
MLIR_INC=$ROOT/.device/include
# Where MLIR is not installed, the memref descriptor alone (bench/shim).
[ -f "$MLIR_INC/mlir/ExecutionEngine/CRunnerUtils.h" ] || MLIR_INC=$ROOT/bench/shim
FLAGS="-std=c++17 -O3 -I$ROOT -I$MLIR_INC"
build() {
  local objs=()
  local pids=()
  # The CUDA sources: the host API and one file per kernel family.
  local cusrc=(kernels/cuda/WeightOnly.cu kernels/cuda/Decode.cu kernels/cuda/Gemm.cu kernels/cuda/Dequant.cu
               kernels/cuda/Wgmma.cu
               kernels/cuda/Bnb4.cu kernels/cuda/Bnb4Decode.cu kernels/cuda/Bnb4Dequant.cu
               kernels/cuda/Fp8.cu kernels/cuda/Fp8Quantize.cu kernels/cuda/Fp8Decode.cu kernels/cuda/Fp8Gemm.cu)
  local cuda=()
  for src in "${cusrc[@]}"; do cuda+=("$BUILD/$(basename "$src").o"); done
  # What the kernels need besides: the repack's writer, the ABI's tensors,
  # the bitsandbytes reference (its code tables).
  local host=(kernels/repack/QuantWeight.cpp kernels/repack/KernelLayout.cpp kernels/repack/WgmmaRepack.cpp
              kernels/abi/Tensor.cpp
              kernels/abi/StoredTensor.cpp kernels/ref/Bitsandbytes.cpp)
  for src in "${cusrc[@]}" "${host[@]}" \
             test/gpu/WeightOnlyGpuTest.cpp bench/WeightOnlyBench.cpp; do
    local obj="$BUILD/$(basename "$src").o"
    objs+=("$obj")
    if [[ "$src" == *.cu ]]; then
      $NVCC $FLAGS $GENCODE -Xptxas -v -c "$src" -o "$obj" 2> "$BUILD/$(basename "$src").ptxas" &
    else
      $NVCC $FLAGS -x c++ -c "$src" -o "$obj" &
    fi
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  local lib=("${cuda[@]}")
  for src in "${host[@]}"; do lib+=("$BUILD/$(basename "$src").o"); done
  $NVCC $GENCODE -o "$BUILD/hfq-gpu-test" "$BUILD/WeightOnlyGpuTest.cpp.o" "${lib[@]}" -lcublas
  $NVCC $GENCODE -o "$BUILD/hfq-bench" "$BUILD/WeightOnlyBench.cpp.o" "${lib[@]}" -lcublas
  cat "$BUILD"/*.cu.ptxas | grep -E "Compiling entry|Used|spill" > "$OUT/ptxas.txt" || true
  # The entry-point tests: the kernels' contract generated from specs/*.json
  # first (hfq-spec-compile, host compiler + nlohmann-json), then the ABI
  # runtime, the reference, the repack and the CUDA entry points, linked
  # into each test program (test/gpu/EntryGpuTest.cpp says what CMake
  # builds instead).
  g++ -std=c++17 -O1 -I"$ROOT" spec/*.cpp spec/expr/*.cpp tools/hfq-spec-compile/*.cpp \
    -o "$BUILD/hfq-spec-compile"
  mkdir -p "$BUILD/gen/kernels/generated" "$BUILD/entry"
  "$BUILD/hfq-spec-compile" --root "$ROOT" --kernel-contract "$BUILD/gen/kernels/generated/MethodArgs.h" specs/*.json
  local entry=()
  pids=()
  for src in kernels/cuda/Entry.cpp kernels/repack/*.cpp kernels/abi/*.cpp kernels/ref/*.cpp \
             test/gpu/EntryGpuTest.cpp test/gpu/Bnb4GpuTest.cpp test/gpu/Fp8GpuTest.cpp; do
    local obj="$BUILD/entry/$(echo "$src" | tr / _).o"
    [[ "$src" == test/* ]] || entry+=("$obj")
    $NVCC $FLAGS -I"$BUILD/gen" -x c++ -c "$src" -o "$obj" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  $NVCC $GENCODE -o "$BUILD/hfq-entry-gpu-test" "$BUILD/entry/test_gpu_EntryGpuTest.cpp.o" \
    "${entry[@]}" "${cuda[@]}" -lcublas
  $NVCC $GENCODE -o "$BUILD/hfq-bnb4-gpu-test" "$BUILD/entry/test_gpu_Bnb4GpuTest.cpp.o" \
    "${entry[@]}" "${cuda[@]}" -lcublas
  $NVCC $GENCODE -o "$BUILD/hfq-fp8-gpu-test" "$BUILD/entry/test_gpu_Fp8GpuTest.cpp.o" \
    "${entry[@]}" "${cuda[@]}" -lcublas
}

FAILED=0
run_test() {
  # Each program's status is kept (the pipes only filter what is shown); the
  # script exits 1 at the end if any failed.
  echo "== GPU correctness test =="
  "$BUILD/hfq-gpu-test" > "$OUT/gpu-test.log" 2>&1 || FAILED=1
  grep -v "^ok " "$OUT/gpu-test.log" || true
  echo "== ABI entry points against the CPU references =="
  "$BUILD/hfq-entry-gpu-test" > "$OUT/entry-test.log" 2>&1 || FAILED=1
  grep -v "^ok " "$OUT/entry-test.log" || true
  echo "== bitsandbytes NF4 / FP4 against the CPU reference =="
  "$BUILD/hfq-bnb4-gpu-test" > "$OUT/bnb4-test.log" 2>&1 || FAILED=1
  grep -v "^ok " "$OUT/bnb4-test.log" || true
  echo "== fine-grained FP8 against the CPU reference =="
  "$BUILD/hfq-fp8-gpu-test" > "$OUT/fp8-test.log" 2>&1 || FAILED=1
  grep -v "^ok " "$OUT/fp8-test.log" || true
  echo "== compute-sanitizer memcheck (reduced sets) =="
  if command -v compute-sanitizer >/dev/null; then
    local name
    for name in hfq-gpu-test hfq-bnb4-gpu-test hfq-fp8-gpu-test; do
      if compute-sanitizer --tool memcheck --error-exitcode 3 "$BUILD/$name" --small \
          > "$OUT/memcheck-$name.log" 2>&1; then
        echo "memcheck $name: clean"
      else
        echo "memcheck $name: FAILED"
        tail -30 "$OUT/memcheck-$name.log"
        FAILED=1
      fi
      tail -2 "$OUT/memcheck-$name.log"
    done
  else
    echo "compute-sanitizer not found"
  fi
}

run_bench() {
  echo "== hfq-bench =="
  "$BUILD/hfq-bench" --json "$OUT/hfq-bench.json" "$@" > "$OUT/hfq-bench.md"
  echo "== torch baselines =="
  # bitsandbytes has no package index on the GPU machine: its wheel, where
  # .device/whl holds one (pip download bitsandbytes --no-deps -d
  # .device/whl on a machine with one), installed beside torch.
  local site=/tmp/hfq-bnb-site
  if ls .device/whl/bitsandbytes-*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --target "$site" .device/whl/bitsandbytes-*.whl \
      && export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" \
      || echo "installing the bitsandbytes wheel failed: its rows are skipped"
  else
    echo "no bitsandbytes wheel in .device/whl: its rows are skipped"
  fi
  PYTHONUNBUFFERED=1 python3 bench/torch_baselines.py --json "$OUT/torch.json" "$@" || echo "torch baselines failed"
  python3 bench/report.py "$OUT/hfq-bench.json" "$OUT/torch.json" > "$OUT/report.md" || true
  cat "$OUT/report.md"
}

run_profile() {
  # ncu on one launch of hfq's 4-bit kernel per M given (after warm-up).
  for m in "$@"; do
    echo "== ncu: 28672x8192 M=$m =="
    ncu --clock-control none -k regex:'weightOnlyKernel|decodeKernel' --launch-skip 8 --launch-count 1 \
      --section SpeedOfLight --section Occupancy --section WarpStateStats \
      --section MemoryWorkloadAnalysis --section LaunchStats --section SchedulerStats \
      --metrics regex:smsp__average_warps_issue_stalled_.*_per_issue_active.ratio \
      "$BUILD/hfq-bench" --quick --shapes 28672x8192 --ms "$m" > "$OUT/ncu-m$m.txt" 2>&1 || true
    grep -E "stalled_.*[0-9]$" "$OUT/ncu-m$m.txt" | awk '$NF > 0.05' | sort -k3 -n -r | head -12 || true
    grep -E "Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Stall|Warp Cycles Per Issued|Issued Warp|No Eligible|Block Limit|Compute \(SM\)|Dynamic Shared|Grid Size|Block Size|smsp__pcsamp" "$OUT/ncu-m$m.txt" | head -60
  done
}

build
case "$WHAT" in
  build) ;;
  test) run_test ;;
  bench) run_bench "$@" ;;
  profile) run_profile "$@" ;;
  all) run_test; run_bench "$@" ;;
  *) echo "unknown: $WHAT" >&2; exit 2 ;;
esac
if [ "$FAILED" != 0 ]; then
  echo "FAILED: a GPU test did not pass (logs in $OUT)"
  exit 1
fi
