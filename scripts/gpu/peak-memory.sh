#!/usr/bin/env bash
# One GPU-machine call (after scripts/pack-device.sh; carry .device): the peak-memory prediction (slmgen costs --batch)
# against PyTorch's max_memory_allocated for three designs' twins (issue 22). Results in $OUT/peak-memory.jsonl.
set -uo pipefail
out="${OUT:-/tmp/slmgen-out}"; mkdir -p "$out"
work=/tmp/slmgen-peak; rm -rf "$work" && mkdir -p "$work"
batch="${BATCH:-32}"
specs="specs/nanogpt/baby-gpt.yaml specs/levers/gqa.yaml specs/tokenizers/gpt2-padded.yaml"
bash .device/run.sh slmgen costs $specs --json --batch "$batch" > "$work/predictions.json"
dirs=()
for spec in $specs; do
  d="$work/$(basename "$spec" .yaml)"; dirs+=("$d")
  bash .device/run.sh slmgen export "$spec" --out "$d" --no-hf > /dev/null
done
python3 scripts/gpu/peak_memory.py "$work/predictions.json" "${dirs[@]}" --batch "$batch" --out "$out/peak-memory.jsonl"
