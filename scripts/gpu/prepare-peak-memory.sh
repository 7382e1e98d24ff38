#!/usr/bin/env bash
# Writes what scripts/gpu/peak-memory.sh needs with PREPARED=DIR, on this machine: the predictions
# (slmgen costs --json --batch B) and each design's twin (config.json + model.py; no weights).
# Usage: scripts/gpu/prepare-peak-memory.sh DIR BATCH SPEC...
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="$1"; batch="$2"; shift 2
slmgen="src/SlmGen.Cli/bin/Release/net10.0/slmgen"
[ -x "$slmgen" ] || dotnet build src/SlmGen.Cli -c Release -nologo -v:q
rm -rf "$dir" && mkdir -p "$dir"
"$slmgen" costs "$@" --json --batch "$batch" > "$dir/predictions.json"
for spec in "$@"; do
  d="$dir/$(basename "$spec" .yaml)"
  "$slmgen" export "$spec" --out "$d" --no-hf > /dev/null
  rm -f "$d/model.safetensors"
done
