#!/usr/bin/env bash
# Issue 25's measurement: precision plan × quantiser × quantisation-aware training (none / from the start / late) →
# the artifact's bytes (stated by the build, written, compressed) and bits per character and byte on the test split
# before and after the round trip. Per seed: one full-precision run, shipped under every after-training plan
# (absmax, MSE-searched clipping, GPTQ) with `slmgen artifact` and scored with `slmgen eval --artifact`; one QAT run
# from the start and one from LATE of the steps per QAT plan (`--artifact` scores the round trip itself); the QAT runs
# first (a call cut short keeps them).
# GRIDS="symmetric stretched" adds the stretched grid (ParetoQ's SEQ levels; records q<bits>s-…) beside the symmetric one.
# Every command writes a JSON record under $OUT; scripts/artifact_table.py turns them into the table.
#   CPU:  SLMGEN="src/SlmGen.Cli/bin/Release/net10.0/slmgen" bash scripts/artifact-lab.sh
#   GPU:  SLMGEN="bash .device/run.sh slmgen" BASE=specs/compact/modern-17m.yaml DATA=wikitext2 STEPS=2000 bash scripts/artifact-lab.sh
set -euo pipefail
slmgen=${SLMGEN:-slmgen}
base=${BASE:-results/lab/templates/base.yaml}
data=${DATA:-shakespeare-study}
steps=${STEPS:-400}
batch=${BATCH:-32}
lr=${LR:-2e-3}
seeds=${SEEDS:-"1 2"}
ptq_bits=${PTQ_BITS-"8 6 4 3 2"}
qat_bits=${QAT_BITS-"4 3 2"}
methods=${METHODS:-"absmax mse gptq"}
group=${GROUP:-0}
late=${LATE-0.75} # LATE="" runs no late QAT
compression=${COMPRESSION:-zstd}
grids=${GRIDS:-symmetric}
extra=${EXTRA:-}
out=${OUT:-runs/artifact-lab}
mkdir -p "$out/specs"
name=$(sed -n 's/^name: *//p' "$base" | head -1)

spec() { # spec NAME QUANTIZATION: the base design under another name and precision plan (same architecture, same fingerprint)
  local file="$out/specs/$1.yaml"
  grep -v '^quantization:' "$base" | sed "s/^name: .*/name: $1/" > "$file"
  # a tokenizer folder named relative to the base spec stays the same folder from the copy's place
  local tok; tok=$(sed -n 's/^tokenizer: *//p' "$base" | head -1)
  if [ -n "$tok" ] && [ "${tok#/}" = "$tok" ] && [ -d "$(dirname "$base")/$tok" ]; then
    sed -i "s#^tokenizer: .*#tokenizer: $(cd "$(dirname "$base")/$tok" && pwd)#" "$file"
  fi
  echo "quantization: $2" >> "$file"
  echo "$file"
}

train=(--data "$data" --steps "$steps" --batch "$batch" --lr "$lr" --eval-every $((steps / 4)) --eval-batches 10 --test --artifact --checkpoint-every off $extra)
fp32=$(spec "${name}Fp32" "{ compression: $compression }")
for seed in $seeds; do
  run="$out/seed$seed"
  mkdir -p "$run"
  $slmgen train "$fp32" "${train[@]}" --seed "$seed" --run-dir "$run/fp32" --result "$run/fp32.json" > "$run/fp32.log" 2>&1
  for grid in $grids; do
    g=$([ "$grid" = stretched ] && echo s || true); G=$([ "$grid" = stretched ] && echo Seq || true)
    for bits in $qat_bits; do
      s=$(spec "${name}Q${bits}${G}Qat" "{ attention: $bits, mlp: $bits, embedding: 8, group: $group, method: qat, grid: $grid, compression: $compression }")
      $slmgen train "$s" "${train[@]}" --seed "$seed" --run-dir "$run/q$bits$g-qat" --result "$run/q$bits$g-qat.json" > "$run/q$bits$g-qat.log" 2>&1
      [ -z "$late" ] || $slmgen train "$s" "${train[@]}" --seed "$seed" --qat-start "$late" --run-dir "$run/q$bits$g-qat-late" --result "$run/q$bits$g-qat-late.json" > "$run/q$bits$g-qat-late.log" 2>&1
    done

    for bits in $ptq_bits; do
      for method in $methods; do
        M=$(echo "${method^}" | sed -E 's/-(.)/\U\1/g') # a model name: gptq-mse → GptqMse
        s=$(spec "${name}Q${bits}${G}${M}" "{ attention: $bits, mlp: $bits, embedding: 8, group: $group, method: $method, grid: $grid, compression: $compression }")
        $slmgen artifact "$s" --checkpoint "$run/fp32/best.ckpt" --best --data "$data" --out "$run/q$bits$g-$method.slmq" --result "$run/q$bits$g-$method.artifact.json" > "$run/q$bits$g-$method.log" 2>&1
        $slmgen eval "$s" --checkpoint "$run/fp32/best.ckpt" --best --artifact "$run/q$bits$g-$method.slmq" --data "$data" --split test --result "$run/q$bits$g-$method.eval.json" >> "$run/q$bits$g-$method.log" 2>&1
      done
    done
  done
done
echo "done: $out"
