#!/usr/bin/env bash
# One GPU-machine call: SlmGen study runs as parallel processes (the models are small and launch-bound, so a few
# processes share the H100 better than one), each "TARGET FIRST-SEED [SEEDS]" job its own process.
#   run: carry [".device"], command: bash scripts/gpu/study-parallel.sh MINUTES "words-ptb 689" "words-ptb 690" ...
# Records go to results/runs (existing ones are skipped) and come back in $OUT/runs.tgz; logs in $OUT/logs.tgz.
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT" logs
minutes=${1:-8}; shift
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
for job in "$@"; do
  read -r target first count <<< "$job"
  timeout $((minutes * 60 + 45)) bash .device/run.sh Study run "$target" --first-seed "$first" --seeds "${count:-1}" \
    --max-minutes "$minutes" --out results/runs > "logs/${target%%,*}$([[ $target == *,* ]] && echo +).$first.log" 2>&1 &
done
wait
tar czf "$OUT/runs.tgz" results/runs
tar czf "$OUT/logs.tgz" logs
grep -h "test NLL" logs/*.log | cut -c1-200
