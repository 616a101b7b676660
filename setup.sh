#!/usr/bin/env bash
# hfq's one setup script: installs every dependency from Debian's packages,
# configures and builds, then runs what was asked.
#
#   ./setup.sh run     set up, then run the main job: hfq-run on a bundled
#                      quantized checkpoint (test/models/), printed beside
#                      what transformers 5.17 generated from it
#   ./setup.sh test    set up, then run every test (lit + GoogleTest, the GPU
#                      tests, which skip without a GPU, and a short bounded
#                      fuzzing run)
#   ./setup.sh build   set up and build only
#
# Options (after the command): --sanitize builds into build-asan/ with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs from there (the
# e2e tests and `run` preload the ASan runtime into mlir-runner, which is
# not instrumented; docs/limits.md has the sanitizer notes).
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)
COMMAND=${1:-build}
shift || true
BUILD_DIR=$ROOT/build
# The checkpoint the main job runs (a folder of test/models/).
MAIN_MODEL=bnb-4bit-nf4
SANITIZE=OFF
for arg in "$@"; do
  case "$arg" in
    --sanitize) SANITIZE=ON; BUILD_DIR=$ROOT/build-asan ;;
    *) echo "setup.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools   # MLIR 22, lit, FileCheck
  clang-22 libclang-rt-22-dev                               # compiler, libFuzzer, sanitizers
  nlohmann-json3-dev libgtest-dev                           # spec JSON, unit tests
  libsentencepiece-dev sentencepiece pkg-config             # text prompts (tokenizer.model)
  cmake ninja-build
)

install_packages() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    [[ "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup.sh: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if ! $sudo apt-get update -q >/tmp/hfq-apt.log 2>&1 ||
     ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >>/tmp/hfq-apt.log 2>&1; then
    echo "setup.sh: could not install ${missing[*]} with apt-get (log: /tmp/hfq-apt.log)." >&2
    echo "setup.sh: hfq needs Debian 12 (bookworm) with bookworm-security, where LLVM/MLIR 22 is packaged." >&2
    tail -n 5 /tmp/hfq-apt.log >&2 || true
    exit 1
  fi
}

configure_and_build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    CC=clang-22 CXX=clang++-22 cmake -G Ninja -S "$ROOT" -B "$BUILD_DIR" \
      -DCMAKE_BUILD_TYPE=Release \
      -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DHFQ_ENABLE_FUZZERS=ON \
      -DHFQ_ENABLE_SANITIZERS=$SANITIZE >/dev/null
  fi
  ninja -C "$BUILD_DIR"
}

run_tests() {
  local status=0
  echo "== lit =="
  ninja -C "$BUILD_DIR" check-hfq || status=1
  echo "== GoogleTest and the GPU tests (ctest) =="
  if [ -x "$BUILD_DIR/bin/hfq-gpu-test" ]; then
    echo "CUDA kernels: built. GPU: $("$BUILD_DIR/bin/hfq-gpu-test" --probe || true)"
  else
    echo "CUDA kernels: not built (nvcc not found); the GPU tests do not exist in this build"
  fi
  (cd "$BUILD_DIR" && ctest --output-on-failure) || status=1
  return $status
}

install_packages
# Under --sanitize: hfq's instrumented copies of LLVM's BumpPtrAllocator
# poison slabs that the uninstrumented libMLIR.so allocates from, a false
# use-after-poison (docs/limits.md reproduces it without hfq code); and
# mlir-runner needs the ASan runtime preloaded to load the instrumented
# libhfq_kernels_ref.so. test/lit.cfg.py does the same for the lit suite.
RUNNER=(/usr/lib/llvm-22/bin/mlir-runner)
if [ "$SANITIZE" = ON ]; then
  export ASAN_OPTIONS="allow_user_poisoning=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  RUNNER=(env "LD_PRELOAD=$(clang-22 -print-file-name=libclang_rt.asan-x86_64.so)"
          "ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0" /usr/lib/llvm-22/bin/mlir-runner)
fi

configure_and_build
case "$COMMAND" in
  build) ;;
  run)
    # The main job: a real quantized checkpoint directory, as transformers
    # and the quantization library wrote it, imported, dispatched exactly as
    # from_pretrained would, compiled, loaded and run; beside it what
    # transformers 5.17 itself generated from it (recorded when the corpus
    # was made: test/models/README.md).
    MODEL=$ROOT/test/models/$MAIN_MODEL
    PROMPT=1,17,42,99,3,250,7,64
    echo "== hfq-run $MAIN_MODEL: import, dispatch, compile (JIT, CPU reference kernels), load, generate =="
    "$BUILD_DIR/bin/hfq-run" "$MODEL" --prompt-ids=$PROMPT --max-new-tokens=16 \
      --logits-out="$BUILD_DIR/main-job.logits.json" --report="$BUILD_DIR/main-job.report.json"
    echo
    echo "== transformers 5.17 on the same checkpoint (test/models/$MAIN_MODEL/expected.json) =="
    python3 -c "import json, sys; e = json.load(open(sys.argv[1])); print('generated ', e['greedy_ids']); print('reference ', e['reference'])" "$MODEL/expected.json"
    echo
    echo "== agreement: every prompt logit within the bf16 tolerance, greedy ids identical =="
    python3 "$ROOT/test/models/compare.py" "$MODEL/expected.json" "$BUILD_DIR/main-job.logits.json" --atol 1.5 --rtol 0
    echo
    echo "== the dispatch report ($BUILD_DIR/main-job.report.json): quantizer, merged config, each layer's kernel =="
    python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print('quantizer', r['quantizer_class'], '(' + r['quant_method'] + ')', '| dtype', r['dtype']); [print(' ', m['name'], m['action'], m.get('kernel', '')) for m in r.get('modules', [])[:9]]; print('  ...')" "$BUILD_DIR/main-job.report.json"
    ;;
  test) run_tests ;;
  *) echo "setup.sh: unknown command '$COMMAND' (expected run, test or build)" >&2; exit 2 ;;
esac
