#!/usr/bin/env bash
# The device tool carries the working tree (tracked and untracked-not-ignored files) plus .device within 64 MiB; with
# the lab's records and the pack (≈ 30 MiB) the tree is over it. `out` moves what a lab call does not need (the first
# lab's results, the other results folders, PTB, and the second lab's records, plots and predictions except the
# records of the sweeps named — a call resumes those) to /tmp/slmgen-aside; `in` puts it back — before any test or
# commit (git sees the moved files as deleted until then).
#   bash scripts/device-aside.sh out q1-b2-tune q4-qat && <run the call> ; bash scripts/device-aside.sh in
set -euo pipefail
cd "$(dirname "$0")/.."
aside=/tmp/slmgen-aside
keep="lab2"   # results/<keep> travels (the lab's records: sweeps resume from them)
case "${1:-}" in
  out)
    mkdir -p "$aside/results" "$aside/data"
    for d in results/*/; do d=${d%/}; [ "$(basename "$d")" = "$keep" ] || mv "$d" "$aside/results/"; done
    # the first lab's templates stay (scripts/time-validate.sh times its base design; a few KiB)
    [ -d "$aside/results/lab/templates" ] && mkdir -p results/lab && cp -r "$aside/results/lab/templates" results/lab/
    [ -d data/ptb ] && mv data/ptb "$aside/data/"
    shift
    mkdir -p "$aside/lab2/records"
    for d in results/lab2/records/*/; do d=${d%/}; [[ " $* " == *" $(basename "$d") "* ]] || mv "$d" "$aside/lab2/records/"; done
    for d in plots predictions; do [ -d "results/lab2/$d" ] && mv "results/lab2/$d" "$aside/lab2/"; done
    echo "moved to $aside: $(du -sh "$aside" | cut -f1); the tree now carries $( (git ls-files; git ls-files --others --exclude-standard) | sort -u | while read -r f; do [ -f "$f" ] && stat -c %s "$f"; done | awk '{s += $1} END {printf "%.1f MiB", s / 1048576}')"
    ;;
  in)
    [ -d "$aside" ] || { echo "nothing aside"; exit 0; }
    if [ -d "$aside/results/lab" ]; then rm -rf results/lab/templates; rmdir results/lab 2>/dev/null || true; fi   # the copy `out` left
    for d in "$aside"/results/*/; do [ -d "$d" ] && mv "$d" results/; done
    [ -d "$aside/data/ptb" ] && mv "$aside/data/ptb" data/
    for d in "$aside"/lab2/records/*/; do [ -d "$d" ] && mv "$d" results/lab2/records/; done
    for d in plots predictions; do [ -d "$aside/lab2/$d" ] && mv "$aside/lab2/$d" results/lab2/; done
    rm -rf "$aside"
    git status --short | head
    ;;
  *) echo "usage: $0 out|in"; exit 2 ;;
esac
