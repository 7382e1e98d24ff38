#!/usr/bin/env bash
# One GPU-machine call (device tool): the device, PyTorch's reference timings (torch_gpt.py, carried in
# .device/) and SlmGen's bench of the same model, interleaved so that both see the machine at one time.
#   run: carry [".device"], command: bash scripts/gpu/speed.sh
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  nproc; date -u
} 2>&1 | tee "$OUT/device.txt"
modes='bf16-pure,bf16-ac+compile+fused,bf16-ac+compile(ro)+fused'
WARM=10 ITERS=50 timeout 150 python3 .device/torch_gpt.py "$modes" 2>&1 | tee "$OUT/torch_gpt.txt"
timeout 150 bash .device/run.sh Bench --device cuda --modes tf32,bf16-torchadamw,bf16-views,bf16-fwd,bf16-fwdbwd,bf16 --runs 5 --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.txt"
for round in 1 2; do
  WARM=10 ITERS=50 timeout 60 python3 .device/torch_gpt.py bf16-pure 2>&1 | grep -E '^bf16-pure' | tee -a "$OUT/torch_gpt.txt"
  timeout 60 bash .device/run.sh Bench --device cuda --modes bf16 --runs 5 2>&1 | grep -E '^bf16 +[0-9]' | head -1 | tee -a "$OUT/bench.txt"
done
