#!/usr/bin/env python3
"""Issue 22: the predicted peak memory of a training step (SlmGen.TrainingMemory, from the build-time constants,
written by `slmgen costs SPEC --json --batch B` as trainingPeakBytes) against what PyTorch allocates for the model's
twin: fp32, torch.optim.AdamW (its default foreach implementation), gradients set to none, cross-entropy over every
position; torch.cuda.max_memory_allocated over the third step (AdamW's state exists from the first).
Usage: python3 peak_memory.py PREDICTIONS.json EXPORT_DIR... [--batch B] [--out FILE.jsonl]
(each EXPORT_DIR from `slmgen export SPEC --out DIR --no-hf`; PREDICTIONS.json from `slmgen costs SPEC... --json --batch B`)."""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F


def main():
    p = argparse.ArgumentParser()
    p.add_argument("predictions")
    p.add_argument("exports", nargs="+")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--out")
    args = p.parse_args()
    predicted = {m["name"]: m for m in json.load(open(args.predictions))["models"]}
    records = []
    for directory in args.exports:
        sys.path.insert(0, directory)
        import importlib
        import model as twin_module
        importlib.reload(twin_module)
        sys.path.pop(0)
        twin = twin_module.SlmGenModel.from_pretrained(directory).cuda().float().train()
        config = twin.config
        name = config["name"]
        vocab, context = config["vocab"], config["context"]
        optimizer = torch.optim.AdamW(twin.parameters(), lr=1e-4)
        idx = torch.randint(0, config.get("declaredVocab", vocab), (args.batch, context + 1), device="cuda")
        inputs, targets = idx[:, :-1], idx[:, 1:]
        for step in range(3):
            optimizer.zero_grad(set_to_none=True)
            torch.cuda.synchronize()
            if step == 2:
                torch.cuda.reset_peak_memory_stats()
                before = torch.cuda.memory_allocated()
            logits = twin(inputs)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)) if logits.dim() == 3 \
                else F.cross_entropy(logits, targets[:, -1])
            del logits
            loss.backward()
            optimizer.step()
            torch.cuda.synchronize()
        measured = torch.cuda.max_memory_allocated()
        m = predicted[name]
        prediction = m["trainingPeakBytes"]["bytes"]
        record = dict(model=name, batch=args.batch, parameters=m["parameters"], predicted_peak=prediction, measured_peak=measured,
                      error=(prediction - measured) / measured, allocated_before_step=before,
                      predicted_activations=args.batch * m["activationBytesPerSequenceFp32"], device=torch.cuda.get_device_name())
        records.append(record)
        print(json.dumps(record))
        del twin, optimizer
        torch.cuda.empty_cache()
    worst = max(abs(r["error"]) for r in records)
    summary = dict(kind="summary", models=len(records), worst_abs_error=worst, within_10_percent=sum(abs(r["error"]) <= 0.10 for r in records))
    print(json.dumps(summary))
    if args.out:
        with open(args.out, "w") as f:
            for r in records + [summary]:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
