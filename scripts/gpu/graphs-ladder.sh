#!/usr/bin/env bash
# Issue 16, second call (after scripts/pack-device.sh with Bench, Twins, Study and slmgen; carry .device): builds
# libslmgen_native, then in one call (a) PyTorch's baby-GPT step with the whole step captured by hand as one CUDA graph
# without torch.compile (ac-graph: eager PyTorch's kernels, no host cost) next to torch.compile + CUDA graphs, and
# SlmGen's bf16 eager and graphed steps, interleaved; (b) the study's ladder (linear, MLP, attention, transformer;
# the study's protocol, seed 689) eager and then with SLMGEN_CUDA_GRAPHS=1, wall time of each. Everything is bundled
# into $OUT/graphs-ladder.tar.gz.
#   run: carry [".device"], command: bash scripts/gpu/graphs-ladder.sh
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"; work=/tmp/slmgen-ladder; rm -rf "$work"; mkdir -p "$work"
export PYTHONUNBUFFERED=1 SLMGEN_DATA="$PWD/data"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  nproc; date -u; echo "commit $(xz -dc .device/app.tar.xz | tar -xOf - ./COMMIT)"
} > "$work/device.txt" 2>&1
OUT_DIR=/tmp/slmgen-native bash src/SlmGen.Native/build.sh > "$work/build.txt" 2>&1
export SLMGEN_NATIVE=/tmp/slmgen-native/libslmgen_native.so
bash .device/run.sh Twins export --models SlmGen.Samples.Bench.BenchGpt --out /tmp/slmgen-speed --device cpu > /dev/null
twin=/tmp/slmgen-speed/SlmGen.Samples.Bench.BenchGpt
for round in 1 2; do
  timeout 150 python3 scripts/gpu/torch_step.py "$twin" ac-graph,graphs >> "$work/torch_step.txt" 2>&1
  timeout 100 bash .device/run.sh Bench --device cuda --modes bf16,bf16-graph --runs 5 --json "$work/bench-$round.json" >> "$work/bench.txt" 2>&1
done
ladder=ladder-linear,ladder-mlp,ladder-attention,ladder-transformer
for mode in eager graphs; do
  start=$(date +%s.%N)
  SLMGEN_CUDA_GRAPHS=$([ $mode = graphs ] && echo 1 || echo 0) timeout 200 bash .device/run.sh Study run "$ladder" --seeds 1 --device cuda --out "$work/study-$mode" > "$work/study-$mode.txt" 2>&1
  echo "study ladder $mode: exit $?, wall seconds $(python3 -c "import time; print(round(time.time() - $start, 1))")" | tee -a "$work/walls.txt"
done
tar -C "$work" -czf "$OUT/graphs-ladder.tar.gz" .
cat "$work/device.txt" "$work/walls.txt"; tail -2 "$work/build.txt"; cat "$work/torch_step.txt" | cut -c1-200; grep -E "^bf16" "$work/bench.txt"; grep -h "CUDA graphs" "$work"/study-*.txt | sort | uniq -c
