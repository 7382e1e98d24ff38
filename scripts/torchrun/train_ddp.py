#!/usr/bin/env python3
"""Train an SlmGen model's PyTorch twin with DistributedDataParallel (torchrun), then hand it back to SlmGen.

    torchrun --standalone --nproc_per_node=2 scripts/torchrun/train_ddp.py \
        --twin export/BabyGpt --data data/tokens.safetensors --steps 1000 --out runs/ddp

--twin is a folder SlmGen's export wrote (model.py, config.json, model.safetensors: the starting weights);
--data is the token splits SlmGen wrote (tokens.safetensors: train / validation / test, int64). Each process
draws its own random windows (seed + rank), the gradients are averaged by DDP, AdamW (fused) runs the
schedule SlmGen's trainer runs (linear warm-up, cosine to --min-lr; weight decay on matrices only; gradient
clipping), in bf16 autocast. At the end rank 0 writes model.safetensors (fp32, the twin's parameter names,
which are SlmGen's — SlmGen.Interop.PyTorchTwin.ImportWeights loads it) and result.json: the validation NLL
over the whole split (non-overlapping windows, every position scored, fp32: SlmGen's EvalProtocol.Sequential),
steps, processes and training tokens per second.
"""
import argparse
import importlib.util
import json
import math
import os
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel


def load_twin(directory):
    spec = importlib.util.spec_from_file_location("slmgen_twin", os.path.join(directory, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(os.path.join(directory, "config.json")) as f:
        model = module.SlmGenModel(json.load(f))
    model.load_state_dict(module.load_safetensors(os.path.join(directory, "model.safetensors")), strict=True)
    return model


def learning_rate(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = min(1.0, max(0.0, (step - args.warmup) / max(1, args.steps - args.warmup)))
    return args.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (args.lr - args.min_lr)


@torch.no_grad()
def evaluate(model, tokens, context, device, batch=32):
    """Mean NLL over non-overlapping windows of the whole split, every position scored, fp32."""
    model.eval()
    starts = list(range(0, len(tokens) - context, context))
    total, scored = torch.zeros((), dtype=torch.float64, device=device), 0
    for i in range(0, len(starts), batch):
        chunk = torch.tensor(starts[i:i + batch])
        offsets = chunk.unsqueeze(1) + torch.arange(context + 1)
        windows = tokens[offsets].to(device)
        logits = model(windows[:, :-1])
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), windows[:, 1:].reshape(-1), reduction="sum").double()
        scored += windows[:, 1:].numel()
    model.train()
    return (total / scored).item(), scored


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--twin", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=64, help="windows per process and step")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1337)
    args = p.parse_args()

    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group("nccl")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local) if torch.cuda.is_available() else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    from safetensors.torch import load_file, save_file

    data = load_file(args.data)
    train, validation = data["train"], data["validation"]
    model = load_twin(args.twin).to(device)
    context = model.context
    raw = model
    if distributed:
        model = DistributedDataParallel(model, device_ids=[local] if device.type == "cuda" else None)
    matrices = [q for q in raw.parameters() if q.dim() >= 2]
    others = [q for q in raw.parameters() if q.dim() < 2]
    optimizer = torch.optim.AdamW([dict(params=matrices, weight_decay=args.weight_decay), dict(params=others, weight_decay=0.0)],
                                  lr=args.lr, betas=(0.9, 0.99), eps=1e-8, fused=device.type == "cuda")
    generator = torch.Generator().manual_seed(args.seed + rank)
    windows = len(train) - context - 1
    timed_from, timed_start = 10, None
    model.train()
    for step in range(args.steps):
        if step == timed_from:
            if device.type == "cuda":
                torch.cuda.synchronize()
            timed_start = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args)
        starts = torch.randint(0, windows + 1, (args.batch,), generator=generator)
        batch = train[starts.unsqueeze(1) + torch.arange(context + 1)].to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), batch[:, 1:].reshape(-1))
        loss.backward()
        if args.clip > 0:
            torch.nn.utils.clip_grad_norm_(raw.parameters(), args.clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - timed_start if timed_start else float("nan")
    tokens = (args.steps - timed_from) * args.batch * context * world

    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        save_file({k: v.detach().float().contiguous().cpu() for k, v in raw.state_dict().items()}, os.path.join(args.out, "model.safetensors"), metadata={"format": "pt"})
        nll, scored = evaluate(raw, validation, context, device)
        result = dict(twin=os.path.basename(os.path.normpath(args.twin)), processes=world, steps=args.steps, batch_per_process=args.batch,
                      final_train_loss=loss.item(), validation_nll=nll, validation_tokens=scored, seconds_timed=seconds,
                      tokens_per_second=tokens / seconds, device=torch.cuda.get_device_name() if device.type == "cuda" else "cpu", torch=torch.__version__)
        with open(os.path.join(args.out, "result.json"), "w") as f:
            json.dump(result, f)
        print(json.dumps(result), flush=True)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
