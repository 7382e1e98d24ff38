#!/usr/bin/env bash
# One GPU-machine call (after scripts/pack-device.sh; carry .device): the PyTorch twin check of every model
# (the Twins sample exports each one with TorchSharp's logits, scripts/gpu/twins.py rebuilds and compares
# it), then the torchrun round trip (scripts/torchrun/roundtrip.sh) when there are two GPUs.
# MODELS=A,B limits the export to those models. Results go to $OUT: twins.jsonl (one record per model, a checkpoint record, a summary) and the logs.
set -uo pipefail
out="${OUT:-/tmp/slmgen-out}"
mkdir -p "$out"
work=/tmp/slmgen-twins
rm -rf "$work" && mkdir -p "$work"
commit="$(xz -dc .device/app.tar.xz | tar -xOf - ./COMMIT 2>/dev/null || echo unknown)"
echo "commit $commit; $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
bash .device/run.sh Twins export --out "$work/export" --device cuda ${MODELS:+--models "$MODELS"} > "$out/twins-export.log" 2>&1 || { echo "export failed"; tail -20 "$out/twins-export.log"; }
bash .device/run.sh Twins checkpoint --out "$work/checkpoint" --device cuda > "$out/twins-checkpoint.log" 2>&1 || { echo "checkpoint failed"; tail -20 "$out/twins-checkpoint.log"; }
python3 scripts/gpu/twins.py "$work/export" --checkpoint "$work/checkpoint" --out "$out/twins.jsonl" --commit "$commit" 2>&1 | grep -v "Loading weights" | tail -40
echo "twins exit ${PIPESTATUS[0]}"
tar -C "$out" -czf "$work/logs.tgz" twins-export.log twins-checkpoint.log && rm "$out"/twins-export.log "$out"/twins-checkpoint.log && mv "$work/logs.tgz" "$out/twins-logs.tgz"
if [ "${SKIP_ROUNDTRIP:-0}" != 1 ] && [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
  bash scripts/torchrun/roundtrip.sh "$work/roundtrip" "$out"
fi
