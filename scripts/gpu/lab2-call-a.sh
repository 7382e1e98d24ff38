#!/usr/bin/env bash
# The second lab's call A (results/lab2/PROTOCOL.md §9), on the GPU machine after scripts/pack-device.sh (carry .device):
# the device profile (`slmgen calibrate`), then every design of the lab timed alone — each tuning sweep's designs once
# (a sweep's learning rates share one spec), eager, bf16, batch 32, `--device-profile` so the time model's prediction
# sits beside each measurement — and Q2a's grid (width × vocabulary) eager and as one CUDA graph, with the head's share.
# The designs are the sweeps' dry-run points (compiled here, so the specs are exactly what calls B–G train). Fastest
# part first; each writes its own JSON lines under $OUT, so a call cut short keeps what finished. Results go back as one
# archive, $OUT/lab2-call-a.tgz. PARTS picks parts (default: q1-b1-tune q2b-tune q3-b1-tune q4-tune q2-grid; also
# q2-grid-1024, the grid at 8 windows of 1,024 tokens); an H200
# call of 10 minutes may not hold them all — the rest go in a second call with PARTS set to them.
#   GPU:  bash scripts/gpu/lab2-call-a.sh
#   CPU dry check of the plumbing:  SLMGEN=src/SlmGen.Cli/bin/Release/net10.0/slmgen DEVICE=cpu STEPS=1 LIMIT_DESIGNS=2 bash scripts/gpu/lab2-call-a.sh
set -uo pipefail
slmgen=${SLMGEN:-bash .device/run.sh slmgen}
device=${DEVICE:-cuda}
steps=${STEPS:-30}
out="${OUT:-/tmp/slmgen-out}"; mkdir -p "$out/a"
limit=${LIMIT_DESIGNS:-0}
# LIMIT_S: seconds for the whole script; the timings stop there and what finished still goes back as the archive.
deadline=$((SECONDS + ${LIMIT_S:-86400}))
left() { local l=$((deadline - SECONDS)); echo $((l > 1 ? l : 1)); }
work=$(mktemp -d)
echo "commit $(xz -dc .device/app.tar.xz 2>/dev/null | tar -xOf - ./COMMIT 2>/dev/null || git rev-parse HEAD); $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || echo cpu)"
# (kept from an earlier script of the same warm machine, e.g. scripts/gpu/artifact-time.sh, which builds it to the same place)
if [ "$device" = cuda ]; then
  [ -f /tmp/slmgen-native/libslmgen_native.so ] || OUT_DIR=/tmp/slmgen-native bash src/SlmGen.Native/build.sh > "$out/a/native-build.log" 2>&1
  [ -f /tmp/slmgen-native/libslmgen_native.so ] && export SLMGEN_NATIVE=/tmp/slmgen-native/libslmgen_native.so
fi

s=$SECONDS
# PROFILE: a profile this machine measured earlier in the same warm session (its calibrate.log beside it) instead of
# calibrating again.
if [ -n "${PROFILE:-}" ] && [ -s "$PROFILE" ]; then
  cp "$PROFILE" "$out/a/profile.json"; [ -f "$(dirname "$PROFILE")/calibrate.log" ] && cp "$(dirname "$PROFILE")/calibrate.log" "$out/a/calibrate.log"
  echo "profile: $PROFILE (measured earlier on this machine)"
else
  timeout "$(left)" $slmgen calibrate --device "$device" --out "$out/a/profile.json" > "$out/a/calibrate.log" 2>&1 || { echo "calibrate failed (see calibrate.log)"; }
fi
echo "calibrate: $((SECONDS - s)) s"

# One spec per design: each sweep's dry run, its points deduplicated by the compiled model's fingerprint.
unique_specs() { # unique_specs SWEEP_YAML TAG → prints spec paths (copied under $work/TAG)
  local sweep=$1 tag=$2 dir
  dir="$work/$tag"; mkdir -p "$dir"
  $slmgen sweep "$sweep" --dry-run --out "$dir/run" > "$dir/dry-run.log" 2>&1 || { echo "dry run of $sweep failed" >&2; return; }
  python3 - "$dir/run/results.jsonl" "$dir/run" "$limit" <<'PY'
import json, os, sys
records, root, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen, specs = set(), []
for line in open(records):
    r = json.loads(line)
    if r["costs"]["fingerprint"] in seen:
        continue
    seen.add(r["costs"]["fingerprint"])
    specs.append(os.path.join(root, r["spec"]))
print("\n".join(specs[: limit or None]))
PY
}

time_specs() { # time_specs RECORDS [slmgen time options…] < spec list: one process for all (the CUDA start paid once),
  # then any spec without a record alone (a design that runs out of memory must not take the others with it)
  local records=$1; shift
  local specs; mapfile -t specs
  [ "${#specs[@]}" -gt 0 ] || return 0
  timeout "$(left)" $slmgen time "${specs[@]}" "$@" --device "$device" --batch "${TIME_BATCH:-32}" --steps "$steps" --device-profile "$out/a/profile.json" --json "$records" >> "$out/a/time.log" 2>&1 && return 0
  local done_specs
  done_specs=$(python3 -c 'import json,sys; print("\n".join(json.loads(l)["spec"] for l in open(sys.argv[1])))' "$records" 2>/dev/null || true)
  for spec in "${specs[@]}"; do
    grep -qxF "$spec" <<< "$done_specs" && continue
    [ "$(left)" -gt 5 ] || { echo "out of time: $spec $*" >> "$out/a/time.log"; continue; }
    timeout "$(left)" $slmgen time "$spec" "$@" --device "$device" --batch "${TIME_BATCH:-32}" --steps "$steps" --device-profile "$out/a/profile.json" --json "$records" >> "$out/a/time.log" 2>&1 \
      || echo "failed: $spec $*" >> "$out/a/time.log"
  done
}

parts=" ${PARTS:-q1-b1-tune q2b-tune q3-b1-tune q4-tune q2-grid} "
for e in q1-b1-tune q2b-tune q3-b1-tune q4-tune; do
  [[ "$parts" == *" $e "* ]] || continue
  s=$SECONDS
  unique_specs "results/lab2/experiments/$e.yaml" "$e" | time_specs "$out/a/time-$e.jsonl"
  echo "$e: $((SECONDS - s)) s, $(wc -l < "$out/a/time-$e.jsonl" 2>/dev/null || echo 0) designs"
done

if [[ "$parts" == *" q2-grid "* ]]; then
  s=$SECONDS
  unique_specs results/lab2/templates/q2-grid.yaml q2-grid > "$work/q2-grid.list"
  time_specs "$out/a/time-q2-grid.jsonl" < "$work/q2-grid.list"
  [ "$device" = cuda ] && time_specs "$out/a/time-q2-grid-graphed.jsonl" --graphed < "$work/q2-grid.list"
  echo "q2 grid: $((SECONDS - s)) s"
fi

# Q2a at 8 windows of 1,024 tokens (the protocol's second shape; each record carries its peak allocated bytes).
if [[ "$parts" == *" q2-grid-1024 "* ]]; then
  s=$SECONDS
  unique_specs results/lab2/templates/q2-grid-1024.yaml q2-grid-1024 > "$work/q2-grid-1024.list"
  TIME_BATCH=8 time_specs "$out/a/time-q2-grid-1024.jsonl" < "$work/q2-grid-1024.list"
  [ "$device" = cuda ] && TIME_BATCH=8 time_specs "$out/a/time-q2-grid-1024-graphed.jsonl" --graphed < "$work/q2-grid-1024.list"
  echo "q2 grid at 8 × 1,024: $((SECONDS - s)) s"
fi

for f in "$out"/a/time-*.jsonl; do [ -s "$f" ] && python3 scripts/time_summary.py "$f" > "${f%.jsonl}.md"; done
rm -rf "$work"
tar -C "$out" -czf /tmp/lab2-call-a.tgz a && rm -rf "$out/a" && mv /tmp/lab2-call-a.tgz "$out/lab2-call-a.tgz"
echo "results: $out/lab2-call-a.tgz"
