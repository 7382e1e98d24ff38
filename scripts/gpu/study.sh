#!/usr/bin/env bash
# One GPU-machine call: continue the study's runs for at most MINUTES minutes (records already in
# results/runs are skipped), then pack the records into $OUT/runs.tgz.
#   run: carry [".device"], command: bash scripts/gpu/study.sh MINUTES SEEDS [TARGET]
# Keep MINUTES at 8 or less: the device call itself ends at 10 minutes, and the records are packed last.
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"
minutes=${1:-8}; seeds=${2:-3}; target=${3:-all}
timeout $((minutes * 60 + 60)) bash .device/run.sh Study run "$target" --seeds "$seeds" --max-minutes "$minutes" --out results/runs 2>&1 | tee "$OUT/study.txt"
tar czf "$OUT/runs.tgz" results/runs
