#!/usr/bin/env bash
# Files what one scripts/gpu/pending.sh (+ demo-modern.sh) call returned (the run tool's files_at folder) into results/:
# FlopCounterMode records appended to results/flops-twins/cuda-h200.jsonl (models not recorded before), twin records of
# the pending models appended to results/twins/cuda-h200.jsonl (model records only), and the new files as they are.
# Usage: scripts/gpu/ingest-pending.sh DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="$1"
if [ -f "$dir/pending.tgz" ]; then
  unpacked="$(mktemp -d)"; tar -xzf "$dir/pending.tgz" -C "$unpacked"; cp -n "$dir"/*.json* "$dir"/*.log "$dir"/*.txt "$unpacked"/ 2>/dev/null || true; dir="$unpacked"
fi
append_new() { # FILE_FROM FILE_TO: model records of FROM whose model TO lacks
  python3 - "$1" "$2" <<'PY'
import json, sys
src, dst = sys.argv[1], sys.argv[2]
have = {json.loads(l).get("model") for l in open(dst) if l.strip()}
added = 0
with open(dst, "a") as out:
    for line in open(src):
        r = json.loads(line)
        if "model" in r and "params" in r and r["model"] not in have:
            out.write(json.dumps(r) + "\n"); added += 1
print(f"{src}: {added} records added to {dst}")
PY
}
[ -f "$dir/flops-twins.jsonl" ] && append_new "$dir/flops-twins.jsonl" results/flops-twins/cuda-h200.jsonl
[ -f "$dir/twins.jsonl" ] && append_new "$dir/twins.jsonl" results/twins/cuda-h200.jsonl
mkdir -p results/memory results/recipe results/compact
for f in peak-memory.jsonl peak-memory-large.jsonl; do [ -f "$dir/$f" ] && cp "$dir/$f" results/memory/; done
[ -f "$dir/recipe-step.jsonl" ] && cp "$dir/recipe-step.jsonl" results/recipe/
[ -f "$dir/hf-tokenizer-files.jsonl" ] && cp "$dir/hf-tokenizer-files.jsonl" results/tokenizers/hf-files-h200.jsonl
for f in demo-muon.json demo-adamw.json demo-muon.log demo-adamw.log demo.txt; do [ -f "$dir/$f" ] && cp "$dir/$f" results/compact/; done
for f in pending.txt twins-logs.tgz hf-tokenizers.log recipe.log; do [ -f "$dir/$f" ] && mkdir -p results/gpu-raw/pending && cp "$dir/$f" results/gpu-raw/pending/; done
echo done
