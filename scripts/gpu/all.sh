#!/usr/bin/env bash
# One GPU-machine call: speed (PyTorch reference and SlmGen, side by side), then the training runs.
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
bash scripts/gpu/speed.sh
timeout 90 bash .device/run.sh Bench --device cuda --modes bf16-fwd,bf16-fwdbwd,bf16 --runs 5 2>&1 | tee "$OUT/bench-breakdown.txt"
bash scripts/gpu/train.sh
