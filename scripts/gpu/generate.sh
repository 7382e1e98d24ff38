#!/usr/bin/env bash
# KV-cache decoding speed on the GPU machine (after scripts/pack-device.sh; carry .device): nanoGPT's baby GPT
# (SlmGen.Samples.BabyGpt), greedy, 255 tokens after token 0, fp32 — SlmGen with and without its cache, and
# transformers' generate on the same weights (the GPT-2 form of the export) with and without its cache.
set -uo pipefail
out="${OUT:-/tmp/slmgen-out}"; work=/tmp/slmgen-generate
mkdir -p "$out" && rm -rf "$work" && mkdir -p "$work"
model=SlmGen.Samples.BabyGpt
bash .device/run.sh Twins export --models "$model" --out "$work/export" --device cuda > "$work/export.log" 2>&1 || tail -20 "$work/export.log"
bash .device/run.sh Twins generate --model "$model" --weights "$work/export/$model/model.safetensors" --tokens 255 --device cuda --out "$work/slmgen.jsonl"
python3 scripts/gpu/generate_speed.py "$work/export/$model" "$work/slmgen.jsonl" --tokens 255 --out "$out/generate.jsonl"
