#!/usr/bin/env bash
# Muon and per-group learning rates inside the CUDA graph (session 14) on the GPU machine (after scripts/pack-device.sh;
# carry .device): the same run eager and as one CUDA graph a step, from the same seed — Muon for the hidden matrices,
# AdamW for the rest with the embedding and the gains at their own rates — then the two runs' losses and speed side by
# side (scripts/gpu/muon_graphs.py). Graphed must capture every step after its warm-up, and the validation loss must stay
# within bf16 noise of the eager run's (the same check graphs.sh makes for AdamW).
#   SPEC=results/lab2/contest/Q6V4D320L5.yaml STEPS=400 bash scripts/gpu/muon-graphs.sh
set -uo pipefail
spec=${SPEC:-results/lab2/contest/Q6V4D320L5.yaml}
steps=${STEPS:-400}
out=${OUT:-/tmp/slmgen-out}/muon-graphs; mkdir -p "$out"
export SLMGEN_DATA="$PWD/data" SLMGEN_CACHE=/tmp/slmgen-tokens
[ -f /tmp/slmgen-native/libslmgen_native.so ] || OUT_DIR=/tmp/slmgen-native bash src/SlmGen.Native/build.sh > "$out/native-build.log" 2>&1
export SLMGEN_NATIVE=/tmp/slmgen-native/libslmgen_native.so
for mode in eager graphed; do
  flag=(); [ "$mode" = graphed ] && flag=(--cuda-graphs)
  rm -rf "/tmp/muon-graphs-$mode"
  bash .device/run.sh slmgen train "$spec" --data wikitext2 --steps "$steps" --batch 32 --optimizer muon --schedule warmdown \
    --embedding-lr 0.004 --gain-lr 0.002 --eval-every 100 --eval-batches 40 --seed 1 --run-dir "/tmp/muon-graphs-$mode" \
    --result "$out/$mode.json" "${flag[@]}" > "$out/$mode.log" 2>&1
  echo "$mode: exit $?"
  cp "/tmp/muon-graphs-$mode/metrics.jsonl" "$out/$mode-metrics.jsonl" 2>/dev/null
done
python3 scripts/gpu/muon_graphs.py "$out" | tee "$out/summary.md"
