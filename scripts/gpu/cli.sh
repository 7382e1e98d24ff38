#!/usr/bin/env bash
# The slmgen tool on the GPU machine (after scripts/pack-device.sh; carry .device): the cost table, a sweep over
# embedding width and depth of a small Tiny Shakespeare transformer with one point over its budget, trained one
# process per GPU (two on the nvidia-h100-x2 kind), then the sweep again (resumed: nothing retrains), and a
# sample from the best point with the KV cache.
set -uo pipefail
out="${OUT:-/tmp/slmgen-out}"; work=/tmp/slmgen-cli
mkdir -p "$out" && rm -rf "$work" && mkdir -p "$work"
export SLMGEN_DATA="$PWD/data"
cat > "$work/sweep.yaml" <<YAML
base: $PWD/specs/levers/gqa.yaml
grid:
  embedding: [128, 256]
  layers.0.transformer.layers: [2, 4]
budget: { max_parameters: 2.5M }
train: { data: shakespeare-char, steps: 600, batch: 32, eval_every: 200, device: cuda }
out: $work/sweep
YAML
bash .device/run.sh slmgen costs specs/levers/gqa.yaml | tee "$out/cli-costs.txt"
start=$(date +%s)
bash .device/run.sh slmgen sweep "$work/sweep.yaml" 2>&1 | tee "$out/cli-sweep.txt"
echo "sweep wall seconds: $(( $(date +%s) - start ))" | tee -a "$out/cli-sweep.txt"
start=$(date +%s)
bash .device/run.sh slmgen sweep "$work/sweep.yaml" 2>&1 | tail -3
echo "resumed sweep wall seconds: $(( $(date +%s) - start ))" | tee -a "$out/cli-sweep.txt"
cp "$work/sweep/results.jsonl" "$out/cli-sweep.jsonl"
best=$(python3 -c "import json;r=[json.loads(l) for l in open('$work/sweep/results.jsonl')];d=[x for x in r if x['status']=='done'];b=min(d,key=lambda x:x['result']['validation_nll']);print(b['point'])")
bash .device/run.sh slmgen sample "$work/sweep/points/p$(printf %03d "$best").yaml" --checkpoint "$work/sweep/p$(printf %03d "$best")/best.ckpt" --data shakespeare-char --tokens 300 --temperature 0.8 --top-k 20 --device cuda | tee "$out/cli-sample.txt"
