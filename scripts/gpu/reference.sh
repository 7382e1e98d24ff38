#!/usr/bin/env bash
# One GPU-machine call: the study's protocol written directly in PyTorch (scripts/gpu/study_torch.py).
#   run: carry [".device"] (only for STUDY-TARGETs), command: bash scripts/gpu/reference.sh MINUTES PLAN [STUDY-TARGET...]
# PLAN is a file of lines "VARIANT FLAGS..." (flags of study_torch.py); every line runs as its own process, all in
# parallel, with OMP_NUM_THREADS=4. FlopCounterMode's count of every model comes first. Every STUDY-TARGET runs
# SlmGen's Study beside them (3 seeds). Results: $OUT/torchref.tgz (JSON lines + logs), $OUT/runs.tgz.
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"
minutes=${1:-8}; plan=${2:?plan file}; shift 2
dir=results/torch-reference/$(basename "$plan" .txt); mkdir -p "$dir"
limit=$((minutes * 60))
export OMP_NUM_THREADS=4
python3 scripts/gpu/study_torch.py --variant canonical --flops-only --out "$dir/flops.jsonl" > "$dir/flops.log" 2>&1
i=0
while read -r name flags; do
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
  i=$((i + 1))
  # shellcheck disable=SC2086
  timeout "$limit" python3 scripts/gpu/study_torch.py --variant "$name" $flags --out "$dir/$name.$i.jsonl" \
    > "$dir/$name.$i.log" 2>&1 &
done < "$plan"
for target in "$@"; do
  timeout "$limit" bash .device/run.sh Study run "$target" --seeds 3 --max-minutes "$((minutes - 1))" --out results/runs \
    > "$dir/study-$target.log" 2>&1 &
done
wait
nvidia-smi --query-gpu=name --format=csv,noheader > "$dir/device.txt" 2>&1
cp "$plan" "$dir/plan.txt"
tar czf "$OUT/torchref.tgz" results/torch-reference
[ $# -gt 0 ] && tar czf "$OUT/runs.tgz" results/runs
grep -h -c '"kind": "run"' "$dir"/*.jsonl; grep -h error "$dir"/*.jsonl | head -5; tail -n 2 "$dir"/*.log | cut -c1-300
