#!/usr/bin/env python3
"""The decoding table from results/deploy/decode-TAG.jsonl (scripts/decode-bench.sh): median of the runs per runtime,
with the cost report's figures (from WORK/costs*.json when given) beside the file sizes."""
import json, statistics, sys
from collections import OrderedDict

rows = [json.loads(l) for l in open(sys.argv[1])]
by = OrderedDict()
for r in rows:
    by.setdefault(r["runtime"], []).append(r)
base = None
print(f"| runtime | file bytes | decode tokens/s (median) | runs | first token ms | peak memory MiB | greedy text |")
print("|---|---:|---:|---|---:|---:|---|")
texts = {}
for name, runs in by.items():
    tps = statistics.median(r["tokens_per_second"] for r in runs)
    base = base or tps
    texts.setdefault(runs[0]["text_sha256"], []).append(name)
    print(f"| {name} | {runs[0]['file_bytes']:,} | {tps:,.1f} ({tps / base:.2f}x) | {', '.join('%.0f' % r['tokens_per_second'] for r in runs)} | "
          f"{statistics.median(r['first_token_ms'] for r in runs):.1f} | {statistics.median(r['peak_memory_mib'] for r in runs):.1f} | {runs[0]['text_sha256'][:8]} |")
print()
print("Same greedy text (by SHA-256 prefix): " + "; ".join(f"{k[:8]}: {', '.join(v)}" for k, v in texts.items()))
if len(sys.argv) > 2:
    import os
    for f in ("costs.json", "costs-int8.json", "costs-int4.json"):
        p = os.path.join(sys.argv[2], f)
        if os.path.exists(p):
            m = json.load(open(p))["models"][0]
            print(f"cost report ({f}): parameters {m['parameters']:,}, fp32 weights {4 * m['parameters']:,} bytes, artifact {m.get('artifactBytes', 0):,} bytes")
