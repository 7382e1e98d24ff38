#!/usr/bin/env bash
# Issue 27's demonstration (after scripts/pack-device.sh; carry .device): specs/compact/modern-17m.yaml (17,059,912
# parameters) trained on WikiText-2 (its 1,024-token BPE) twice with the same data, batch and steps — Muon + warmdown
# + EMA, and AdamW + cosine — each scored on the whole test split with sliding windows (bits per byte). One setting per
# recipe, not tuned per design (that is the second lab's job). Results: $OUT/demo-{muon,adamw}.json and the logs.
set -uo pipefail
out="${OUT:-/tmp/slmgen-out}"; mkdir -p "$out"
steps="${STEPS:-2000}"
common=(--data wikitext2 --steps "$steps" --batch 32 --eval-every 500 --eval-batches 20 --test --eval-stride 128 --seed 1337 --lr 3e-3 --min-lr 3e-4 --warmup 100 --checkpoint-every off)
echo "commit $(xz -dc .device/app.tar.xz | tar -xOf - ./COMMIT 2>/dev/null); $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1); $steps steps"
muon() {
  bash .device/run.sh slmgen train specs/compact/modern-17m.yaml "${common[@]}" --optimizer muon --muon-lr 0.02 --schedule warmdown --warmdown-fraction 0.3 --ema-decay 0.995 \
    --run-dir /tmp/demo/muon --result "$out/demo-muon.json" > "$out/demo-muon.log" 2>&1
}
adamw() {
  bash .device/run.sh slmgen train specs/compact/modern-17m.yaml "${common[@]}" --optimizer adamw --schedule cosine \
    --run-dir /tmp/demo/adamw --result "$out/demo-adamw.json" > "$out/demo-adamw.log" 2>&1
}
s=$SECONDS
if [ "${PARALLEL:-0}" = 1 ]; then
  # Both runs at once on the one GPU (their losses do not depend on it; their step times are then not comparable).
  bash .device/run.sh slmgen --version > /dev/null  # unpack once before the two start
  muon & m=$!; adamw & a=$!
  wait $m; echo "muon exit $?"; wait $a; echo "adamw exit $? (both in $((SECONDS - s)) s)"
else
  muon; echo "muon exit $? in $((SECONDS - s)) s"; s=$SECONDS
  adamw; echo "adamw exit $? in $((SECONDS - s)) s"
fi
for r in muon adamw; do echo "== $r"; grep -E "optimizer|test NLL|validation NLL|steps in" "$out/demo-$r.log"; done
