#!/usr/bin/env bash
# How steady is a host-bound measurement? The same designs' decoding (batch 1, the KV cache, `slmgen time --decode`)
# timed in ROUNDS separate processes, the order reversed every other round, then once per .NET setting in VARIANTS
# (e.g. DOTNET_TieredCompilation=0). Each process writes its own JSON lines; decode_repeat.py sets each design's
# per-token time per round beside its median over the rounds. Host facts (CPU model, load, busiest processes) before
# and after. Issue 24: a decoded token is ≥ 80 % host time, so its prediction can be no closer than the host is steady.
#   GPU:  PROFILE=…/profile.json OUT=$OUT/d bash scripts/gpu/decode-repeat.sh SPEC…
#   CPU:  SLMGEN=src/SlmGen.Cli/bin/Release/net10.0/slmgen DEVICE=cpu ROUNDS=2 OUT=/tmp/d bash scripts/gpu/decode-repeat.sh SPEC…
set -uo pipefail
slmgen=${SLMGEN:-bash .device/run.sh slmgen}
device=${DEVICE:-cuda}
rounds=${ROUNDS:-3}
out=${OUT:-/tmp/slmgen-out/decode-repeat}
mkdir -p "$out"
[ $# -gt 0 ] || { echo "usage: $0 SPEC…" >&2; exit 2; }
specs=("$@")
reversed=(); for ((i = ${#specs[@]} - 1; i >= 0; i--)); do reversed+=("${specs[$i]}"); done
profile=()
[ -n "${PROFILE:-}" ] && [ -s "$PROFILE" ] && profile=(--device-profile "$PROFILE")
host() { { echo "== $1 $(date -u +%H:%M:%S)"; grep -m1 "model name" /proc/cpuinfo; echo "cpus $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)";
  ps -eo pcpu,comm --sort=-pcpu | head -4; } >> "$out/host.txt"; }
host before
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2 == 1)); then order=("${specs[@]}"); else order=("${reversed[@]}"); fi
  $slmgen time "${order[@]}" --decode --device "$device" "${profile[@]}" --json "$out/decode-r$r.jsonl" >> "$out/decode.log" 2>&1 || echo "round $r failed" >> "$out/decode.log"
done
for v in ${VARIANTS:-}; do
  env "$v" $slmgen time "${specs[@]}" --decode --device "$device" "${profile[@]}" --json "$out/decode-${v//=/-}.jsonl" >> "$out/decode.log" 2>&1 || echo "$v failed" >> "$out/decode.log"
done
host after
python3 "$(dirname "$0")/decode_repeat.py" "$out" > "$out/summary.txt" && cat "$out/summary.txt"
