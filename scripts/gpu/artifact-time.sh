#!/usr/bin/env bash
# One GPU-machine call (after scripts/pack-device.sh with PACK_APPS="src/SlmGen.Cli/SlmGen.Cli.csproj"; carry .device) for
# issues 24 and 25: the H200's device profile and the time model's check on designs nobody tuned it to
# (scripts/time-validate.sh at GPU scale, eager and as one CUDA graph), then the artifact table on the lab's base design (scripts/artifact-lab.sh:
# plan × quantiser × QAT none/start/late, 2 seeds). WHAT=time, WHAT=artifact or both (default). Results go back as one
# archive, $OUT/artifact-time.tgz (the run tool returns a few files only). TIME_LIMIT and ART_LIMIT (seconds) cut a
# part short so that what finished still goes back (checkpoints and artifacts deleted: over the tool's file limit).
set -uo pipefail
out="${OUT:-/tmp/slmgen-out}"; mkdir -p "$out"
what="${WHAT:-time artifact}"
echo "commit $(xz -dc .device/app.tar.xz | tar -xOf - ./COMMIT 2>/dev/null); $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
s=$SECONDS
if [[ " $what " == *" time "* ]]; then
  # The native library (fused AdamW, CUDA graphs) for the graphed timings, built against this machine's PyTorch.
  # (kept from an earlier script of the same call, e.g. scripts/gpu/lab.sh, which builds it to the same place)
  # (a build carried in .device/native/ is loaded instead; a fresh one comes back as $NATIVE_KEEP/libslmgen_native-KEY.so)
  . scripts/gpu/native.sh "$out/native-build.log" "${NATIVE_KEEP:-}"
  timeout "${TIME_LIMIT:-86400}" env MODES="${MODES:-eager decode graphed}" SLMGEN="bash .device/run.sh slmgen" SCALE=gpu PER_PROCESS="${PER_PROCESS:-10}" N="${N:-80}" BATCH="${BATCH:-32}" STEPS="${TIME_STEPS:-10}" DEVICE=cuda OUT="$out/time" bash scripts/time-validate.sh | tail -12
  echo "time: $((SECONDS - s)) s"
  # TIME_LIMIT cut time-validate.sh before it summed and deleted the raw traces (tens of MiB): do it here, or the
  # archive outgrows what comes back — each summary within TRACE_SUM_LIMIT seconds (session 26's first call
  # reached the run tool's limit while summing the traces of a cut run, and never wrote its archive: leave TIME_LIMIT
  # room for this and the archive).
  if [ -d "$out/time/traces" ]; then
    ls "$out"/time/traces/*-graphed.json > /dev/null 2>&1 && timeout "${TRACE_SUM_LIMIT:-60}" python3 scripts/gpu/trace_summary.py "$out"/time/traces/*-graphed.json --out "$out/time/trace-summary.jsonl" > "$out/time/trace-summary.txt" 2>&1
    ls "$out"/time/traces/*-decode.json > /dev/null 2>&1 && timeout "${TRACE_SUM_LIMIT:-60}" python3 scripts/gpu/decode_trace.py "$out"/time/traces/*-decode.json --out "$out/time/decode-trace.jsonl" > "$out/time/decode-trace.txt" 2>&1
    rm -rf "$out/time/traces"
  fi
  # The error distributions in the call's own output too (TIME_LIMIT may cut time-validate.sh before its summaries,
  # and the archive may not come back): one line per mode — designs | median | 90th percentile | bias | …
  for f in "$out"/time/time*.jsonl; do
    [ -s "$f" ] && python3 scripts/time_summary.py "$f" 2>/dev/null | grep -E '^### |^\| *[0-9]+ \|' | sed "s|^|$(basename "$f" .jsonl): |"
  done
fi
s=$SECONDS
if [[ " $what " == *" artifact "* ]]; then
  timeout "${ART_LIMIT:-86400}" env SLMGEN="bash .device/run.sh slmgen" STEPS="${ART_STEPS:-1000}" SEEDS="${SEEDS:-1 2}" OUT="$out/artifact" EXTRA="--device cuda" bash scripts/artifact-lab.sh | tail -1
  python3 scripts/artifact_table.py "$out/artifact" > "$out/artifact/table.md" && cat "$out/artifact/table.md"
  find "$out/artifact" -name '*.slmq' -delete; find "$out/artifact" -name '*.ckpt' -delete
  echo "artifact: $((SECONDS - s)) s"
fi
tar -C "$out" -czf /tmp/artifact-time.tgz . && find "$out" -mindepth 1 -delete
# The run tool returns files of at most 16 MiB (session 25 lost a whole blind check's records to one larger archive):
# a larger archive comes back in 15 MiB parts (cat artifact-time.tgz.part-* > artifact-time.tgz).
size=$(stat -c %s /tmp/artifact-time.tgz)
if [ "$size" -gt $((15 << 20)) ]; then
  split -b 15M -d /tmp/artifact-time.tgz "$out/artifact-time.tgz.part-" && rm /tmp/artifact-time.tgz
  echo "results: $out/artifact-time.tgz.part-* ($size bytes in $(ls "$out"/artifact-time.tgz.part-* | wc -l) parts)"
else
  mv /tmp/artifact-time.tgz "$out/artifact-time.tgz"
  echo "results: $out/artifact-time.tgz ($size bytes)"
fi
