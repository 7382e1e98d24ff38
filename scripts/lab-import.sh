#!/usr/bin/env bash
# Puts the lab's run records fetched from the GPU machine (lab-<experiment>.tar.gz from scripts/gpu/lab.sh) into
# $LAB_DIR/records/<experiment>/ (replacing what was there; LAB_DIR defaults to results/lab), then, for the first lab,
# regenerates its tables and plots. The records are committed: they are what a reviewer recomputes the tables from.
#   bash scripts/lab-import.sh /path/to/files_at
#   LAB_DIR=results/lab2 bash scripts/lab-import.sh /path/to/files_at
set -euo pipefail
cd "$(dirname "$0")/.."
lab="${LAB_DIR:-results/lab}"
src="$1"
# scripts/gpu/lab.sh bundles its archives into one file (the device tool returns at most 8 files a call).
if [ -f "$src/lab-bundle.tar" ]; then
  src=$(mktemp -d); tar -xf "$1/lab-bundle.tar" -C "$src"
fi
# scripts/gpu/lab2-call-a.sh's archive (Q2a's timings, the profile): its files into $lab/records/q2a/, replacing those
# of the same name (a call split by PARTS brings its parts in turn).
if [ -f "$src/lab2-call-a.tgz" ]; then
  tmp=$(mktemp -d); tar -xzf "$src/lab2-call-a.tgz" -C "$tmp"
  mkdir -p "$lab/records/q2a" && cp "$tmp"/a/* "$lab/records/q2a/"
  echo "imported q2a ($(ls "$tmp"/a/time-*.jsonl 2>/dev/null | wc -l) timing files)"
fi
for archive in "$src"/lab-*.tar.gz; do
  [ -f "$archive" ] || continue
  e=$(basename "$archive" .tar.gz); e=${e#lab-}
  # Never replace records with fewer finished runs (a call cut before its sweep resumed them, or one that started
  # nothing): the archive is set aside with a line saying why; FORCE=1 replaces anyway.
  tmp=$(mktemp -d); tar -xzf "$archive" -C "$tmp"
  new=$(find "$tmp/$e" -name result.json 2>/dev/null | wc -l)
  old=0; [ -d "$lab/records/$e" ] && old=$(find "$lab/records/$e" -name result.json | wc -l)   # a new sweep has none
  if [ "$new" -eq 0 ] || { [ "$new" -lt "$old" ] && [ "${FORCE:-0}" != 1 ]; }; then
    echo "not imported $e: the archive has $new finished runs, the records $old (FORCE=1 replaces)"
    continue
  fi
  rm -rf "$lab/records/$e" && mkdir -p "$lab/records"
  mv "$tmp/$e" "$lab/records/"
  rm -f "$lab/records/$e/run.lock"
  echo "imported $e ($new runs)"
done
if [ "$lab" = results/lab ]; then
  [ -f "$src/device.txt" ] && cp "$src/device.txt" results/lab/records/DEVICE.txt
  dotnet run --project samples/LabReport -c Release
else
  [ -f "$src/device.txt" ] && cp "$src/device.txt" "$lab/records/DEVICE-$(date +%Y%m%d-%H%M).txt"
fi
