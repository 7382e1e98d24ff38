#!/usr/bin/env bash
# Puts the lab's run records fetched from the GPU machine (lab-<experiment>.tar.gz from scripts/gpu/lab.sh) into
# results/lab/records/<experiment>/ (replacing what was there), then regenerates the lab's tables and plots.
#   bash scripts/lab-import.sh /path/to/files_at
set -euo pipefail
cd "$(dirname "$0")/.."
for archive in "$1"/lab-*.tar.gz; do
  e=$(basename "$archive" .tar.gz); e=${e#lab-}
  rm -rf "results/lab/records/$e" && mkdir -p results/lab/records
  tar -xzf "$archive" -C results/lab/records
  echo "imported $e"
done
[ -f "$1/device.txt" ] && cp "$1/device.txt" results/lab/records/DEVICE.txt
dotnet run --project samples/LabReport -c Release
