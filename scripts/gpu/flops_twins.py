#!/usr/bin/env python3
"""PyTorch twins of SlmGen models, built from the "architecture" of a cost report (slmgen-costs.json, or
the SlmGenCostReport.Json a test exports) by the twin SlmGen exports (src/SlmGen.Runtime/Interop/twin/model.py),
and counted with FlopCounterMode.

For every model in the given reports: the twin (nn.Embedding, nn.Linear, F.scaled_dot_product_attention with
is_causal, LayerNorm/RMSNorm, the same FFN and head kinds, the same parameter names), its parameter count, and FlopCounterMode's forward and forward+backward FLOPs of one batch — per token (logits
at every position, loss over all of them) or per prediction for flatten models — compared with the
report's compile-time figures.

Attention: SlmGen's training count takes PyTorch's fused attention kernels (flash / memory-efficient), whose
backward FlopCounterMode counts at 2.5x the forward. For head sizes those kernels do not take, PyTorch runs
its math path, and FlopCounterMode counts that backward at 2x (two matmul gradients). The script finds, per
transformer stack, which path ran (bmm ops under its attention modules = math), and compares the training
count with the report's figure less half the attention-score FLOPs of the math-path stacks — the
documented difference (docs/costs.md). Each record says which stacks ran where.

Usage: python3 flops_twins.py REPORT.json [REPORT.json ...] [--out FILE.jsonl] [--device cuda|cpu] [--batch 2]
Prints one JSON line per model and a summary; exit status 1 when any figure differs.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "SlmGen.Runtime", "Interop", "twin"))
from model import QuantLinear, SlmGenModel  # noqa: E402  (the PyTorch twin every export ships: one declaration)


def weight_bytes(twin):
    """Weight bytes at the declared precision, from the twin's tensors: without quantisation 4 bytes a parameter;
    with it, every quantised matrix packed at its bits plus its scales (one per row, or one per `group` columns, at
    the plan's scale type), every other tensor at the plan's type for the rest (docs/artifact.md)."""
    steps = twin.config["architecture"]
    artifact = twin.config.get("artifact") or {}
    quantized = any(s.get(k, 0) for s in steps for k in ("bits", "attentionBits", "mlpBits"))
    size = {"fp32": 4, "fp16": 2, "bf16": 2}
    scale_bytes, other_bytes = size[artifact.get("scales", "fp16")], size[artifact.get("others", "bf16")]
    group = artifact.get("group", 0)
    # By class name: a twin loaded from an export's own model.py has its own QuantLinear class.
    bits = {id(m.weight): m.bits for m in twin.modules() if type(m).__name__ == QuantLinear.__name__}
    for s in steps:
        if s["kind"] == "embedding" and s.get("bits", 0):
            bits[id(getattr(twin, s["field"]).weight)] = s["bits"]
    total = 0
    for p in twin.parameters():
        if not quantized:
            total += 4 * p.numel()
        elif id(p) in bits:
            rows, cols = p.shape[0], p.numel() // p.shape[0]
            groups = 1 if group <= 0 else -(-cols // group)
            total += (p.numel() * bits[id(p)] + 7) // 8 + scale_bytes * rows * groups
        else:
            total += other_bytes * p.numel()
    return total


def flop_count(twin, device, batch):
    """FlopCounterMode's forward FLOPs (the logits) and a training step's FLOPs (the loss SlmGen trains and its
    backward) of one batch at a full context, per token (logits at every position) or per prediction, and which attention blocks ran on PyTorch's math path."""
    config = twin.config
    idx = torch.randint(0, config["vocab"], (batch, config["context"]), device=device)
    with FlopCounterMode(display=False) as fwd:
        logits = twin(idx)
    units = logits.shape[0] * (logits.shape[1] if logits.dim() == 3 else 1)
    # Training counts the step SlmGen runs: its loss (twin.loss: a grouped head scores only the target's group, no
    # vocabulary-sized tensor) and that loss's backward — not the inference logits' backward.
    targets = torch.randint(0, config.get("declaredVocab", config["vocab"]), (batch, config["context"]), device=device)
    with FlopCounterMode(display=False) as step:
        twin.loss(idx, targets).backward()
    twin.zero_grad(set_to_none=True)
    f, t = fwd.get_total_flops(), step.get_total_flops()
    ops = sorted({str(op) for op in fwd.get_flop_counts().get("Global", {})} | {str(op) for op in step.get_flop_counts().get("Global", {})})
    # Which attention ran on the math path (bmm ops under it): per block.
    math_blocks = []
    counts = fwd.get_flop_counts()
    for s in config["architecture"]:
        if s["kind"] == "transformer":
            for i in range(s["blocks"]):
                under = [ops_ for key, ops_ in counts.items() if f".{s['field']}.{i}." in key + "."]
                if any("bmm" in str(op) for c in under for op in c):
                    math_blocks.append(f"{s['field']}[{i}]")
    return f // units, t // units, f % units == 0 and t % units == 0, ops, math_blocks


def expected_training(model, math_blocks):
    """The report's training FLOPs less half the attention-score FLOPs of the blocks that ran on the math path."""
    blocks_of = {s["field"]: s["blocks"] for s in model["architecture"] if s["kind"] == "transformer"}
    score = {}
    for c in model["components"]:
        if c["name"].endswith(".attn"):
            name = c["name"][: -len(".attn")]
            if "[" in name:
                score[name] = c.get("attentionScoreFlopsPerToken", 0)
            else:
                for i in range(blocks_of[name]):
                    score[f"{name}[{i}]"] = c.get("attentionScoreFlopsPerToken", 0) // blocks_of[name]
    return model["trainingFlopsPerToken"] - sum(score.get(b, 0) // 2 for b in math_blocks)


def count(model, device, batch):
    twin = SlmGenModel(model).to(device)
    params = sum(p.numel() for p in twin.parameters())
    fwd, train, whole, ops, math_blocks = flop_count(twin, device, batch)
    return params, fwd, train, whole, ops, math_blocks, weight_bytes(twin)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("reports", nargs="+")
    p.add_argument("--out")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batch", type=int, default=2)
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    out = open(args.out, "w") if args.out else None
    total = bad = fused_only = 0
    for path in args.reports:
        for model in json.load(open(path))["models"]:
            params, fwd, train, whole, ops, math_stacks, wbytes = count(model, args.device, args.batch)
            expected_train = expected_training(model, math_stacks)
            declared = model.get("weightBytesDeclared", 4 * model["parameters"])
            ok = params == model["parameters"] and fwd == model["forwardFlopsPerToken"] and train == expected_train and whole and wbytes == declared
            total += 1
            bad += not ok
            fused_only += ok and not math_stacks
            record = dict(report=path.split("/")[-1], model=model["fullName"], ok=ok,
                          params=[params, model["parameters"]], fwd=[fwd, model["forwardFlopsPerToken"]],
                          train=[train, expected_train], fused_train=model["trainingFlopsPerToken"], weight_bytes=[wbytes, declared], math_attention=math_stacks, ops=ops,
                          device=torch.cuda.get_device_name() if args.device == "cuda" else "cpu", torch=torch.__version__)
            line = json.dumps(record)
            if out:
                out.write(line + "\n")
            if not ok:
                print(line, flush=True)
    summary = dict(kind="summary", models=total, equal=total - bad, differ=bad, fused_only=fused_only,
                   device=torch.cuda.get_device_name() if args.device == "cuda" else "cpu", torch=torch.__version__)
    print(json.dumps(summary))
    if out:
        out.write(json.dumps(summary) + "\n")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
