#!/usr/bin/env bash
# Issue 16 on the GPU machine (after scripts/pack-device.sh; carry .device): builds libslmgen_native against this
# machine's PyTorch, then in one call (a) PyTorch's step of the same baby GPT (its exported twin: eager pure bf16,
# torch.compile + fused AdamW, torch.compile + CUDA graphs) and SlmGen's (bf16 eager, + fused AdamW, whole step as
# a CUDA graph), interleaved in two rounds; (b) 500 training steps of baby GPT and of the study's transformer,
# eager and graphed from the same seed, through `slmgen train` — loss curves, validation NLL and tokens/s.
#   run: carry [".device"], command: bash scripts/gpu/graphs.sh
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 SLMGEN_DATA="$PWD/data"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  nproc; date -u; echo "commit $(xz -dc .device/app.tar.xz | tar -xOf - ./COMMIT)"
} 2>&1 | tee "$OUT/device.txt"
OUT_DIR=/tmp/slmgen-native bash src/SlmGen.Native/build.sh > "$OUT/build.txt" 2>&1; tail -3 "$OUT/build.txt"
export SLMGEN_NATIVE=/tmp/slmgen-native/libslmgen_native.so
[ -f "$SLMGEN_NATIVE" ] || { cat "$OUT/build.txt"; exit 1; }

bash .device/run.sh Twins export --models SlmGen.Samples.Bench.BenchGpt --out /tmp/slmgen-speed --device cpu > /dev/null
twin=/tmp/slmgen-speed/SlmGen.Samples.Bench.BenchGpt
timeout 200 python3 scripts/gpu/torch_step.py "$twin" bf16-pure,compile,graphs 2>&1 | tee -a "$OUT/torch_step.txt"
timeout 150 bash .device/run.sh Bench --device cuda --modes bf16,bf16-fused,bf16-graph --runs 5 --json "$OUT/bench-1.json" 2>&1 | tee -a "$OUT/bench.txt"
# Round 2, the graph paths only (interleaved again, so both see the machine at one time).
timeout 120 python3 scripts/gpu/torch_step.py "$twin" graphs 2>&1 | tee -a "$OUT/torch_step.txt"
timeout 100 bash .device/run.sh Bench --device cuda --modes bf16,bf16-graph --runs 5 --json "$OUT/bench-2.json" 2>&1 | tee -a "$OUT/bench.txt"

for spec in specs/nanogpt/baby-gpt.yaml specs/study/char-transformer.yaml; do
  name=$(basename "$spec" .yaml)
  batch=$([ "$name" = baby-gpt ] && echo 64 || echo 32)
  for mode in eager graphs; do
    flag=$([ "$mode" = graphs ] && echo --cuda-graphs || true)
    dir=/tmp/slmgen-graphs/$name-$mode
    timeout 240 bash .device/run.sh slmgen train "$spec" --data shakespeare-char --steps 500 --batch "$batch" --eval-every 500 --seed 1 --device cuda \
      --run-dir "$dir" --result "$OUT/$name-$mode.json" $flag > "$OUT/$name-$mode.txt" 2>&1
    cp "$dir/metrics.jsonl" "$OUT/$name-$mode.metrics.jsonl" 2>/dev/null
    grep -E "CUDA graphs|validation NLL|steps in|error" "$OUT/$name-$mode.txt"
  done
done
python3 - "$OUT" <<'PY' | tee "$OUT/numerics.txt"
import json, sys, os
out = sys.argv[1]
for name in ["baby-gpt", "char-transformer"]:
    curves = {}
    for mode in ["eager", "graphs"]:
        path = os.path.join(out, f"{name}-{mode}.metrics.jsonl")
        if not os.path.exists(path):
            print(name, mode, "missing"); continue
        curves[mode] = {r["step"]: r["loss"] for r in map(json.loads, open(path)) if r.get("kind") == "train"}
    if len(curves) < 2: continue
    steps = sorted(set(curves["eager"]) & set(curves["graphs"]))
    diffs = [abs(curves["eager"][s] - curves["graphs"][s]) for s in steps]
    last = [s for s in steps if s > 400]
    res = {m: json.load(open(os.path.join(out, f"{name}-{m}.json"))) for m in ["eager", "graphs"]}
    print(json.dumps({"model": name, "logged_steps": len(steps), "max_abs_loss_diff": max(diffs), "mean_abs_loss_diff": sum(diffs) / len(diffs),
                      "mean_loss_last_100_eager": sum(curves["eager"][s] for s in last) / len(last), "mean_loss_last_100_graphs": sum(curves["graphs"][s] for s in last) / len(last),
                      "validation_nll": {m: res[m]["validation_nll"] for m in res}, "tokens_per_second": {m: res[m]["tokens_per_second"] for m in res}}))
PY
