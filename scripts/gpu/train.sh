#!/usr/bin/env bash
# One GPU-machine call: the main sample on CUDA, then nanoGPT's baby GPT to validation NLL 1.47.
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"
timeout 150 bash .device/run.sh TinyShakespeare --device cuda --run-dir /tmp/ts 2>&1 | tee "$OUT/tinyshakespeare-cuda.txt"
timeout 400 bash .device/run.sh Study babygpt --device cuda --out "$OUT/runs" 2>&1 | tr '\r' '\n' | grep -v '^step .*ETA' | tee "$OUT/babygpt.txt"
