#!/usr/bin/env bash
# One GPU-machine call (after scripts/pack-device.sh; carry .device) for the checks no earlier call ran: the
# FlopCounterMode twins of the cost reports under .device/flops/ (written by CostTruthTests with
# SLMGEN_TWIN_EXPORT=.device/flops), the transformers check of the Hugging Face tokenizer files, the peak-memory
# prediction, Muon + AdamW groups + warmdown + z-loss against a PyTorch reference (scripts/gpu/recipe_step.py), and the full twin check (every model of the samples and specs/). Fastest first: each writes its own
# file under $OUT, so a call cut short keeps what finished.
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
rm -rf /tmp/slmgen-recipe && bash .device/run.sh Twins recipe --out /tmp/slmgen-recipe --device cuda > "$out/recipe.log" 2>&1 \
  && python3 scripts/gpu/recipe_step.py /tmp/slmgen-recipe --device cuda --out "$out/recipe-step.jsonl" | tail -1
echo "recipe step: $((SECONDS - s)) s"
s=$SECONDS
bash scripts/gpu/peak-memory.sh 2>&1 | tail -8
echo "peak memory: $((SECONDS - s)) s"
s=$SECONDS
SKIP_ROUNDTRIP=1 bash scripts/gpu/twins.sh
echo "twins: $((SECONDS - s)) s"
