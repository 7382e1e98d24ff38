#!/usr/bin/env bash
# Issue 24's check of the time model: calibrate this device, then time designs nobody tuned the model to — random
# valid designs (scripts/time_designs.py), the lab's base design and (on a GPU) the 124 M GPT-2 shape — each alone
# with `slmgen time --device-profile`, which records the prediction beside the measurement; scripts/time_summary.py
# gives the error distribution. Predictions are made from the profile before any design is timed.
#   CPU:  SLMGEN=src/SlmGen.Cli/bin/Release/net10.0/slmgen SCALE=cpu N=40 BATCH=8 bash scripts/time-validate.sh
#   GPU:  SLMGEN="bash .device/run.sh slmgen" SCALE=gpu N=100 BATCH=32 DEVICE=cuda bash scripts/time-validate.sh
set -euo pipefail
slmgen=${SLMGEN:-slmgen}
scale=${SCALE:-cpu}
n=${N:-40}
seed=${SEED:-2024}
batch=${BATCH:-8}
steps=${STEPS:-5}
device=${DEVICE:-cpu}
out=${OUT:-runs/time-validate}
mkdir -p "$out"
# PROFILE=FILE: predict from an earlier calibration of this kind of device instead (a re-check within the same session,
# e.g. after a run whose measurements were spoiled; the records' host_ratio then says how this host compares).
if [ -n "${PROFILE:-}" ]; then
  cp "$PROFILE" "$out/profile.json" && echo "profile: $PROFILE (not recalibrated)" > "$out/calibrate.log"
else
  $slmgen calibrate --device "$device" --out "$out/profile.json" > "$out/calibrate.log" 2>&1
fi
python3 scripts/time_designs.py "$n" "$seed" "$out/designs" --scale "$scale"
extra=(results/lab/templates/base.yaml)
if [ "$scale" = gpu ]; then extra+=(specs/nanogpt/baby-gpt.yaml specs/large/gpt2-124m.yaml specs/large/mobilellm-125m.yaml); fi
# PER_PROCESS specs to a process (default 1: each alone in its own process; on the GPU 10 saves the compile and CUDA
# start per design — they are still timed one after another); a failing group is retried one spec at a time.
# The eager and decoding processes start with --check-host (the host's cost per kernel now beside the calibration's:
# host_ratio in each record), so a host that slowed down after its calibration shows in the records.
# MODES="eager graphed decode" also times each step as one CUDA graph (SLMGEN_NATIVE set; time-graphed.jsonl) and
# decoding at batch 1 with the KV cache (prefill and per token; time-decode.jsonl).
per=${PER_PROCESS:-1}
all=("$out"/designs/*.yaml "${extra[@]}")
time_all() { # time_all JSONL [--graphed]
  local records="$1"; shift
  for ((i = 0; i < ${#all[@]}; i += per)); do
    local group=("${all[@]:i:per}")
    $slmgen time "${group[@]}" "$@" --device "$device" --batch "$batch" --steps "$steps" --device-profile "$out/profile.json" --json "$records" >> "$out/time.log" 2>&1 && continue
    [ "${#group[@]}" -gt 1 ] || { echo "failed: ${group[0]} $*" >> "$out/time.log"; continue; }
    local done_specs
    done_specs=$(python3 -c 'import json,sys; print("\n".join(json.loads(l)["spec"] for l in open(sys.argv[1])))' "$records" 2>/dev/null || true)
    for spec in "${group[@]}"; do
      grep -qxF "$spec" <<< "$done_specs" && continue
      $slmgen time "$spec" "$@" --device "$device" --batch "$batch" --steps "$steps" --device-profile "$out/profile.json" --json "$records" >> "$out/time.log" 2>&1 || echo "failed: $spec $*" >> "$out/time.log"
    done
  done
}
for mode in ${MODES:-eager}; do
  case "$mode" in
    graphed) time_all "$out/time-graphed.jsonl" --graphed ${TRACE:+--kernel-trace "$out/traces"} ;;
    decode) time_all "$out/time-decode.jsonl" --decode --check-host ${TRACE:+--kernel-trace "$out/traces"} ;;
    *) time_all "$out/time.jsonl" --check-host ;;
  esac
done
# TRACE=1: each graphed step also traced (slmgen time --kernel-trace), summed by kernel class beside the prediction by
# kernel kind its JSON line holds (scripts/gpu/trace_summary.py), and each decoding, split per token into device,
# ATen and managed host time (scripts/gpu/decode_trace.py); the raw traces are deleted (tens of MiB).
if [ -n "${TRACE:-}" ] && ls "$out"/traces/*-graphed.json > /dev/null 2>&1; then
  python3 scripts/gpu/trace_summary.py "$out"/traces/*-graphed.json --out "$out/trace-summary.jsonl" > "$out/trace-summary.txt" 2>&1
fi
if [ -n "${TRACE:-}" ] && ls "$out"/traces/*-decode.json > /dev/null 2>&1; then
  python3 scripts/gpu/decode_trace.py "$out"/traces/*-decode.json --out "$out/decode-trace.jsonl" > "$out/decode-trace.txt" 2>&1
fi
rm -rf "$out/traces"
[ -s "$out/time.jsonl" ] && python3 scripts/time_summary.py "$out/time.jsonl" | tee "$out/summary.md"   # MODES without eager: none
for m in graphed decode; do [ -s "$out/time-$m.jsonl" ] && python3 scripts/time_summary.py "$out/time-$m.jsonl" | tee "$out/summary-$m.md"; done
true
