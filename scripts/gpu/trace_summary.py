#!/usr/bin/env python3
"""GPU time per kernel and per kernel class from Chrome traces that `Bench --profile PREFIX` wrote (libtorch's
profiler inside SlmGen's process: every kernel, copy and set of the profiled steps, graph replays included).

Usage: python3 trace_summary.py TRACE.json [TRACE.json …] [--steps 5] [--out FILE.jsonl] [--torch PROFILE.jsonl]
One JSON line per trace in torch_step.py --profile's format (mode, gpu_ms_per_step, kernels_per_step, classes_ms,
top), and a table of classes; with --torch (torch_step.py's profile of the same model), PyTorch's modes beside it.
"""
import argparse
import json
import os

from kernel_classes import classify  # scripts/gpu, beside this file

GPU_CATEGORIES = {"kernel", "gpu_memcpy", "gpu_memset"}


def summarise(path, steps):
    with open(path) as f:
        trace = json.load(f)
    kernels = {}
    for event in trace.get("traceEvents", []):
        if event.get("ph") != "X" or event.get("cat", "").lower() not in GPU_CATEGORIES:
            continue
        entry = kernels.setdefault(event["name"], [0.0, 0])
        entry[0] += float(event.get("dur", 0)) / 1e3 / steps
        entry[1] += 1
    classes = {}
    for name, (ms, _) in kernels.items():
        classes[classify(name)] = classes.get(classify(name), 0.0) + ms
    mode = os.path.splitext(os.path.basename(path))[0]
    top = sorted(kernels.items(), key=lambda kv: -kv[1][0])[:30]
    return dict(mode=mode, gpu_ms_per_step=sum(v[0] for v in kernels.values()), kernels_per_step=sum(v[1] for v in kernels.values()) / steps,
                classes_ms=dict(sorted(classes.items(), key=lambda kv: -kv[1])),
                top=[dict(name=n[:160], ms=v[0], launches=v[1] / steps, cls=classify(n)) for n, v in top])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("traces", nargs="+")
    parser.add_argument("--steps", type=int, default=5, help="steps each trace holds (Bench --profile: 5)")
    parser.add_argument("--out", default="")
    parser.add_argument("--torch", default="", help="torch_step.py --profile's JSON lines, shown beside")
    args = parser.parse_args()
    rows = [summarise(path, args.steps) for path in args.traces]
    if args.torch and os.path.exists(args.torch):
        with open(args.torch) as f:
            rows += [dict(json.loads(line), mode="torch-" + json.loads(line)["mode"]) for line in f if line.strip()]
    if args.out:
        with open(args.out, "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
    classes = sorted({c for row in rows for c in row["classes_ms"]}, key=lambda c: -max(r["classes_ms"].get(c, 0.0) for r in rows))
    print("GPU ms per step by kernel class")
    print(f"{'class':<18}" + "".join(f"{row['mode'][:22]:>24}" for row in rows))
    for c in classes:
        print(f"{c:<18}" + "".join(f"{row['classes_ms'].get(c, 0.0):>24.3f}" for row in rows))
    print(f"{'total':<18}" + "".join(f"{row['gpu_ms_per_step']:>24.3f}" for row in rows))
    print(f"{'kernels/step':<18}" + "".join(f"{row['kernels_per_step']:>24.0f}" for row in rows))
    for row in rows:
        print(f"\n{row['mode']}: costliest kernels (ms/step, launches/step, class)")
        for k in row["top"][:20]:
            print(f"  {k['ms']:8.3f} {k['launches']:6.1f}  {k['cls']:<16} {k['name'][:110]}")


if __name__ == "__main__":
    main()
