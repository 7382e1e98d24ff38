"""Per design, its decoded token's time in each process of scripts/gpu/decode-repeat.sh beside the median over the
rounds (the processes of default settings): how far one measurement of a host-bound token strays from another.

    python3 scripts/gpu/decode_repeat.py DIR
"""
import glob
import json
import os
import statistics
import sys

folder = sys.argv[1]
runs = {}  # run name -> {model: (ms per token, predicted, position in its process)}
for path in sorted(glob.glob(os.path.join(folder, "decode-*.jsonl"))):
    name = os.path.basename(path)[len("decode-"):-len(".jsonl")]
    rows = [json.loads(line) for line in open(path) if line.strip()]
    runs[name] = {r["model"]: (r["ms_per_token"], r.get("predicted_ms_per_token"), i + 1) for i, r in enumerate(rows)}
rounds = sorted((n for n in runs if n.startswith("r") and n[1:].isdigit()), key=lambda n: int(n[1:]))
others = [n for n in runs if n not in rounds]
models = sorted({m for run in runs.values() for m in run})
print("ms per token (position in its process) and ratio to the median over rounds " + ", ".join(rounds))
print(f"{'model':<16}{'median':>9}{'predicted':>10}" + "".join(f" {n:>21}" for n in rounds + others))
spreads = []
for m in models:
    base = [runs[n][m][0] for n in rounds if m in runs[n]]
    if not base:
        continue
    median = statistics.median(base)
    predicted = next((runs[n][m][1] for n in rounds if m in runs[n] and runs[n][m][1]), None)
    cells = []
    for n in rounds + others:
        if m in runs[n]:
            ms, _, pos = runs[n][m]
            cells.append(f"{ms:8.3f} ({pos}) {ms / median:5.2f}x")
        else:
            cells.append("-")
    spreads.append(max(base) / min(base))
    print(f"{m:<16}{median:9.3f}{(predicted or float('nan')):10.3f}" + "".join(f"{c:>22}" for c in cells))
if spreads:
    print(f"slowest / fastest round of a design: median {statistics.median(spreads):.2f}x, largest {max(spreads):.2f}x")
