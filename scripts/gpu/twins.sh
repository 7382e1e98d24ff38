#!/usr/bin/env bash
# One GPU-machine call (after scripts/pack-device.sh; carry .device): the PyTorch twin check of every model
# (the Twins sample exports each one with TorchSharp's logits, scripts/gpu/twins.py rebuilds and compares
# it), then the torchrun round trip (scripts/torchrun/roundtrip.sh) when there are two GPUs.
# Results go to $OUT: twins.jsonl (one record per model, a checkpoint record, a summary) and the logs.
set -uo pipefail
out="${OUT:-/tmp/slmgen-out}"
mkdir -p "$out"
work=/tmp/slmgen-twins
rm -rf "$work" && mkdir -p "$work"
commit="$(cat /tmp/slmgen-app/COMMIT 2>/dev/null || git rev-parse HEAD 2>/dev/null || echo unknown)"
echo "commit $commit; $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
bash .device/run.sh Twins export --out "$work/export" --device cuda > "$out/twins-export.log" 2>&1 || { echo "export failed"; tail -20 "$out/twins-export.log"; }
bash .device/run.sh Twins checkpoint --out "$work/checkpoint" --device cuda > "$out/twins-checkpoint.log" 2>&1 || { echo "checkpoint failed"; tail -20 "$out/twins-checkpoint.log"; }
python3 scripts/gpu/twins.py "$work/export" --checkpoint "$work/checkpoint" --out "$out/twins.jsonl" 2>&1 | tail -40
echo "twins exit $?"
if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
  bash scripts/torchrun/roundtrip.sh "$work/roundtrip" "$out"
fi
