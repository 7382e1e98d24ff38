#!/usr/bin/env bash
# The torchrun round trip of docs/torchrun.md, end to end: export nanoGPT's baby GPT (SlmGen.Samples.BabyGpt,
# specs/nanogpt/baby-gpt.yaml) and Tiny Shakespeare's tokens from SlmGen, train the PyTorch twin with DDP on
# one GPU and on two, import each result back into SlmGen and evaluate it there (the Twins sample; on a
# machine with the .NET SDK, `dotnet run --project samples/Twins -c Release --` instead of .device/run.sh).
# Usage: roundtrip.sh WORK_DIR OUT_DIR [STEPS]
set -uo pipefail
work="$1"; out="$2"; steps="${3:-1000}"
run() { if [ -x .device/run.sh ]; then bash .device/run.sh Twins "$@"; else dotnet run --project samples/Twins -c Release -- "$@"; fi; }
model=SlmGen.Samples.BabyGpt
mkdir -p "$work" "$out"
run export --models "$model" --out "$work/export" --device cuda > "$out/roundtrip-export.log" 2>&1
run data --data shakespeare-char --out "$work/data" >> "$out/roundtrip-export.log" 2>&1
for n in 1 2; do
  torchrun --standalone --nproc_per_node=$n scripts/torchrun/train_ddp.py --twin "$work/export/$model" --data "$work/data/tokens.safetensors" \
    --steps "$steps" --batch 64 --out "$work/ddp$n" > "$out/roundtrip-ddp$n.log" 2>&1 || { echo "torchrun $n failed"; tail -30 "$out/roundtrip-ddp$n.log"; continue; }
  cp "$work/ddp$n/result.json" "$out/roundtrip-ddp$n-pytorch.json"
  run eval --model "$model" --weights "$work/ddp$n/model.safetensors" --data shakespeare-char --device cuda --out "$out/roundtrip-ddp$n-slmgen.json" > "$out/roundtrip-eval$n.log" 2>&1 || tail -20 "$out/roundtrip-eval$n.log"
  echo "ddp$n pytorch: $(cat "$out/roundtrip-ddp$n-pytorch.json")"
  echo "ddp$n slmgen:  $(cat "$out/roundtrip-ddp$n-slmgen.json" 2>/dev/null)"
done
