#!/usr/bin/env python3
"""Issue 27: SlmGen's optimizer against a PyTorch reference on the same tensors. `Twins recipe --out DIR` writes the
model's twin export (initial weights), three fixed batches, SlmGen's weights after three steps and recipe.json (every
setting, the schedule's rates, each parameter's role). Here the twin takes the same three steps with
torch.optim.AdamW parameter groups (embeddings, head, gains at their own rates; decay on embeddings and head, none on
gains), torch.nn.utils.clip_grad_norm_, z-loss, and Muon written from Keller Jordan's reference muon_update
(lerp momentum, Nesterov, quintic Newton-Schulz 3.4445/-4.7750/2.0315 in fp32, sqrt(max(1, rows/cols)) scale,
decoupled decay) for the hidden matrices. Compares every parameter.
Usage: python3 recipe_step.py DIR [--out FILE.jsonl] [--device cuda|cpu]. Exit status 1 when any parameter differs by
more than 1e-4 relative."""
import argparse
import importlib.util
import json
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file


def newton_schulz(g, steps):
    a, b, c = 3.4445, -4.7750, 2.0315
    x = g.float()
    tall = x.size(0) > x.size(1)
    if tall:
        x = x.T
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--out")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()
    recipe = json.load(open(os.path.join(args.dir, "recipe.json")))
    export = os.path.join(args.dir, "model")
    spec = importlib.util.spec_from_file_location("twin_model", os.path.join(export, "model.py"))
    twin_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin_module)
    twin = twin_module.SlmGenModel.from_pretrained(export, device=args.device).float().eval()
    batches = load_file(os.path.join(args.dir, "batches.safetensors"))
    expected = load_file(os.path.join(args.dir, "after.safetensors"))

    named = dict(twin.named_parameters())
    roles = recipe["roles"]
    peak = recipe["peak"]
    group_lr = recipe["group_lr"]
    adam = recipe["adamw"]
    muon = recipe["muon"]
    groups = []
    for role, lr, decay in (("Embedding", group_lr["embedding"] or peak, adam["weight_decay"]), ("Head", group_lr["head"] or peak, adam["weight_decay"]),
                            ("Gain", group_lr["gain"] or peak, 0.0)):
        params = [named[n] for n, r in roles.items() if r == role]
        if params:
            groups.append(dict(params=params, peak=lr, lr=lr, weight_decay=decay))
    adamw = torch.optim.AdamW(groups, betas=(adam["beta1"], adam["beta2"]), eps=adam["eps"])
    matrices = [(n, named[n]) for n, r in roles.items() if r == "Matrix"]
    momentum = {n: torch.zeros_like(w) for n, w in matrices}

    for step, rate in enumerate(recipe["rates"]):
        idx = batches[f"batch{step}"].to(args.device)
        x, y = idx[:, :-1], idx[:, 1:]
        logits = twin(x).float().reshape(-1, twin.vocab)[:, : twin.config.get("declaredVocab", twin.vocab)]
        loss = F.cross_entropy(logits, y.reshape(-1)) + recipe["z_loss"] * torch.logsumexp(logits, -1).square().mean()
        twin.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(twin.parameters(), adam["clip"])
        factor = rate / peak
        with torch.no_grad():
            for n, w in matrices:
                g = w.grad
                buf = momentum[n]
                buf.lerp_(g, 1 - muon["momentum"])
                update = g.lerp(buf, muon["momentum"]) if muon["nesterov"] else buf
                o = newton_schulz(update.reshape(w.size(0), -1), muon["steps"]).reshape(w.shape)
                lr = muon["lr"] * factor
                w.mul_(1 - lr * muon["weight_decay"])
                w.add_(o, alpha=-lr * max(1.0, w.size(0) / (w.numel() // w.size(0))) ** 0.5)
        for group in adamw.param_groups:
            group["lr"] = group["peak"] * factor
        adamw.step()

    records, worst = [], 0.0
    for n, w in named.items():
        e = expected[n].to(args.device)
        err = ((w.detach() - e).abs().max() / e.abs().max().clamp_min(1e-12)).item()
        worst = max(worst, err)
        records.append(dict(parameter=n, role=roles[n], rel_err=err))
    summary = dict(kind="summary", model=recipe["model"], parameters=len(records), max_rel_err=worst, ok=worst < 1e-4, rates=recipe["rates"],
                   groups=recipe["groups"], slmgen_device=recipe["device"], device=args.device, torch=torch.__version__)
    for r in records + [summary]:
        print(json.dumps(r))
    if args.out:
        with open(args.out, "w") as f:
            for r in records + [summary]:
                f.write(json.dumps(r) + "\n")
    sys.exit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
