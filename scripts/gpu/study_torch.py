#!/usr/bin/env python3
"""The study's Tiny Shakespeare protocol written directly in PyTorch: a reference for samples/Study.

arXiv 2512.20877 describes its models in words; this script builds them the way a PyTorch notebook
most plausibly would (nn.TransformerEncoderLayer blocks, nn.Embedding positions, a final LayerNorm, the
head on the last position) and trains them with the study's protocol, so that SlmGen's figures can be
compared with PyTorch's under the same readings, and the readings themselves can be tested:

  --causal 1|0          causal mask in the encoder (the paper says "causal"; 0 = no mask at all)
  --emb-dropout 1|0     dropout on the embedding sum / the MLP's flattened input
  --ffn-dropout 1|0     nn.TransformerEncoderLayer's dropout inside the FFN (after the activation)
  --clone-init 1|0      nn.TransformerEncoder deep-copies one layer, so every layer starts equal (1);
                        0 re-initialises each layer independently (as SlmGen does)
  --amp bf16|fp32       autocast to bf16 (SlmGen trains bf16 over fp32 masters on the GPU) or plain fp32

Protocol: d_model 128, dropout 0.1, Adam lr 3e-4, batch 64; an epoch is N random windows of 128 characters
(the next character is the target); validation after each epoch on the first M validation windows
(stride 1); the best weights are restored and tested on the first M test windows.

Besides the NLL, it prints PyTorch FlopCounterMode's count for one training step of each model (last-position
loss), per window, to compare with SlmGen's compile-time count.

Usage: python3 study_torch.py --variant NAME [flags] [--runs ladder-,sweep-attention-heads/CharAttention] [--seeds 689,690]
       python3 study_torch.py --variant NAME --flops-only
Output: one JSON line per run on stdout (and --out FILE).
"""
import argparse
import copy
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

D = 128

# The SlmGen models these runs mirror: name -> (kind, shape)
MODELS = {
    "CharLinear": ("linear", dict(context=128)),
    "CharLinearCtx32": ("linear", dict(context=32)),
    "CharLinearCtx64": ("linear", dict(context=64)),
    "CharMlp": ("mlp", dict(context=128, hidden=256)),
    "CharMlpH128": ("mlp", dict(context=128, hidden=128)),
    "CharMlpH512": ("mlp", dict(context=128, hidden=512)),
    "CharAttention": ("transformer", dict(context=128, layers=1, heads=4, ffn=512)),
    "CharAttentionH1": ("transformer", dict(context=128, layers=1, heads=1, ffn=512)),
    "CharAttentionH2": ("transformer", dict(context=128, layers=1, heads=2, ffn=512)),
    "CharTransformer": ("transformer", dict(context=128, layers=3, heads=4, ffn=256)),
    "CharTransformerL2": ("transformer", dict(context=128, layers=2, heads=4, ffn=256)),
    "CharTransformerL4": ("transformer", dict(context=128, layers=4, heads=4, ffn=256)),
    "WordTransformerPtb": ("transformer", dict(context=64, layers=3, heads=4, ffn=256, vocab=9_999)),
    "WordTransformerWikiText2": ("transformer", dict(context=64, layers=3, heads=4, ffn=256, vocab=33_277)),
}

LADDER3, LADDER4, SWEEP = (3, 50_000, 10_000), (4, 50_000, 10_000), (2, 30_000, 5_000)

# run name (SlmGen experiment/model) -> (model, (epochs, windows per epoch, eval windows), study NLL)
RUNS = {
    "ladder-linear/CharLinear": ("CharLinear", LADDER3, 3.0549),
    "ladder-mlp/CharMlp": ("CharMlp", LADDER3, 2.3222),
    "ladder-attention/CharAttention": ("CharAttention", LADDER4, 2.1335),
    "ladder-transformer/CharTransformer": ("CharTransformer", LADDER4, 2.0058),
    "sweep-linear-context/CharLinearCtx32": ("CharLinearCtx32", SWEEP, 2.5135),
    "sweep-linear-context/CharLinearCtx64": ("CharLinearCtx64", SWEEP, 2.7006),
    "sweep-linear-context/CharLinear": ("CharLinear", SWEEP, 3.0496),
    "sweep-mlp-hidden/CharMlpH128": ("CharMlpH128", SWEEP, 2.5482),
    "sweep-mlp-hidden/CharMlp": ("CharMlp", SWEEP, 2.5115),
    "sweep-mlp-hidden/CharMlpH512": ("CharMlpH512", SWEEP, 2.5002),
    "sweep-attention-heads/CharAttentionH1": ("CharAttentionH1", SWEEP, 2.3482),
    "sweep-attention-heads/CharAttentionH2": ("CharAttentionH2", SWEEP, 2.4033),
    "sweep-attention-heads/CharAttention": ("CharAttention", SWEEP, 2.3055),
    "sweep-transformer-layers/CharTransformerL2": ("CharTransformerL2", SWEEP, 2.3034),
    "sweep-transformer-layers/CharTransformer": ("CharTransformer", SWEEP, 2.2795),
    "sweep-transformer-layers/CharTransformerL4": ("CharTransformerL4", SWEEP, 2.3078),
}


def load_splits(root):
    with open(os.path.join(root, "tinyshakespeare", "input.txt"), encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    # The study's 80/10/10 split, cut at the paragraph break before each mark (as SlmGen's Corpora).
    a = text.rfind("\n\n", 0, int(0.8 * len(text)))
    b = text.rfind("\n\n", 0, int(0.9 * len(text)))
    parts = text[: a + 1], text[a + 2 : b + 1], text[b + 2 :]
    sizes = tuple(len(p) for p in parts)
    assert sizes == (892_117, 111_669, 111_606), sizes
    enc = lambda s: torch.tensor([index[c] for c in s], dtype=torch.long)
    return len(chars), [enc(p) for p in parts]


class Linear(nn.Module):
    def __init__(self, vocab, context, dropout, emb_dropout):
        super().__init__()
        self.emb = nn.Embedding(vocab, D)
        self.drop = nn.Dropout(dropout) if emb_dropout else nn.Identity()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(context * D, vocab))

    def forward(self, x):
        return self.net(self.drop(self.emb(x)))


class Mlp(nn.Module):
    def __init__(self, vocab, context, hidden, dropout, emb_dropout):
        super().__init__()
        T = context
        self.emb = nn.Embedding(vocab, D)
        self.drop = nn.Dropout(dropout) if emb_dropout else nn.Identity()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(T * D, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, vocab))

    def forward(self, x):
        return self.net(self.drop(self.emb(x)))


class Transformer(nn.Module):
    def __init__(self, vocab, context, layers, heads, ffn, dropout, emb_dropout, causal, ffn_dropout, clone_init):
        super().__init__()
        T = context
        self.tok = nn.Embedding(vocab, D)
        self.pos = nn.Embedding(T, D)
        self.drop = nn.Dropout(dropout) if emb_dropout else nn.Identity()
        layer = nn.TransformerEncoderLayer(D, heads, dim_feedforward=ffn, dropout=dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        for blk in self.encoder.layers:
            if not ffn_dropout:
                blk.dropout = nn.Identity()
            if not clone_init:
                for m in blk.modules():
                    if isinstance(m, (nn.Linear, nn.LayerNorm)):
                        m.reset_parameters()
                blk.self_attn._reset_parameters()
        self.ln = nn.LayerNorm(D)
        self.head = nn.Linear(D, vocab)
        self.causal = causal
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(T), persistent=False)

    def forward(self, x):
        h = self.drop(self.tok(x) + self.pos(torch.arange(x.shape[1], device=x.device)))
        if self.causal:
            h = self.encoder(h, mask=self.mask, is_causal=True)
        else:
            h = self.encoder(h)
        return self.head(self.ln(h[:, -1]))


def windows(data, starts, T):
    idx = starts[:, None] + torch.arange(T + 1)
    w = data[idx]
    return w[:, :T], w[:, T]


@torch.no_grad()
def evaluate(model, data, count, amp, device, T, batch=1000, starts_all=None):
    """Mean NLL of the next token after windows: the first `count` (stride 1), or the windows at `starts_all`."""
    model.eval()
    if starts_all is None:
        starts_all = torch.arange(count)
    total, n = 0.0, 0
    for s in range(0, len(starts_all), batch):
        starts = starts_all[s : s + batch]
        x, y = windows(data, starts, T)
        x, y = x.to(device), y.to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            logits = model(x)
        total += F.cross_entropy(logits.float(), y, reduction="sum").item()
        n += len(starts)
    model.train()
    return total / n


def count_flops(model, vocab, T, device, batch=64):
    x = torch.randint(0, vocab, (batch, T), device=device)
    y = torch.randint(0, vocab, (batch,), device=device)
    model.train()
    with FlopCounterMode(display=False) as fwd:
        loss = F.cross_entropy(model(x), y)
    with FlopCounterMode(display=False) as bwd:
        loss.backward()
    model.zero_grad(set_to_none=True)
    return fwd.get_total_flops() // batch, (fwd.get_total_flops() + bwd.get_total_flops()) // batch


def build(model_name, args, vocab):
    kind, shape = MODELS[model_name]
    vocab = shape.get("vocab", vocab)
    if kind == "linear":
        return Linear(vocab, shape["context"], 0.1, args.emb_dropout), vocab, shape["context"]
    if kind == "mlp":
        return Mlp(vocab, shape["context"], shape["hidden"], 0.1, args.emb_dropout), vocab, shape["context"]
    return (Transformer(vocab, shape["context"], shape["layers"], shape["heads"], shape["ffn"], 0.1, args.emb_dropout,
                        args.causal, args.ffn_dropout, args.clone_init), vocab, shape["context"])


def flops_record(model_name, args, vocab, device):
    torch.manual_seed(0)
    model, vocab, T = build(model_name, args, vocab)
    model.to(device)
    fwd, train = count_flops(model, vocab, T, device)
    return dict(kind="flops", model=model_name, params=sum(p.numel() for p in model.parameters()), context=T,
                flops_fwd_per_window=fwd, flops_train_per_window=train, torch=torch.__version__)


def run(name, seed, args, vocab, splits, device):
    model_name, (epochs, per_epoch, eval_windows), study = RUNS[name]
    torch.manual_seed(seed)
    model, vocab, T = build(model_name, args, vocab)
    model.to(device)
    params = sum(p.numel() for p in model.parameters())
    fwd_flops, train_flops = count_flops(model, vocab, T, device)
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    train, val, test = splits
    gen = torch.Generator().manual_seed(seed)
    amp = args.amp == "bf16"
    best, best_state, steps = math.inf, None, 0
    t0 = time.time()
    curve = []
    for epoch in range(epochs):
        starts = torch.randint(0, len(train) - T, (per_epoch,), generator=gen)
        for s in range(0, per_epoch, 64):
            x, y = windows(train, starts[s : s + 64], T)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
        v = evaluate(model, val, eval_windows, amp, device, T)
        curve.append(round(v, 4))
        if v < best:
            best, best_state = v, copy.deepcopy(model.state_dict())
    seconds = time.time() - t0
    model.load_state_dict(best_state)
    test_nll = evaluate(model, test, eval_windows, amp, device, T)
    extra = {}
    if args.extra_evals:
        # How much the figure depends on which test windows are read: every window of the test split, and as many
        # random windows as the protocol's (seeded, the same for every run).
        extra["test_nll_every_window"] = round(evaluate(model, test, len(test) - T, amp, device, T), 4)
        random_starts = torch.randint(0, len(test) - T, (eval_windows,), generator=torch.Generator().manual_seed(0))
        extra["test_nll_random_windows"] = round(evaluate(model, test, 0, amp, device, T, starts_all=random_starts), 4)
    experiment, _ = name.split("/")
    return dict(kind="run", variant=args.variant, experiment=experiment, model=model_name, seed=seed,
                test_nll=round(test_nll, 4), best_val=round(best, 4), val_curve=curve, study_nll=study, params=params,
                steps=steps, flops_fwd_per_window=fwd_flops, flops_train_per_window=train_flops,
                seconds=round(seconds, 1), causal=args.causal, emb_dropout=args.emb_dropout,
                ffn_dropout=args.ffn_dropout, clone_init=args.clone_init, amp=args.amp, torch=torch.__version__,
                device=torch.cuda.get_device_name() if device == "cuda" else "cpu", **extra)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--variant", required=True)
    p.add_argument("--runs", default="all", help="comma-separated experiment/model names, or prefixes of them; all = every run")
    p.add_argument("--flops-only", action="store_true", help="print FlopCounterMode's count of every model and stop")
    p.add_argument("--extra-evals", action="store_true", help="also test on every test window and on random test windows")
    p.add_argument("--seeds", default="689,690,691")
    p.add_argument("--causal", type=int, default=1)
    p.add_argument("--emb-dropout", type=int, default=0)
    p.add_argument("--ffn-dropout", type=int, default=1)
    p.add_argument("--clone-init", type=int, default=1)
    p.add_argument("--amp", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--data", default="data")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    vocab, splits = load_splits(args.data)
    emit = lambda record: emit_line(json.dumps(record), args.out)
    if args.flops_only:
        for model_name in MODELS:
            emit(flops_record(model_name, args, vocab, device))
        return
    wanted = [r for r in RUNS if args.runs == "all" or any(r.startswith(p) for p in args.runs.split(","))]
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name in wanted:
            try:
                record = run(name, seed, args, vocab, splits, device)
            except Exception as e:  # one failed run must not cost the others
                record = dict(variant=args.variant, run=name, seed=seed, error=repr(e))
            emit(record)


def emit_line(line, out):
    print(line, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
