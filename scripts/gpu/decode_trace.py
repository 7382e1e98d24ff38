#!/usr/bin/env python3
"""Where a decoded token's time goes, from Chrome traces that `slmgen time --decode --kernel-trace DIR` wrote (one
greedy generation under libtorch's profiler: host operators, runtime calls, kernels and copies).

Usage: python3 decode_trace.py DIR/*-decode.json [--out FILE.jsonl]
Tokens are cut at the device-to-host copies (each token's id read back); the first is the prefill (summarised apart,
with its own operators). Per token after it
(medians over the tokens): wall time between reads, GPU busy time (kernels, copies and sets, their union), kernels,
kernel launches, and the host's time inside top-level ATen operators versus outside any (TorchSharp and .NET between
operators) — the split that says whether a token is bound by the device, by ATen's dispatch or by the managed side.
"""
import argparse
import json
import os
import statistics

GPU = {"kernel", "gpu_memcpy", "gpu_memset"}


def union_ms(intervals):
    total, end = 0.0, -1e30
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total / 1e3


def top_level(ops):
    """Operators not nested in another on the same thread (by time)."""
    out, ends = [], {}
    for e in sorted(ops, key=lambda e: (e["ts"], -e.get("dur", 0))):
        tid = e.get("tid")
        if e["ts"] >= ends.get(tid, -1e30):
            out.append(e)
            ends[tid] = e["ts"] + e.get("dur", 0)
    return out


def summarise(path):
    with open(path) as f:
        events = [e for e in json.load(f).get("traceEvents", []) if e.get("ph") == "X"]
    cat = lambda e: e.get("cat", "").lower()
    gpu = [e for e in events if cat(e) in GPU]
    reads = sorted(e["ts"] + e.get("dur", 0) for e in gpu if cat(e) == "gpu_memcpy" and "dtoh" in e["name"].lower().replace(" ", ""))
    ops = top_level([e for e in events if cat(e) == "cpu_op"])
    launches = [e for e in events if cat(e) == "cuda_runtime" and "launch" in e["name"].lower()]
    if len(reads) < 3:
        return dict(mode=os.path.splitext(os.path.basename(path))[0], tokens=len(reads), error="fewer than 3 reads of a token id")
    def window(a, b, names):
        inside = lambda e: a <= e["ts"] < b
        k = [e for e in gpu if inside(e)]
        o = [e for e in ops if inside(e)]
        for e in o:
            n = names.setdefault(e["name"], [0.0, 0])
            n[0] += e.get("dur", 0) / 1e3
            n[1] += 1
        host_ops = sum(e.get("dur", 0) for e in o) / 1e3
        wall = (b - a) / 1e3
        return dict(wall_ms=wall, gpu_busy_ms=union_ms([(e["ts"], e["ts"] + e.get("dur", 0)) for e in k]),
                    kernels=sum(cat(e) == "kernel" for e in k), launches=sum(inside(e) for e in launches),
                    ops=len(o), host_in_ops_ms=host_ops, host_outside_ops_ms=max(0.0, wall - host_ops))

    names = {}
    tokens = [window(a, b, names) for a, b in zip(reads, reads[1:])]
    med = {key: statistics.median(t[key] for t in tokens) for key in tokens[0]}
    top = sorted(names.items(), key=lambda kv: -kv[1][0])[:15]
    # The prefill: from the generation's first top-level operator to the first id read back (the profiler's own start
    # before it is left out), with its operators, so a prefill's miss can be read the same way as a token's.
    first_op = min((e["ts"] for e in ops if e["ts"] < reads[0]), default=reads[0])
    prefill_names = {}
    prefill = window(first_op, reads[0], prefill_names)
    prefill_top = sorted(prefill_names.items(), key=lambda kv: -kv[1][0])[:20]
    return dict(mode=os.path.splitext(os.path.basename(path))[0], tokens=len(tokens), prefill_to_first_read_ms=(reads[0] - min(e["ts"] for e in events)) / 1e3,
                per_token=med, top_ops=[dict(name=n, ms=v[0] / len(tokens), calls=v[1] / len(tokens)) for n, v in top],
                prefill=prefill, prefill_top_ops=[dict(name=n, ms=v[0], calls=v[1]) for n, v in prefill_top])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("traces", nargs="+")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    rows = [summarise(p) for p in args.traces]
    if args.out:
        with open(args.out, "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
    keys = ["wall_ms", "gpu_busy_ms", "kernels", "launches", "ops", "host_in_ops_ms", "host_outside_ops_ms"]
    print("per decoded token (median over the tokens after the prefill)")
    print(f"{'model':<24}{'tokens':>7}" + "".join(f"{k:>21}" for k in keys) + f"{'us/kernel':>11}")
    for r in rows:
        if "error" in r:
            print(f"{r['mode']:<24}{r['tokens']:>7}  {r['error']}")
            continue
        t = r["per_token"]
        print(f"{r['mode'][:23]:<24}{r['tokens']:>7}" + "".join(f"{t[k]:>21.3f}" for k in keys) + f"{1e3 * t['wall_ms'] / max(1, t['kernels']):>11.1f}")
    print("\nthe prefill (from the generation's first operator to the first id read back)")
    print(f"{'model':<24}{'':>7}" + "".join(f"{k:>21}" for k in keys) + f"{'us/kernel':>11}")
    for r in rows:
        if "error" in r:
            continue
        t = r["prefill"]
        print(f"{r['mode'][:23]:<24}{'':>7}" + "".join(f"{t[k]:>21.3f}" for k in keys) + f"{1e3 * t['wall_ms'] / max(1, t['kernels']):>11.1f}")
    for r in rows:
        if "error" in r:
            continue
        print(f"\n{r['mode']}: host operators a token (ms, calls)")
        for o in r["top_ops"]:
            print(f"  {o['ms']:8.3f} {o['calls']:6.1f}  {o['name'][:100]}")
        print(f"{r['mode']}: host operators of the prefill (ms, calls)")
        for o in r["prefill_top_ops"]:
            print(f"  {o['ms']:8.3f} {o['calls']:6.0f}  {o['name'][:100]}")


if __name__ == "__main__":
    main()
