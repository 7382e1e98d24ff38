#!/usr/bin/env bash
# One GPU-machine call (device tool): the device, PyTorch's timings of the same model (its PyTorch twin, exported
# by the Twins sample: scripts/gpu/torch_step.py) and SlmGen's bench, interleaved so that both see the machine at
# one time. (Runs before commit e26bf3f used a hand-written PyTorch copy of the model kept outside the repository.)
#   run: carry [".device"], command: bash scripts/gpu/speed.sh
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  nproc; date -u
} 2>&1 | tee "$OUT/device.txt"
bash .device/run.sh Twins export --models SlmGen.Samples.Bench.BenchGpt --out /tmp/slmgen-speed --device cpu > /dev/null
twin=/tmp/slmgen-speed/SlmGen.Samples.Bench.BenchGpt
timeout 200 python3 scripts/gpu/torch_step.py "$twin" bf16-pure,compile,graphs 2>&1 | tee "$OUT/torch_step.txt"
timeout 150 bash .device/run.sh Bench --device cuda --modes tf32,bf16-torchadamw,bf16-views,bf16-fwd,bf16-fwdbwd,bf16 --runs 5 --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.txt"
for round in 1 2; do
  timeout 60 python3 scripts/gpu/torch_step.py "$twin" bf16-pure 2>&1 | tee -a "$OUT/torch_step.txt"
  timeout 60 bash .device/run.sh Bench --device cuda --modes bf16 --runs 5 2>&1 | grep -E '^bf16 +[0-9]' | head -1 | tee -a "$OUT/bench.txt"
done
