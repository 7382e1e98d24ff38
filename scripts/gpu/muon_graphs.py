"""Muon's eager and graphed runs of scripts/gpu/muon-graphs.sh side by side: steps captured, validation NLL at each
evaluation, final scores and tokens/s. Exit 1 when the graphed run did not capture its steps or its validation NLL
differs from the eager run's by more than bf16 noise (0.03 nats at any evaluation, 0.02 at the last)."""
import json
import os
import sys

out = sys.argv[1]
runs = {}
for mode in ("eager", "graphed"):
    try:
        result = json.load(open(os.path.join(out, f"{mode}.json")))
    except (OSError, ValueError) as e:
        print(f"{mode}: no result ({e})")
        sys.exit(1)
    metrics = [json.loads(line) for line in open(os.path.join(out, f"{mode}-metrics.jsonl"))]
    runs[mode] = (result, {m["step"]: m["nll"] for m in metrics if m.get("kind") == "validation"})

(eager, ev), (graphed, gv) = runs["eager"], runs["graphed"]
print("| step | eager validation NLL | graphed | difference |\n|---:|---:|---:|---:|")
worst = 0.0
for step in sorted(set(ev) & set(gv)):
    d = gv[step] - ev[step]
    worst = max(worst, abs(d))
    print(f"| {step} | {ev[step]:.4f} | {gv[step]:.4f} | {d:+.4f} |")
last = abs(graphed["validation_nll"] - eager["validation_nll"])
print(f"\nfinal validation NLL: eager {eager['validation_nll']:.4f}, graphed {graphed['validation_nll']:.4f} (|Δ| {last:.4f}); "
      f"tokens/s: eager {eager['tokens_per_second']:,.0f}, graphed {graphed['tokens_per_second']:,.0f} "
      f"({graphed['tokens_per_second'] / eager['tokens_per_second']:.2f}×); graphed steps {graphed['cuda_graph_steps']} of {graphed['steps']}; "
      f"fused kernels {graphed['fused_kernels']}")
ok = graphed["cuda_graph_steps"] >= graphed["steps"] - 10 and worst <= 0.03 and last <= 0.02
print("check:", "passed" if ok else "FAILED")
sys.exit(0 if ok else 1)
