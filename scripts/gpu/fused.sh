#!/usr/bin/env bash
# Issue 29 in one GPU-machine call (after scripts/pack-device.sh; carry .device): builds libslmgen_native with the
# fused kernels (nvcc), checks every kernel against the unfused layers (Bench --check-fused), then times in one call,
# interleaved, as ratios: baby GPT (Bench's BenchGpt, batch 64 × 256) and GPT-2 small's shape (specs/large/gpt2-124m.yaml,
# batch 16 × 1,024), and a modern design (specs/compact/modern-17m.yaml: RMSNorm, squared ReLU) — SlmGen eager and graphed with the fused kernels off and on, PyTorch eager (bf16 autocast),
# torch.compile and compile + CUDA graphs on the models' PyTorch twins; then 500 training steps of baby GPT (dropout
# 0.2) graphed, fused off and on, for the loss curves. Everything bundled into $OUT/fused.tgz.
#   run: carry [".device"], command: LIMIT_S=560 bash scripts/gpu/fused.sh   (GPT2=0: baby GPT only, for a short call;
#   ROUNDS=1: the timings once, not twice; PROFILE=0: no profiles; TRAIN=0: no 500-step loss curves)
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"; w=/tmp/fused; rm -rf "$w"; mkdir -p "$w"
export PYTHONUNBUFFERED=1 SLMGEN_DATA="$PWD/data"
limit=${LIMIT_S:-560}; left() { local l=$((limit - SECONDS - 15)); [ "$l" -gt "$1" ] && l=$1; [ "$l" -lt 1 ] && l=1; echo "$l"; }
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  echo "commit $(xz -dc .device/app.tar.xz | tar -xOf - ./COMMIT)"; date -u; } > "$w/device.txt" 2>&1; cat "$w/device.txt"
OUT_DIR=/tmp/slmgen-native bash src/SlmGen.Native/build.sh > "$w/build.txt" 2>&1; tail -3 "$w/build.txt"; cp /tmp/slmgen-native/*.log "$w/" 2>/dev/null
grep -h "^SLMGEN:\| error" "$w"/fused-build.log 2>/dev/null | head -20
export SLMGEN_NATIVE=/tmp/slmgen-native/libslmgen_native.so
timeout "$(left 90)" bash .device/run.sh Bench --device cuda --check-fused --json "$w/check.jsonl" > "$w/check.txt" 2>&1; rc=$?; echo "check exit $rc"; tail -12 "$w/check.txt"
# Nothing to time when the kernels did not build or are wrong (FORCE=1 times anyway).
if [ "$rc" != 0 ] && [ "${FORCE:-0}" != 1 ]; then tail -40 "$w"/fused-build.log 2>/dev/null; tar -C "$w" -czf "$OUT/fused.tgz" .; exit 1; fi
# Where baby GPT's step goes (PROFILE=0: not this part): SlmGen's own steps under libtorch's profiler (Bench
# --profile: every kernel, graph replays included), fused off and on; PyTorch's eager and compiled steps are profiled
# in round 1 below (torch_step.py --profile); scripts/gpu/trace_summary.py puts them side by side.
if [ "${PROFILE:-1}" = 1 ]; then
  for fused in 0 1; do
    SLMGEN_FUSED=$fused timeout "$(left 60)" bash .device/run.sh Bench --device cuda --modes bf16,bf16-graph --runs 2 --iters 20 --profile "$w/slm-baby-f$fused" >> "$w/profile.txt" 2>&1
  done
  tail -4 "$w/profile.txt"
fi
# The twins PyTorch times (fresh weights: only the step's time matters).
timeout "$(left 30)" bash .device/run.sh Twins export --models SlmGen.Samples.Bench.BenchGpt --out "$w/twin" --device cpu > /dev/null 2>&1
[ "${GPT2:-1}" = 1 ] && timeout "$(left 60)" bash .device/run.sh slmgen export specs/large/gpt2-124m.yaml --out "$w/twin/gpt2" --no-hf > "$w/export.txt" 2>&1
for round in $(seq 1 "${ROUNDS:-2}"); do
  for fused in 0 1; do
    SLMGEN_FUSED=$fused timeout "$(left 60)" bash .device/run.sh Bench --device cuda --modes bf16,bf16-graph --runs 5 --json "$w/bench-f$fused-r$round.json" >> "$w/bench.txt" 2>&1
    for g in "" --graphed; do
      [ "${GPT2:-1}" = 1 ] && SLMGEN_FUSED=$fused timeout "$(left 90)" bash .device/run.sh slmgen time specs/large/gpt2-124m.yaml --device cuda --batch 16 --steps 10 $g --json "$w/gpt2-time.jsonl" >> "$w/gpt2-time.txt" 2>&1
      [ "$round" = "${ROUNDS:-2}" ] && SLMGEN_FUSED=$fused timeout "$(left 60)" bash .device/run.sh slmgen time specs/compact/modern-17m.yaml --device cuda --batch 32 --steps 10 $g --json "$w/modern-time.jsonl" >> "$w/modern-time.txt" 2>&1
    done
  done
  [ "$round" = 1 ] && timeout "$(left 100)" python3 scripts/gpu/torch_step.py "$w/twin/SlmGen.Samples.Bench.BenchGpt" bf16-ac,compile,graphs --runs 3 --profile "$w/torch-baby-profile.jsonl" >> "$w/torch-baby.txt" 2>&1
  [ "$round" = 1 ] && [ "${GPT2:-1}" = 1 ] && timeout "$(left 150)" python3 scripts/gpu/torch_step.py "$w/twin/gpt2" bf16-ac,compile,graphs --batch 16 --iters 10 --runs 3 >> "$w/torch-gpt2.txt" 2>&1
  # The loss curves after the first round (the second round only repeats the timings, if time is left).
  if [ "$round" = 1 ] && [ "${TRAIN:-1}" = 1 ]; then
  for fused in 0 1; do
    SLMGEN_FUSED=$fused timeout "$(left 120)" bash .device/run.sh slmgen train specs/nanogpt/baby-gpt.yaml --data shakespeare-char --steps 500 --batch 64 --eval-every 500 --seed 1 --device cuda \
      --run-dir "/tmp/fused-train-$fused" --result "$w/train-f$fused.json" --cuda-graphs > "$w/train-f$fused.txt" 2>&1
    cp "/tmp/fused-train-$fused/metrics.jsonl" "$w/train-f$fused.metrics.jsonl" 2>/dev/null; grep -E "fused kernels|CUDA graph|validation NLL|steps in" "$w/train-f$fused.txt"
  done
  fi
done
grep -hE "^bf16|fused kernels" "$w/bench.txt" | sort | uniq -c | head; cut -c1-200 "$w"/torch-*.txt | grep '^{' ; grep -h "ms" "$w/gpt2-time.txt" | head -8
if ls "$w"/slm-baby-f*.json > /dev/null 2>&1; then
  python3 scripts/gpu/trace_summary.py "$w"/slm-baby-f*.json --torch "$w/torch-baby-profile.jsonl" --out "$w/profile-summary.jsonl" > "$w/profile-summary.txt" 2>&1
  head -16 "$w/profile-summary.txt"; xz -T0 "$w"/slm-baby-f*.json
fi
rm -rf "$w/twin"; tar -C "$w" -czf "$OUT/fused.tgz" .
