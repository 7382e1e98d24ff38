#!/usr/bin/env python3
"""Issue 22: the predicted peak memory of a training step (SlmGen.TrainingMemory, from the build-time constants,
written by `slmgen costs SPEC --json --batch B` as trainingPeakBytes) against what PyTorch allocates for the model's
twin: fp32, torch.optim.AdamW (its default foreach implementation), gradients set to none, SlmGen's training loss
(the twin's loss(): cross-entropy over every position and the declared vocabulary; a grouped head's two softmaxes); torch.cuda.max_memory_allocated over the third step (AdamW's state exists from the first).
Usage: python3 peak_memory.py PREDICTIONS.json EXPORT_DIR... [--batch B] [--out FILE.jsonl]
(each EXPORT_DIR from `slmgen export SPEC --out DIR --no-hf`; PREDICTIONS.json from `slmgen costs SPEC... --json --batch B`)."""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode


class Creators(TorchDispatchMode):
    """Remembers which aten op created each storage (by data pointer), so the saved tensors can be told apart."""

    def __init__(self):
        super().__init__()
        self.op = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if getattr(func, "is_view", False) or func.__name__.split(".")[0].endswith("_"):
            return out  # views and in-place ops allocate nothing
        for t in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(t, torch.Tensor) and t.device.type == "cuda":
                self.op[t.untyped_storage().data_ptr()] = func.__name__
        return out


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


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
        if os.path.exists(os.path.join(directory, "model.safetensors")):
            twin = twin_module.SlmGenModel.from_pretrained(directory)
        else:
            # config.json and model.py only (the weights' values do not change the memory): freshly initialised.
            twin = twin_module.SlmGenModel(json.load(open(os.path.join(directory, "config.json"))))
        twin = twin.cuda().float().train()
        config = twin.config
        name = config["name"]
        vocab, context = config["vocab"], config["context"]
        optimizer = torch.optim.AdamW(twin.parameters(), lr=1e-4)
        idx = torch.randint(0, config.get("declaredVocab", vocab), (args.batch, context + 1), device="cuda")
        inputs, targets = idx[:, :-1], idx[:, 1:]
        params = {p.untyped_storage().data_ptr() for p in twin.parameters()}
        for step in range(3):
            optimizer.zero_grad(set_to_none=True)
            torch.cuda.synchronize()
            saved, creators = {}, Creators()
            if step == 2:
                torch.cuda.reset_peak_memory_stats()
                before = torch.cuda.memory_allocated()

            def pack(t):
                ptr = t.untyped_storage().data_ptr()
                if step == 2 and t.device.type == "cuda" and ptr not in params:
                    saved[ptr] = (t.untyped_storage().nbytes(), str(t.dtype), tuple(t.shape))
                return t

            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), (creators if step == 2 else _nothing()):
                # SlmGen's own loss (the twin's loss(): the declared vocabulary; a grouped head's two softmaxes).
                loss = twin.loss(inputs, targets)
            torch.cuda.synchronize()
            if step == 2:
                after_forward, forward_peak = torch.cuda.memory_allocated(), torch.cuda.max_memory_allocated()
                torch.cuda.reset_peak_memory_stats()
            loss.backward()
            torch.cuda.synchronize()
            if step == 2:
                backward_peak, after_backward = torch.cuda.max_memory_allocated(), torch.cuda.memory_allocated()
                torch.cuda.reset_peak_memory_stats()
            optimizer.step()
            torch.cuda.synchronize()
        optimizer_peak = torch.cuda.max_memory_allocated()
        measured = max(forward_peak, backward_peak, optimizer_peak)
        census = {}
        for ptr, (nbytes, dtype, shape) in saved.items():
            key = f"{creators.op.get(ptr, '?')} {dtype} {list(shape)}"
            count, total = census.get(key, (0, 0))
            census[key] = (count + 1, total + nbytes)
        m = predicted[name]
        prediction = m["trainingPeakBytes"]["bytes"]
        record = dict(model=name, batch=args.batch, parameters=m["parameters"], predicted_peak=prediction, measured_peak=measured,
                      error=(prediction - measured) / measured, allocated_before_step=before,
                      predicted_activations=args.batch * m["activationBytesPerSequenceFp32"], device=torch.cuda.get_device_name(),
                      after_forward=after_forward - before, forward_peak=forward_peak, backward_peak=backward_peak,
                      after_backward=after_backward, optimizer_peak=optimizer_peak, saved_bytes=sum(v[0] for v in saved.values()),
                      saved_census=sorted(([k, c, b] for k, (c, b) in census.items()), key=lambda r: -r[2]),
                      config={k: config.get(k) for k in ("vocab", "context", "declaredVocab")}, torch=torch.__version__)
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
