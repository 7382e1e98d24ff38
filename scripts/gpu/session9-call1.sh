#!/usr/bin/env bash
# Session 9's first GPU call (after scripts/pack-device.sh and the CostTruthTests export of random-8200.json into
# .device/flops; carry .device), everything bundled into $OUT/call1.tgz:
#  1. the time model v6's blind check (issue 24): WHAT=time N=24 SEED=2029, eager, graphed and decoding;
#  2. FlopCounterMode twins of CostTruthTests seed 8200 with the fixed script (training = loss(idx, targets).backward());
#  3. the PyTorch twins of the two models still pending (LeverGroupedHeadConditioned, LeverQatStretched);
#  4. issue 29's first look: PyTorch's eager (bf16 autocast) and compiled baby-GPT steps under torch.profiler, the GPU
#     time per kernel class; SlmGen's own step under nsys when the machine has it (PROFILE=0: not this part).
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"; w=/tmp/call1; rm -rf "$w"; mkdir -p "$w"
export PYTHONUNBUFFERED=1 SLMGEN_DATA="$PWD/data"
echo "commit $(xz -dc .device/app.tar.xz | tar -xOf - ./COMMIT); $(nvidia-smi --query-gpu=name --format=csv,noheader)" | tee "$w/device.txt"
# Each part gets at most what is left of LIMIT_S (default 570), so the bundle is always written.
limit=${LIMIT_S:-570}; left() { local l=$((limit - SECONDS - 15)); [ "$l" -gt "$1" ] && l=$1; [ "$l" -lt 1 ] && l=1; echo "$l"; }
s=$SECONDS
OUT="$w/time" WHAT=time N=24 SEED=2029 TIME_STEPS=5 PER_PROCESS=10 TIME_LIMIT="$(left "${TIME_LIMIT:-360}")" bash scripts/gpu/artifact-time.sh > "$w/time.txt" 2>&1
tail -14 "$w/time.txt"; echo "time part: $((SECONDS - s)) s"; s=$SECONDS
timeout "$(left 90)" python3 scripts/gpu/flops_twins.py .device/flops/random-8200.json --out "$w/flops-8200.jsonl" > "$w/flops.txt" 2>&1
tail -3 "$w/flops.txt"; echo "flops part: $((SECONDS - s)) s"; s=$SECONDS
OUT="$w/twins" MODELS=SlmGen.Samples.LeverGroupedHeadConditioned,SlmGen.Samples.LeverQatStretched SKIP_ROUNDTRIP=1 timeout "$(left 100)" bash scripts/gpu/twins.sh > "$w/twins.txt" 2>&1
tail -4 "$w/twins.txt"; echo "twins part: $((SECONDS - s)) s"; s=$SECONDS
if [ "${PROFILE:-1}" = 1 ]; then
timeout "$(left 30)" bash .device/run.sh Twins export --models SlmGen.Samples.Bench.BenchGpt --out "$w/bench-twin" --device cpu > /dev/null 2>&1
timeout "$(left 120)" python3 scripts/gpu/torch_step.py "$w/bench-twin/SlmGen.Samples.Bench.BenchGpt" bf16-ac,compile --runs 2 --profile "$w/profile-torch.jsonl" > "$w/torch-step.txt" 2>&1
cut -c1-240 "$w/torch-step.txt" | tail -3
if command -v nsys > /dev/null; then
  timeout "$(left 60)" nsys profile -o "$w/slmgen-bench" --stats=true bash .device/run.sh Bench --device cuda --modes bf16 --runs 1 > "$w/nsys.txt" 2>&1
  rm -f "$w"/*.nsys-rep "$w"/*.sqlite
else echo "no nsys" | tee "$w/nsys.txt"; fi
echo "profile part: $((SECONDS - s)) s"
fi
rm -rf "$w/bench-twin"
tar -C "$w" -czf "$OUT/call1.tgz" .
