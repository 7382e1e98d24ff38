#!/usr/bin/env bash
# Q4's after-training quantisers (results/lab2/PROTOCOL.md §6 Q4: "post-training quantisers reuse the fp32 run of the
# same stabiliser and seed — one training, several artifacts"): every finished run of a seed sweep is shipped from its
# final weights (last.ckpt) under each plan by `slmgen artifact` and scored on the test split before and after the
# round trip by `slmgen eval --artifact`, JOBS at a time; scripts/gpu/lab2_ptq.py then writes the results as a sweep
# of their own (<sweep>-ptq/: results.jsonl, p###/s<seed>/result.json) that `LabReport lab2` tables like any other.
# Runs on the machine that trained the sweep (the checkpoints stay there); scripts/gpu/lab.sh calls it for the sweeps
# named in LAB_PTQ.
#   SLMGEN="bash .device/run.sh slmgen" JOBS=16 bash scripts/gpu/lab2-ptq.sh results/lab2/records/q4-seeds
# PTQ_BITS (4 3 2), METHODS (absmax mse gptq gptq-mse learned gptq-learned): the plans, attention and FFN at those bits, 8-bit embedding, groups of
# 64, zstd; STRETCHED_BITS (3 2) with STRETCHED_METHODS (mse) on the stretched grid for the points in STRETCHED_POINTS
# (p000: the sweep's first design, Q4's "none").
set -uo pipefail
sweep=${1:?give the records folder of a seed sweep}
sweep=${sweep%/}
slmgen=${SLMGEN:-slmgen}
jobs=${JOBS:-8}
work="$sweep-ptq/work"; mkdir -p "$work"
plans="$work/plans.tsv"; : > "$plans"
for b in ${PTQ_BITS:-4 3 2}; do for m in ${METHODS:-absmax mse gptq gptq-mse learned gptq-learned}; do
  printf 'q%s-%s\t{ attention: %s, mlp: %s, embedding: 8, group: 64, method: %s, compression: zstd }\t*\n' "$b" "$m" "$b" "$b" "$m" >> "$plans"
done; done
for b in ${STRETCHED_BITS-3 2}; do for m in ${STRETCHED_METHODS:-mse}; do
  printf 'q%ss-%s\t{ attention: %s, mlp: %s, embedding: 8, group: 64, method: %s, grid: stretched, compression: zstd }\t%s\n' "$b" "$m" "$b" "$b" "$m" "${STRETCHED_POINTS:-p000}" >> "$plans"
done; done
data=$(head -1 "$sweep/results.jsonl" | python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["train"]["data"])' 2>/dev/null)
[ -n "$data" ] || data=wikitext2
# One job per (run, plan): the spec copy sits beside the point's spec (its tokenizer path is relative to that folder).
list="$work/jobs.txt"; : > "$list"
for run in "$sweep"/p[0-9]*/s*; do
  [ -f "$run/result.json" ] && [ -f "$run/last.ckpt" ] || continue
  p=$(basename "$(dirname "$run")"); s=$(basename "$run")
  while IFS=$'\t' read -r plan quant points; do
    [ "$points" = "*" ] || [[ " $points " == *" $p "* ]] || continue
    spec="$sweep/points/$p-$plan.yaml"
    # the point's spec without its quantization section (flow or block form) and the end-of-document marker, plus the plan
    [ -f "$spec" ] || { awk '/^quantization:/ {skip = 1; next} skip && /^[ \t]/ {next} {skip = 0} !/^\.\.\.$/' "$sweep/points/$p.yaml"; echo "quantization: $quant"; } > "$spec"
    mkdir -p "$run/ptq"
    echo "$run $plan $spec" >> "$list"
  done < "$plans"
done
echo "lab2-ptq: $(wc -l < "$list") artifacts from $(ls -d "$sweep"/p[0-9]*/s* 2>/dev/null | wc -l) runs of $sweep, $jobs at a time"
one() { # one RUN PLAN SPEC: write the artifact of RUN's final weights under SPEC's plan, score it, keep the JSON records
  local run=$1 plan=$2 spec=$3 o="$1/ptq/$2"
  [ -f "$o.eval.json" ] && return 0
  $slmgen artifact "$spec" --checkpoint "$run/last.ckpt" --data "$data" --out "$o.slmq" --result "$o.artifact.json" > "$o.log" 2>&1 \
    && $slmgen eval "$spec" --checkpoint "$run/last.ckpt" --artifact "$o.slmq" --data "$data" --split test --result "$o.eval.json" >> "$o.log" 2>&1
  local rc=$?; rm -f "$o.slmq"; [ $rc = 0 ] || echo "lab2-ptq: $run $plan failed ($o.log)"
}
export -f one; export slmgen data
xargs -P "$jobs" -L 1 bash -c 'one "$@"' _ < "$list"
python3 "$(dirname "$0")/lab2_ptq.py" "$sweep" "$plans"
