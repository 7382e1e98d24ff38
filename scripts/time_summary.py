#!/usr/bin/env python3
"""The time model's error distribution from `slmgen time --device-profile --json` records (training steps, eager or
graphed; or `--decode`: prefill and per-token latency): median and 90th percentile of |predicted − measured| /
measured, the signed median (bias), and the worst cases."""
import json, statistics, sys

records = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]


def pct(values, p):
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summary(title, rows, measured, predicted):
    rows = [r for r in rows if r.get(predicted) and r.get(measured)]
    if not rows:
        return
    errors = sorted(((r[predicted] - r[measured]) / r[measured], r) for r in rows)
    absolute = sorted(abs(e) for e, _ in errors)
    print(f"### {title}")
    print()
    print(f"device: {rows[0]['device']}; profile: {rows[0].get('profile_measured')}; {len(rows)} designs, batch {rows[0]['batch']}")
    ratios = sorted(r["host_ratio"] for r in rows if r.get("host_ratio"))
    if ratios:
        # slmgen time --check-host: the host's cost per kernel when the designs were timed over the calibration's
        print(f"host now / at calibration (--check-host, {len(ratios)} records): median {pct(ratios, 0.5):.2f}x, {ratios[0]:.2f}-{ratios[-1]:.2f}x")
    print()
    print("| designs | median abs error | 90th percentile | median signed error (bias) | within 15 % | within 30 % |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {len(rows)} | {pct(absolute, 0.5):.1%} | {pct(absolute, 0.9):.1%} | {statistics.median(e for e, _ in errors):+.1%} | "
          f"{sum(a <= 0.15 for a in absolute)} | {sum(a <= 0.30 for a in absolute)} |")
    print()
    print("Worst cases:")
    print()
    print("| model | measured ms | predicted | error |")
    print("|---|---:|---:|---:|")
    for e, r in sorted(errors, key=lambda x: -abs(x[0]))[:8]:
        print(f"| {r['model']} ({r['spec']}) | {r[measured]:.3f} | {r[predicted]:.3f} | {e:+.1%} |")
    print()


decode = [r for r in records if r.get("mode") == "decode"]
training = [r for r in records if r.get("mode") != "decode"]
for graphed in (False, True):
    rows = [r for r in training if bool(r.get("graphed")) == graphed]
    summary("training step, " + ("one CUDA graph" if graphed else "eager"), rows, "ms_per_step", "predicted_ms_per_step")
summary("decoding: prefill (batch 1)", decode, "prefill_ms", "predicted_prefill_ms")
summary("decoding: per token with the KV cache (batch 1)", decode, "ms_per_token", "predicted_ms_per_token")
