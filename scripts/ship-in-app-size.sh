#!/usr/bin/env bash
# The published size of samples/ShipInApp (SlmGen.Inference: ONNX Runtime + tokenizer, no TorchSharp), linux-x64:
# framework-dependent, and self-contained + trimmed. Prints bytes; docs/interop.md states them.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/slmgen-ship-size}
rm -rf "$OUT"
dotnet publish samples/ShipInApp -c Release -r linux-x64 --self-contained false -o "$OUT/framework-dependent" -nologo -v:q
dotnet publish samples/ShipInApp -c Release -r linux-x64 --self-contained true -p:PublishTrimmed=true -o "$OUT/self-contained-trimmed" -nologo -v:q
for d in framework-dependent self-contained-trimmed; do
  printf '%-24s %'"'"'14d bytes  (%s files; largest: %s)\n' "$d" "$(du -sb "$OUT/$d" | cut -f1)" "$(ls "$OUT/$d" | wc -l)" "$(ls -S "$OUT/$d" | head -1)"
done
