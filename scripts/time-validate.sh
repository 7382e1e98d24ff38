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
$slmgen calibrate --device "$device" --out "$out/profile.json" > "$out/calibrate.log" 2>&1
python3 scripts/time_designs.py "$n" "$seed" "$out/designs" --scale "$scale"
extra=(results/lab/templates/base.yaml)
if [ "$scale" = gpu ]; then extra+=(specs/nanogpt/baby-gpt.yaml specs/large/mobilellm-125m.yaml); fi
for spec in "$out"/designs/*.yaml "${extra[@]}"; do
  $slmgen time "$spec" --device "$device" --batch "$batch" --steps "$steps" --device-profile "$out/profile.json" --json "$out/time.jsonl" >> "$out/time.log" 2>&1 || echo "failed: $spec" >> "$out/time.log"
done
python3 scripts/time_summary.py "$out/time.jsonl" | tee "$out/summary.md"
