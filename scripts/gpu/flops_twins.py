#!/usr/bin/env python3
"""PyTorch twins of SlmGen models, built from the "architecture" of a cost report (slmgen-costs.json, or
the SlmGenCostReport.Json a test exports), and counted with FlopCounterMode.

For every model in the given reports: a plain nn.Module with the same layers (nn.Embedding, nn.Linear,
F.scaled_dot_product_attention with is_causal, LayerNorm/RMSNorm, the same FFN and head kinds), its
parameter count, and FlopCounterMode's forward and forward+backward FLOPs of one batch — per token (logits
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
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode


def activation(name):
    return {"relu": F.relu, "gelu": F.gelu, "silu": F.silu, "tanh": torch.tanh, "identity": lambda x: x}[name]


def norm(kind, width, bias):
    if kind == "layernorm":
        return nn.LayerNorm(width, bias=bias)
    if kind == "rmsnorm":
        return nn.RMSNorm(width, eps=1e-5)
    return nn.Identity()


def rope_tables(context, head_dim, base):
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    angles = torch.outer(torch.arange(context, dtype=torch.float64), inv)
    full = torch.cat([angles, angles], dim=1)
    return full.cos().float(), full.sin().float()


def apply_rope(x, cos, sin):
    t, half = x.shape[2], x.shape[3] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=3)
    return x * cos[:t] + rotated * sin[:t]


class Lora(nn.Module):
    """x -> B(A(x)) of rank r, B zero at the start."""

    def __init__(self, n_in, n_out, r):
        super().__init__()
        self.A = nn.Linear(n_in, r, bias=False)
        self.B = nn.Linear(r, n_out, bias=False)
        nn.init.zeros_(self.B.weight)

    def forward(self, x):
        return self.B(self.A(x))


def adapted(layer, name, x, adapters):
    y = layer(x)
    return y + adapters[name](x) if adapters is not None and name in adapters else y


class Attention(nn.Module):
    """Causal attention with kv_heads key/value heads (grouped-query when fewer than the query heads:
    each k/v head is repeated for its group before SDPA) and heads of head_dim."""

    def __init__(self, s, context, shape=None):
        super().__init__()
        d = s["in"]
        self.heads, self.kv, self.hd = (shape[0], shape[1], shape[2]) if shape else (s["heads"], s.get("kvHeads", s["heads"]), s.get("headDim", d // s["heads"]))
        inner, kv_width, bias = self.heads * self.hd, self.kv * self.hd, s["attentionBias"]
        if s["packedQkv"]:
            self.qkv = nn.Linear(d, inner + 2 * kv_width, bias=bias)
        else:
            self.q_proj = nn.Linear(d, inner, bias=bias)
            self.k_proj = nn.Linear(d, kv_width, bias=bias)
            self.v_proj = nn.Linear(d, kv_width, bias=bias)
        self.proj = nn.Linear(inner, d, bias=bias)
        self.packed = s["packedQkv"]
        self.rope = s["rope"]
        if self.rope:
            cos, sin = rope_tables(context, self.hd, s["ropeBase"])
            self.register_buffer("cos", cos, persistent=False)
            self.register_buffer("sin", sin, persistent=False)

    def layers(self):
        if self.packed:
            yield "attn_qkv", self.qkv
        else:
            yield "attn_q", self.q_proj
            yield "attn_k", self.k_proj
            yield "attn_v", self.v_proj
        yield "attn_proj", self.proj

    def forward(self, x, adapters=None):
        b, t, _ = x.shape
        h, kv, hd = self.heads, self.kv, self.hd
        if self.packed:
            q, k, v = adapted(self.qkv, "attn_qkv", x, adapters).split([h * hd, kv * hd, kv * hd], dim=2)
        else:
            q, k, v = adapted(self.q_proj, "attn_q", x, adapters), adapted(self.k_proj, "attn_k", x, adapters), adapted(self.v_proj, "attn_v", x, adapters)
        q = q.reshape(b, t, h, hd).transpose(1, 2)
        k = k.reshape(b, t, kv, hd).transpose(1, 2)
        v = v.reshape(b, t, kv, hd).transpose(1, 2)
        if self.rope:
            q, k = apply_rope(q, self.cos, self.sin), apply_rope(k, self.cos, self.sin)
        if kv != h:
            k, v = k.repeat_interleave(h // kv, dim=1), v.repeat_interleave(h // kv, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return adapted(self.proj, "attn_proj", y.transpose(1, 2).reshape(b, t, h * hd), adapters)


class FeedForward(nn.Module):
    def __init__(self, s, shape=None):
        super().__init__()
        d, h, bias = s["in"], (shape[3] if shape else s["ffnHidden"]), s["ffnBias"]
        self.fc = nn.Linear(d, h, bias=bias)
        self.gate = nn.Linear(d, h, bias=bias) if s["activation"] == "swiglu" else None
        self.proj = nn.Linear(h, d, bias=bias)
        self.act = None if self.gate is not None else activation(s["activation"])

    def layers(self):
        yield "mlp_fc", self.fc
        if self.gate is not None:
            yield "mlp_gate", self.gate
        yield "mlp_proj", self.proj

    def forward(self, x, adapters=None):
        if self.gate is not None:
            h = F.silu(adapted(self.gate, "mlp_gate", x, adapters)) * adapted(self.fc, "mlp_fc", x, adapters)
        else:
            h = self.act(adapted(self.fc, "mlp_fc", x, adapters))
        return adapted(self.proj, "mlp_proj", h, adapters)


class Block(nn.Module):
    """One block; with LoRA, one adapter set per application of the shared block."""

    def __init__(self, s, context, shape=None):
        super().__init__()
        self.ln_1 = norm(s["norm"], s["in"], s["normBias"])
        self.attn = Attention(s, context, shape)
        self.ln_2 = norm(s["norm"], s["in"], s["normBias"])
        self.mlp = FeedForward(s, shape)
        self.pre = s["preNorm"]
        rank = s.get("loraRank", 0)
        sets = s.get("repeat", 1) * s.get("blockRepeat", 1) if rank > 0 else 0
        layers = list(self.attn.layers()) + list(self.mlp.layers())
        self.lora = nn.ModuleList(nn.ModuleDict({n: Lora(l.in_features, l.out_features, rank) for n, l in layers}) for _ in range(sets))

    def forward(self, x, application=0):
        a = self.lora[application] if len(self.lora) else None
        if self.pre:
            x = x + self.attn(self.ln_1(x), a)
            return x + self.mlp(self.ln_2(x), a)
        x = self.ln_1(x + self.attn(x, a))
        return self.ln_2(x + self.mlp(x, a))


def sinusoids(context, dim):
    pos = torch.arange(context, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(context, dim)
    table[:, 0::2] = torch.sin(pos * div)
    table[:, 1::2] = torch.cos(pos * div)[:, : dim // 2]
    return table


class Twin(nn.Module):
    """The model a plan describes, step by step, as SlmGen's generated module runs it."""

    def __init__(self, model):
        super().__init__()
        self.context = model["context"]
        self.steps = []
        self.mods = nn.ModuleDict()
        for i, s in enumerate(model["architecture"]):
            kind, name = s["kind"], f"s{i}"
            if kind == "embedding":
                self.mods[name] = self.wte = nn.Embedding(s["vocab"], s["out"])
            elif kind == "positions" and s["type"] == "learned":
                self.mods[name] = nn.Embedding(s["rows"], s["out"])
            elif kind == "positions":
                self.register_buffer("sin_table", sinusoids(self.context, s["out"]), persistent=False)
            elif kind == "dense":
                self.mods[name] = nn.Linear(s["in"], s["out"], bias=s["bias"])
            elif kind == "transformer":
                shapes = s.get("shapes") or [None] * s["blocks"]
                self.mods[name] = nn.ModuleList(Block(s, self.context, shapes[i]) for i in range(s["blocks"]))
            elif kind == "final_norm":
                self.mods[name] = norm(s["norm"], s["in"], s["bias"])
            elif kind == "head" and s["type"] == "full":
                self.mods[name] = nn.Linear(s["in"], s["out"], bias=s["bias"])
            elif kind == "head" and s["type"] == "factorised":
                self.mods[name] = nn.Sequential(nn.Linear(s["in"], s["rank"], bias=False), nn.Linear(s["rank"], s["out"], bias=s["bias"]))
            self.steps.append((kind, name, s))

    def forward(self, idx):
        x = None
        for kind, name, s in self.steps:
            if kind == "embedding":
                x = self.mods[name](idx)
            elif kind == "positions" and s["type"] == "learned":
                x = x + self.mods[name](torch.arange(idx.shape[1], device=idx.device))
            elif kind == "positions":
                x = x + self.sin_table[: idx.shape[1]]
            elif kind == "flatten":
                x = x[:, -s["window"]:, :].reshape(x.shape[0], -1)
            elif kind == "dense":
                x = activation(s["activation"])(self.mods[name](x))
            elif kind == "transformer":
                again = s.get("blockRepeat", 1)
                for p in range(s["repeat"]):
                    for block in self.mods[name]:
                        for k in range(again):
                            x = block(x, p * again + k)
            elif kind == "final_norm":
                x = self.mods[name](x)
            elif kind == "head" and s["type"] == "tied":
                x = F.linear(x, self.wte.weight)
            elif kind == "head":
                x = self.mods[name](x)
        return x


def weight_bytes(twin, model):
    """Weight bytes at the declared precision, from the twin's tensors: without quantisation 4 bytes a
    parameter; with it, every quantised matrix packed at its bits plus one fp16 scale per row, the rest bf16."""
    bits = {}
    for kind, name, s in twin.steps:
        if kind == "embedding" and s.get("bits", 0):
            bits[id(twin.wte.weight)] = s["bits"]
        elif kind == "dense" and s.get("bits", 0):
            bits[id(twin.mods[name].weight)] = s["bits"]
        elif kind == "transformer":
            for block in twin.mods[name]:
                for _, layer in block.attn.layers():
                    if s.get("attentionBits", 0):
                        bits[id(layer.weight)] = s["attentionBits"]
                for _, layer in block.mlp.layers():
                    if s.get("mlpBits", 0):
                        bits[id(layer.weight)] = s["mlpBits"]
        elif kind == "head" and s["type"] != "tied" and s.get("bits", 0):
            for p in twin.mods[name].parameters():
                if p.dim() == 2:
                    bits[id(p)] = s["bits"]
    quantized = any(s.get(k, 0) for _, _, s in twin.steps for k in ("bits", "attentionBits", "mlpBits"))
    total = 0
    for p in twin.parameters():
        if not quantized:
            total += 4 * p.numel()
        elif id(p) in bits:
            total += (p.numel() * bits[id(p)] + 7) // 8 + 2 * p.shape[0]
        else:
            total += 2 * p.numel()
    return total


def count(model, device, batch):
    twin = Twin(model).to(device)
    params = sum(p.numel() for p in twin.parameters())
    wbytes = weight_bytes(twin, model)
    idx = torch.randint(0, model["vocab"], (batch, model["context"]), device=device)
    with FlopCounterMode(display=False) as fwd:
        logits = twin(idx)
        units = logits.shape[0] * (logits.shape[1] if logits.dim() == 3 else 1)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), torch.zeros(units, dtype=torch.long, device=device))
    with FlopCounterMode(display=False) as bwd:
        loss.backward()
    f, b = fwd.get_total_flops(), bwd.get_total_flops()
    ops = sorted({str(op) for op in fwd.get_flop_counts().get("Global", {})} | {str(op) for op in bwd.get_flop_counts().get("Global", {})})
    # Which attention ran on the math path (bmm ops under it): per block; a uniform stack's blocks all alike.
    math_blocks = []
    counts = fwd.get_flop_counts()
    for kind, name, step in twin.steps:
        if kind == "transformer":
            for i in range(step["blocks"]):
                under = [ops_ for key, ops_ in counts.items() if f"mods.{name}.{i}." in key + "."]
                if any("bmm" in str(op) for c in under for op in c):
                    math_blocks.append(f"{step['field']}[{i}]")
    return params, f // units, (f + b) // units, f % units == 0 and (f + b) % units == 0, ops, math_blocks, wbytes


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
            # Score FLOPs per block: a per-block row ("blocks[2].attn"), or a uniform stack's row over its blocks.
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
            expected_train = model["trainingFlopsPerToken"] - sum(score.get(b, 0) // 2 for b in math_stacks)
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
