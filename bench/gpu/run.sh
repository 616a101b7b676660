#!/usr/bin/env bash
# The whole model on the GPU machine: the one command there (docs/runtime.md,
# "The GPU target"). Needs the artifacts bench/gpu/artifacts.sh compiled on
# the development machine (carried in .device/).
#
#   bench/gpu/run.sh corpus   build (bench/gpu/build.sh); every case of
#                             bench/gpu/cases.txt through hfq-exec on the GPU,
#                             compared with transformers' recorded logits
#                             (expected.json) and with transformers run on
#                             this GPU in the same call (bench/llama8b/
#                             gpu_reference.py); compute-sanitizer memcheck
#                             of a short generation
#   bench/gpu/run.sh bench8b  build; the Llama-3-8B-shaped GPTQ model
#                             (bench/llama8b): 2048-token prefill and 128
#                             decode steps, logits against the dequantized
#                             model in transformers
#   bench/gpu/run.sh baseline8b  transformers bf16 on the same GPU (generate,
#                             static cache, torch.compile where it runs in its
#                             budget) and the HBM floor; the report of both
#   bench/gpu/run.sh all      all of them (stages may be listed together;
#                             the results of a stage run in another call are
#                             not kept: the machine starts bare)
#
# Everything lands in $OUT (or ./device-out); exits 1 if a check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
# Results go to a work folder; $OUT gets the summaries and one archive of the
# rest (the device tool returns at most 8 files).
FINAL=${OUT:-$ROOT/device-out}
OUT=/tmp/hfq-gpu-out
rm -rf "$OUT" && mkdir -p "$OUT"
B=${HFQ_GPU_BUILD:-/tmp/hfq-gpu}
ART=$ROOT/.device/artifacts
PROMPT=1,17,42,99,3,250,7,64
FAILED=0
export PYTHONUNBUFFERED=1

build() {
  echo "== build (nvcc and g++ alone) =="
  local start=$SECONDS
  bash bench/gpu/build.sh > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
  tail -1 "$OUT/build.log"
  echo "build: $((SECONDS - start)) s"
}

# The quantization libraries transformers needs for the references, carried
# as wheels in .device/whl (the GPU machine has no package registry;
# bench/gpu/wheels.sh downloads them on the development machine).
wheels() {
  ls .device/whl/*.whl > /dev/null 2>&1 || { echo "no wheels in .device/whl: cases needing them are skipped"; return; }
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/hfq-site \
    .device/whl/*.whl > "$OUT/wheels.log" 2>&1 || tail -3 "$OUT/wheels.log"
  export PYTHONPATH=/tmp/hfq-site${PYTHONPATH:+:$PYTHONPATH}
}

corpus() {
  wheels
  echo "== transformers on this GPU (the references of this run) =="
  timeout "${HFQ_REFERENCE_TIMEOUT:-600}" python3 bench/llama8b/gpu_reference.py --models test/models --out "$OUT/reference" \
    > "$OUT/reference.log" 2>&1 || echo "gpu_reference.py failed: $(tail -3 "$OUT/reference.log")"
  echo "== the corpus through hfq-exec on the GPU =="
  printf "%-20s %-8s %-28s %-28s %s\n" case atol "vs expected.json (CPU)" "vs transformers (GPU)" decode
  grep -v '^#' bench/gpu/cases.txt | while read -r name atol _; do
    [ -n "$name" ] || continue
    local log="$OUT/run/$name.log" got="$OUT/run/$name.json"
    mkdir -p "$OUT/run"
    if ! "$B/bin/hfq-exec" "$ART/$name" "test/models/$name" --prompt-ids=$PROMPT \
        --max-new-tokens=16 --logits-out="$got" > "$log" 2>&1; then
      printf "%-20s %-8s FAILED: %s\n" "$name" "$atol" "$(tail -1 "$log")"
      echo "$name" >> "$OUT/failed.txt"
      continue
    fi
    local cpu gpu="-"
    python3 test/models/compare.py "test/models/$name/expected.json" "$got" --atol "$atol" \
      --rtol 0 > "$OUT/run/$name.cpu.txt" 2>&1 || echo "$name" >> "$OUT/failed.txt"
    cpu=$(tail -1 "$OUT/run/$name.cpu.txt" | sed "s/^$name: //")
    if [ -f "$OUT/reference/$name.json" ]; then
      python3 test/models/compare.py "$OUT/reference/$name.json" "$got" --atol "$atol" \
        --rtol 0 > "$OUT/run/$name.gpu.txt" 2>&1 || echo "$name (GPU reference)" >> "$OUT/failed.txt"
      gpu=$(tail -1 "$OUT/run/$name.gpu.txt" | sed "s/^$name: //")
    fi
    printf "%-20s %-8s %-28s %-28s %s\n" "$name" "$atol" "${cpu:0:28}" "${gpu:0:28}" \
      "$(grep -E '^(decode|device) ' "$log" | tr -s ' ' | tr '\n' ' ')"
  done
  [ -f "$OUT/failed.txt" ] && { echo "failed: $(tr '\n' ' ' < "$OUT/failed.txt")"; FAILED=1; }

  echo "== compute-sanitizer memcheck: a short generation, graphs on =="
  if command -v compute-sanitizer > /dev/null; then
    for name in ${HFQ_MEMCHECK_CASES-llama3-bf16 gptq}; do
      if timeout 100 compute-sanitizer --tool memcheck --error-exitcode 3 "$B/bin/hfq-exec" "$ART/$name" \
          "test/models/$name" --prompt-ids=$PROMPT --max-new-tokens=6 > "$OUT/memcheck-$name.log" 2>&1; then
        echo "memcheck $name: clean ($(grep -c . "$OUT/memcheck-$name.log") lines)"
      else
        echo "memcheck $name: FAILED"; tail -15 "$OUT/memcheck-$name.log"; FAILED=1
      fi
    done
  else
    echo "compute-sanitizer not found"
  fi
}

bench8b() {
  local format=${1:-gptq}
  echo "== Llama-3-8B-shaped $format 4-bit g128: the checkpoint =="
  local ckpt=/tmp/hfq-llama8b-$format start=$SECONDS
  python3 bench/llama8b/make_checkpoint.py --format "$format" --out "$ckpt" > "$OUT/make8b-$format.log" 2>&1 \
    || { tail -5 "$OUT/make8b-$format.log"; FAILED=1; return; }
  echo "written in $((SECONDS - start)) s: $(du -sh "$ckpt" | cut -f1)"
  local ids
  ids=$(python3 -c "print(','.join(str((i * 7919 + 13) % 128000) for i in range(2048)))")
  echo "== hfq: prefill 2048 tokens, decode 128 (after a warm-up run) =="
  "$B/bin/hfq-exec" "$ART/llama8b-$format" "$ckpt" --prompt-ids="$ids" --max-new-tokens=128 \
    --warmup > "$OUT/hfq8b-$format.log" 2>&1 || { tail -5 "$OUT/hfq8b-$format.log"; FAILED=1; }
  grep -E "^(prefill|decode|device|load|link) " "$OUT/hfq8b-$format.log"
  echo "== hfq: logits on a short prompt, against the dequantized model in transformers =="
  "$B/bin/hfq-exec" "$ART/llama8b-$format" "$ckpt" --prompt-ids=$PROMPT --max-new-tokens=8 \
    --logits-out="$OUT/hfq8b-logits-$format.json" > "$OUT/hfq8b-short-$format.log" 2>&1 || FAILED=1
  python3 bench/llama8b/gpu_reference.py --checkpoint "$ckpt" --prompt $PROMPT --new-tokens 8 \
    --out "$OUT/reference8b-$format.json" > "$OUT/reference8b-$format.log" 2>&1 || tail -3 "$OUT/reference8b-$format.log"
  python3 test/models/compare.py "$OUT/reference8b-$format.json" "$OUT/hfq8b-logits-$format.json" --atol 0.25 --rtol 0 \
    > "$OUT/compare8b-$format.txt" 2>&1; tail -2 "$OUT/compare8b-$format.txt"
}

baseline8b() {
  echo "== transformers bf16, same GPU =="
  local modes=()
  [ -n "${HFQ_BASELINE_MODE:-}" ] && modes=(--modes "$HFQ_BASELINE_MODE")
  python3 bench/llama8b/transformers_baseline.py --json "$OUT/transformers8b.json" \
    --budget "${HFQ_BASELINE_BUDGET:-240}" "${modes[@]}" ${HFQ_BASELINE_ARGS:-} \
    > "$OUT/transformers8b.log" 2>&1 \
    || tail -5 "$OUT/transformers8b.log"
  tail -12 "$OUT/transformers8b.log"
}

report8b() {
  python3 bench/gpu/report8b.py --hfq "$OUT/hfq8b-gptq.log" --transformers "$OUT/transformers8b.json" \
    --compare "$OUT/compare8b-gptq.txt" --json "$OUT/bench8b.json" | tee "$OUT/bench8b.md"
}

finish() {
  mkdir -p "$FINAL"
  for f in bench8b.json bench8b.md summary.txt; do
    [ -f "$OUT/$f" ] && cp "$OUT/$f" "$FINAL/"
  done
  tar czf "$FINAL/gpu-run.tar.gz" --exclude='*logits*' -C "$(dirname "$OUT")" "$(basename "$OUT")"
}
trap finish EXIT
trap 'echo "stopped (time limit)"; exit 124' TERM INT
exec > >(tee "$OUT/summary.txt") 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
[ -n "${HFQ_GPU_PREBUILT:-}" ] || build  # HFQ_GPU_PREBUILT: reuse $HFQ_GPU_BUILD as it is
for stage in "${@:-all}"; do
  case "$stage" in
    corpus) corpus ;;
    bench8b) bench8b gptq; report8b ;;
    bench8b-awq) bench8b awq; rm -f /tmp/hfq-llama8b-awq/*.safetensors ;;
    baseline8b) baseline8b; report8b ;;
    all) corpus; bench8b; baseline8b; report8b ;;
    *) echo "unknown stage: $stage" >&2; exit 2 ;;
  esac
done
exit $FAILED
