#!/usr/bin/env bash
# One GPU-machine call (after scripts/pack-device.sh; carry .device): the peak-memory prediction (slmgen costs --batch)
# against PyTorch's max_memory_allocated for the designs' twins, with a census of what autograd keeps (issue 22).
# SPECS (a space-separated list) and BATCH choose the designs and batch; NAME the result file ($OUT/NAME.jsonl).
set -uo pipefail
out="${OUT:-/tmp/slmgen-out}"; mkdir -p "$out"
work=/tmp/slmgen-peak-${NAME:-peak-memory}; rm -rf "$work" && mkdir -p "$work"
batch="${BATCH:-32}"
specs="${SPECS:-specs/nanogpt/baby-gpt.yaml specs/levers/gqa.yaml specs/tokenizers/gpt2-padded.yaml}"
# PREPARED=DIR: predictions.json and one config.json + model.py folder per design, written beforehand on any machine
# (scripts/gpu/prepare-peak-memory.sh), which saves compiling every spec on the GPU machine.
if [ -n "${PREPARED:-}" ]; then
  python3 scripts/gpu/peak_memory.py "$PREPARED/predictions.json" $(ls -d "$PREPARED"/*/) --batch "$batch" --out "$out/${NAME:-peak-memory}.jsonl"
  exit
fi
bash .device/run.sh slmgen costs $specs --json --batch "$batch" > "$work/predictions.json"
dirs=()
for spec in $specs; do
  d="$work/$(basename "$spec" .yaml)"; dirs+=("$d")
  bash .device/run.sh slmgen export "$spec" --out "$d" --no-hf > /dev/null
done
python3 scripts/gpu/peak_memory.py "$work/predictions.json" "${dirs[@]}" --batch "$batch" --out "$out/${NAME:-peak-memory}.jsonl"
