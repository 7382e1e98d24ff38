#!/usr/bin/env bash
# Where the time model misses (issue 24): each design's training step (eager and as one CUDA graph) timed by `slmgen
# time` with the time model's prediction by kernel kind (matmul, attention, memory-bound) in its JSON line, then 5
# more steps under libtorch's kernel profiler (--kernel-trace); scripts/gpu/trace_summary.py sums each trace by
# kernel class, so predicted and measured kinds stand side by side. Bundled into $OUT/time-trace.tgz.
# Needs libslmgen_native (built here when /tmp/slmgen-native lacks it, ≈ 70 s) for graphs and the profiler.
#   run (carry .device): [PROFILE=.device/diag/profile.json] DESIGNS=".device/diag/*.yaml" bash scripts/gpu/time-trace.sh
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; w=/tmp/time-trace; rm -rf "$w"; mkdir -p "$w/traces" "$OUT"
export SLMGEN_DATA="$PWD/data"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$w/device.txt"
[ -f /tmp/slmgen-native/libslmgen_native.so ] || OUT_DIR=/tmp/slmgen-native bash src/SlmGen.Native/build.sh > "$w/native-build.log" 2>&1
export SLMGEN_NATIVE=/tmp/slmgen-native/libslmgen_native.so
# PROFILE unset: this device calibrated first (slmgen calibrate, about a minute), so prediction and trace share a machine.
if [ -z "${PROFILE:-}" ]; then
  start=$SECONDS; bash .device/run.sh slmgen calibrate --device cuda --out "$w/profile.json" > "$w/calibrate.log" 2>&1; PROFILE="$w/profile.json"
  echo "calibrated in $((SECONDS - start)) s: $(tail -1 "$w/calibrate.log")"
fi
designs=$(eval ls ${DESIGNS:?DESIGNS: the specs to trace})
for mode in ${MODES:-eager graphed}; do
  [ "$mode" = graphed ] && mode=--graphed || mode=""
  # one process per design: a disposed graph's memory pool stays with the process
  for d in $designs; do
    timeout "${EACH_S:-60}" bash .device/run.sh slmgen time "$d" --device cuda --batch "${BATCH:-32}" --steps "${TIME_STEPS:-5}" $mode \
      --device-profile "$PROFILE" --json "$w/trace.jsonl" --kernel-trace "$w/traces" >> "$w/time.log" 2>&1 || echo "failed: $d $mode" | tee -a "$w/time.log"
  done
done
python3 scripts/gpu/trace_summary.py "$w"/traces/*.json --out "$w/trace-summary.jsonl" > "$w/trace-summary.txt" 2>&1
head -40 "$w/trace-summary.txt"
rm -rf "$w/traces"
tar -C "$w" -czf "$OUT/time-trace.tgz" .
