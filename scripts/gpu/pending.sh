#!/usr/bin/env bash
# One GPU-machine call (after scripts/pack-device.sh; carry .device) for the checks no earlier call ran: the
# FlopCounterMode twins of the cost reports under .device/flops/ (written by CostTruthTests with
# SLMGEN_TWIN_EXPORT=.device/flops), the transformers check of the Hugging Face tokenizer files, the peak-memory
# prediction, Muon + AdamW groups + warmdown + z-loss against a PyTorch reference (scripts/gpu/recipe_step.py), and the full twin check (every model of the samples and specs/). Fastest first: each writes its own
# file under $OUT, so a call cut short keeps what finished. The peak-memory designs are prepared here
# (scripts/gpu/prepare-peak-memory.sh .device/peak 32 SPEC...; .device/peak-large at batch 2); the twins are the
# models listed in results/twins/pending.md.
set -uo pipefail
out="${OUT:-/tmp/slmgen-out}"; mkdir -p "$out"
commit="$(xz -dc .device/app.tar.xz | tar -xOf - ./COMMIT 2>/dev/null || echo unknown)"
echo "commit $commit; $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
s=$SECONDS
if ls .device/flops/*.json > /dev/null 2>&1; then
  python3 scripts/gpu/flops_twins.py .device/flops/*.json --device cuda --out "$out/flops-twins.jsonl" | tail -3
  echo "flops twins: $((SECONDS - s)) s"
fi
s=$SECONDS
rm -rf /tmp/slmgen-hftok && bash .device/run.sh Twins hf-tokenizers --out /tmp/slmgen-hftok > "$out/hf-tokenizers.log" 2>&1 \
  && python3 scripts/gpu/hf_tokenizer_files.py /tmp/slmgen-hftok --out "$out/hf-tokenizer-files.jsonl" | tail -2
echo "hf tokenizers: $((SECONDS - s)) s"
s=$SECONDS
# Hugging Face generation from exported folders (prepared on the CPU machine: scripts/gpu/prepare-hf-generate.sh).
[ -d .device/hfgen ] && python3 scripts/gpu/hf_generate.py .device/hfgen --out "$out/hf-generate.jsonl" | tail -3
echo "hf generate: $((SECONDS - s)) s"
s=$SECONDS
rm -rf /tmp/slmgen-recipe && bash .device/run.sh Twins recipe --out /tmp/slmgen-recipe --device cuda > "$out/recipe.log" 2>&1 \
  && python3 scripts/gpu/recipe_step.py /tmp/slmgen-recipe --device cuda --out "$out/recipe-step.jsonl" | tail -1
echo "recipe step: $((SECONDS - s)) s"
s=$SECONDS
PREPARED=.device/peak bash scripts/gpu/peak-memory.sh 2>&1 | tail -1
[ -d .device/peak-large ] && PREPARED=.device/peak-large BATCH=2 NAME=peak-memory-large bash scripts/gpu/peak-memory.sh 2>&1 | tail -1
echo "peak memory: $((SECONDS - s)) s"
s=$SECONDS
MODELS="$(sed -n 's/^- `\(SlmGen\.Samples\.[A-Za-z0-9.]*\)`.*/\1/p' results/twins/pending.md | paste -sd,)" SKIP_ROUNDTRIP=1 bash scripts/gpu/twins.sh
echo "twins: $((SECONDS - s)) s"
# The run tool returns only a few files of $OUT: everything above goes back as one archive.
tar -C "$out" -czf /tmp/pending.tgz . && find "$out" -mindepth 1 -delete && mv /tmp/pending.tgz "$out/pending.tgz"
echo "results: $out/pending.tgz"
