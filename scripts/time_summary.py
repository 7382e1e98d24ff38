#!/usr/bin/env python3
"""The time model's error distribution from `slmgen time --device-profile --json` records: median and 90th percentile
of |predicted − measured| / measured, the signed median (bias), and the worst cases."""
import json, statistics, sys

records = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
records = [r for r in records if r.get("predicted_ms_per_step")]
errors = sorted(((r["predicted_ms_per_step"] - r["ms_per_step"]) / r["ms_per_step"], r) for r in records)
absolute = sorted(abs(e) for e, _ in errors)

def pct(values, p):
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)

print(f"device: {records[0]['device']}; profile: {records[0].get('profile_measured')}; {len(records)} designs, batch {records[0]['batch']}")
print()
print("| designs | median abs error | 90th percentile | median signed error (bias) | within 15 % | within 30 % |")
print("|---:|---:|---:|---:|---:|---:|")
print(f"| {len(records)} | {pct(absolute, 0.5):.1%} | {pct(absolute, 0.9):.1%} | {statistics.median(e for e, _ in errors):+.1%} | "
      f"{sum(a <= 0.15 for a in absolute)} | {sum(a <= 0.30 for a in absolute)} |")
print()
print("Worst cases:")
print()
print("| model | measured ms/step | predicted | error |")
print("|---|---:|---:|---:|")
for e, r in sorted(errors, key=lambda x: -abs(x[0]))[:8]:
    print(f"| {r['model']} ({r['spec']}) | {r['ms_per_step']:.2f} | {r['predicted_ms_per_step']:.2f} | {e:+.1%} |")
