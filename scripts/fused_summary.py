#!/usr/bin/env python3
"""Issue 29's tables from one scripts/gpu/fused.sh call (its fused.tgz extracted into DIR): the kernel check, the
training-step times as ratios within the call (SlmGen fused off/on, eager/graphed, against PyTorch eager bf16 autocast,
torch.compile and compile + CUDA graphs), and the 500-step loss curves fused off and on.
Usage: python3 scripts/fused_summary.py DIR > DIR/summary.md"""
import glob
import json
import os
import statistics
import sys

d = sys.argv[1]
print(f"Device and commit: `{open(os.path.join(d, 'device.txt')).read().strip()}`\n")

check = [json.loads(l) for l in open(os.path.join(d, "check.jsonl"))] if os.path.exists(os.path.join(d, "check.jsonl")) else []
if check:
    ok = sum(c["ok"] for c in check)
    print(f"**Kernel check** (`Bench --check-fused`): {ok} of {len(check)} cases within twice the unfused path's error against an fp64 truth.\n")
    print("| op | dtype | worst fused error | the unfused path's at that case |")
    print("|---|---|---:|---:|")
    for op in sorted({c["op"] for c in check}):
        for dt in ("Float32", "BFloat16"):
            cases = [c for c in check if c["op"] == op and c["dtype"] == dt]
            worst = max(((v[0], v[1]) for c in cases for v in c["errors_fused_unfused"].values()), default=(0, 0))
            print(f"| {op} | {dt} | {worst[0]:.2e} | {worst[1]:.2e} |")
    print()

rows = []  # (model, run, ms)
for f in sorted(glob.glob(os.path.join(d, "bench-f*-r*.json"))):
    b = json.load(open(f))
    for r in b["results"]:
        mode = {"bf16": "eager", "bf16-graph": "graphed"}.get(r["mode"], r["mode"])
        rows.append(("baby GPT", f"SlmGen {mode}, fused {'on' if b.get('fused_kernels') else 'off'}", r["ms_per_step"]))
for name, f in (("GPT-2 small", "gpt2-time.jsonl"), ("modern 17M", "modern-time.jsonl")):
    p = os.path.join(d, f)
    if os.path.exists(p):
        for l in open(p):
            r = json.loads(l)
            rows.append((name, f"SlmGen {'graphed' if r['graphed'] else 'eager'}, fused {'on' if r.get('fused_kernels') else 'off'}", r["ms_per_step"]))
peaks = {}
for name, f in (("baby GPT", "torch-baby.txt"), ("GPT-2 small", "torch-gpt2.txt")):
    p = os.path.join(d, f)
    if os.path.exists(p):
        for l in open(p):
            if l.startswith("{"):
                r = json.loads(l)
                label = {"bf16-ac": "PyTorch eager (bf16 autocast)", "compile": "PyTorch torch.compile", "graphs": "PyTorch compile + CUDA graphs"}[r["mode"]]
                rows.append((name, label, r["ms_per_step"]))
                peaks[name] = (r["flops_per_step"], r["bf16_peak_tflops"])

print("**Training step, ms** (median of the call's runs; each SlmGen run is itself the median of its timed runs):\n")
print("| model | run | ms/step | runs | ÷ compile + graphs | MFU |")
print("|---|---|---:|---:|---:|---:|")
for model in ("baby GPT", "GPT-2 small", "modern 17M"):
    runs = {}
    for m, run, ms in rows:
        if m == model:
            runs.setdefault(run, []).append(ms)
    base = statistics.median(runs["PyTorch compile + CUDA graphs"]) if "PyTorch compile + CUDA graphs" in runs else None
    for run, values in sorted(runs.items()):
        ms = statistics.median(values)
        ratio = f"{ms / base:.2f}×" if base else "–"
        mfu = f"{peaks[model][0] / (ms / 1e3) / (peaks[model][1] * 1e12) * 100:.1f} %" if model in peaks else "–"
        print(f"| {model} | {run} | {ms:.2f} | {len(values)} | {ratio} | {mfu} |")
print()

curves = {}
for f in ("0", "1"):
    p = os.path.join(d, f"train-f{f}.metrics.jsonl")
    if os.path.exists(p):
        curves[f] = {r["step"]: r["loss"] for r in map(json.loads, open(p)) if r.get("kind") == "train"}
if len(curves) == 2:
    common = sorted(set(curves["0"]) & set(curves["1"]))
    diffs = [abs(curves["0"][s] - curves["1"][s]) for s in common]
    if diffs:
        print(f"**500 steps of baby GPT graphed** (dropout 0.2), fused off vs on: max |Δ training loss| {max(diffs):.4f}, mean {statistics.mean(diffs):.4f} over {len(diffs)} logged steps; final {curves['0'][common[-1]]:.4f} vs {curves['1'][common[-1]]:.4f}.")
for f in ("0", "1"):
    p = os.path.join(d, f"train-f{f}.json")
    if os.path.exists(p):
        r = json.load(open(p))
        print(f"- fused {'on' if f == '1' else 'off'}: " + ", ".join(f"{k} {r[k]}" for k in ("validation_nll", "final_train_loss", "tokens_per_second", "cuda_graphs") if k in r))
