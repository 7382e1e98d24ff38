#!/usr/bin/env bash
# Issue 25's table with seeds for a larger design in one GPU-machine call (after scripts/pack-device.sh; carry
# .device): scripts/artifact-lab.sh once per seed, the seeds side by side on the one GPU (each its own process and
# output folder: a design of this size leaves the GPU mostly idle, so they share it; timings are not what is measured),
# trained as one CUDA graph a step; then the seed folders gathered under one root and scripts/artifact_table.py's table.
# Everything bundled into $OUT/artifact-seeds.tgz (checkpoints and artifacts deleted: over the tool's file limit).
#   run: carry [".device"], command: SEEDS="2 3" BASE=specs/compact/modern-17m.yaml DATA=wikitext2 QAT_BITS=3 PTQ_BITS=3
#        METHODS="mse gptq" LIMIT_S=540 bash scripts/gpu/artifact-seeds.sh
set -uo pipefail
out="${OUT:-/tmp/slmgen-out}"; mkdir -p "$out"; w=/tmp/artifact-seeds; rm -rf "$w"; mkdir -p "$w"
export SLMGEN_DATA="$PWD/data"
echo "commit $(xz -dc .device/app.tar.xz | tar -xOf - ./COMMIT 2>/dev/null); $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)" | tee "$w/device.txt"
# The native library (CUDA graphs, fused kernels), kept from an earlier script of the same call when it is there.
[ -f /tmp/slmgen-native/libslmgen_native.so ] || OUT_DIR=/tmp/slmgen-native bash src/SlmGen.Native/build.sh > "$w/native-build.log" 2>&1
[ -f /tmp/slmgen-native/libslmgen_native.so ] && export SLMGEN_NATIVE=/tmp/slmgen-native/libslmgen_native.so
graphs=$([ -n "${SLMGEN_NATIVE:-}" ] && echo --cuda-graphs || true)
pids=()
for seed in ${SEEDS:-2 3}; do
  timeout "${LIMIT_S:-540}" env SLMGEN="bash .device/run.sh slmgen" STEPS="${ART_STEPS:-1000}" SEEDS="$seed" OUT="$w/s$seed" EXTRA="--device cuda $graphs" \
    bash scripts/artifact-lab.sh > "$w/s$seed.txt" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
mkdir -p "$w/all"
for seed in ${SEEDS:-2 3}; do mv "$w/s$seed/seed$seed" "$w/all/" 2>/dev/null; [ -d "$w/all/specs" ] || mv "$w/s$seed/specs" "$w/all/" 2>/dev/null; rm -rf "$w/s$seed"; done
python3 scripts/artifact_table.py "$w/all" > "$w/all/table.md" 2>&1; cat "$w/all/table.md"
find "$w" -name '*.slmq' -delete; find "$w" -name '*.ckpt' -delete
tar -C "$w" -czf "$out/artifact-seeds.tgz" .
echo "results: $out/artifact-seeds.tgz"
