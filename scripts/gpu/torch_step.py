#!/usr/bin/env python3
"""PyTorch's side of the training-step benchmark, on the model SlmGen itself exports (its PyTorch twin).

Usage: python3 torch_step.py EXPORT_DIR [MODES] [--batch 64] [--warm 10] [--iters 50] [--runs 3]
EXPORT_DIR is a Twins export (model.py, config.json, model.safetensors) — scripts/gpu/speed.sh exports the Bench
sample's model (nanoGPT's baby GPT with dropout 0). MODES, comma-separated (default: all):
  fp32         fp32 weights and compute, TF32 off
  bf16-pure    weights, gradients and AdamW state in bf16
  bf16-ac      fp32 weights, bf16 autocast
  compile      bf16 autocast + torch.compile + fused AdamW
  graphs       the same, compiled with mode="reduce-overhead" (CUDA graphs)
  ac-graph     bf16 autocast without torch.compile, the whole step (forward, loss, backward, fused capturable AdamW)
               captured by hand as one CUDA graph (torch.cuda.graph) and replayed: eager PyTorch's kernels at no host cost
Each mode: a fresh twin from the export, one fixed random batch, AdamW (lr 1e-3, betas (0.9, 0.99), weight
decay 0.1 on matrices), --warm steps, then --runs timed runs of --iters steps (forward, loss, backward, step,
zero_grad) between synchronisations; the median ms/step and tokens/s are printed, one JSON line per mode, with
the FLOPs FlopCounterMode counts for one step and the MFU against the bf16 matmul rate measured here.
--profile FILE.jsonl: for each mode not replayed as a graph, 5 more steps under torch.profiler, and one JSON line
per mode with the GPU time per step of each kernel class (matmul, attention, norm, softmax/loss, optimizer,
cast/copy, triton-fused, other elementwise) and the 25 costliest kernels — where torch.compile's step saves time.
"""
import argparse
import importlib.util
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode


def load(directory, dtype):
    spec = importlib.util.spec_from_file_location("slmgen_twin", os.path.join(directory, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    model = module.SlmGenModel(config)
    model.load_state_dict(module.load_safetensors(os.path.join(directory, "model.safetensors")))
    return model.to("cuda", dtype).train(), config


def optimizer(model, fused, capturable=False):
    matrices = [p for p in model.parameters() if p.dim() >= 2]
    others = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([dict(params=matrices, weight_decay=0.1), dict(params=others, weight_decay=0.0)], lr=1e-3, betas=(0.9, 0.99), fused=fused, capturable=capturable)


def peak_bf16():
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(20):
        a @ b
    torch.cuda.synchronize()
    return 20 * 2 * 8192 ** 3 / (time.perf_counter() - start)


from kernel_classes import classify  # noqa: E402  (scripts/gpu, beside this file)


def profile(mode, step, path, steps=5):
    from torch.profiler import ProfilerActivity, profile as torch_profile
    with torch_profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
    kernels = {}
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            kernels.setdefault(e.name, [0.0, 0])
            kernels[e.name][0] += e.device_time / 1e3 / steps
            kernels[e.name][1] += 1
    classes = {}
    for name, (ms, _) in kernels.items():
        classes[classify(name)] = classes.get(classify(name), 0.0) + ms
    top = sorted(kernels.items(), key=lambda kv: -kv[1][0])[:25]
    with open(path, "a") as f:
        f.write(json.dumps(dict(mode=mode, gpu_ms_per_step=sum(v[0] for v in kernels.values()), kernels_per_step=sum(v[1] for v in kernels.values()) / steps,
                                classes_ms=dict(sorted(classes.items(), key=lambda kv: -kv[1])),
                                top=[dict(name=n[:160], ms=v[0], launches=v[1] / steps, cls=classify(n)) for n, v in top])) + "\n")


def run(mode, directory, args):
    torch.manual_seed(0)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    dtype = torch.bfloat16 if mode == "bf16-pure" else torch.float32
    model, config = load(directory, dtype)
    vocab, context = config["vocab"], config["context"]
    data = torch.randint(0, vocab, (args.batch, context + 1), device="cuda")
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()
    autocast = mode in ("bf16-ac", "compile", "graphs", "ac-graph")
    forward = model
    if mode == "compile":
        forward = torch.compile(model)
    elif mode == "graphs":
        forward = torch.compile(model, mode="reduce-overhead")
    opt = optimizer(model, fused=mode in ("compile", "graphs", "bf16-ac", "fp32", "ac-graph"), capturable=mode == "ac-graph")

    def step():
        # Autocast's weight-cast cache must be off inside a captured graph.
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast, cache_enabled=mode != "ac-graph"):
            logits = forward(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1))  # padded rows kept
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    if mode == "ac-graph":
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            captured_loss = step()

        def replay():
            graph.replay()
            return captured_loss

        eager_step, step = step, replay
    for _ in range(args.warm):
        step()
    torch.cuda.synchronize()
    if args.profile and mode not in ("graphs", "ac-graph"):
        profile(mode, step, args.profile)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for _ in range(args.iters):
            loss = step()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) / args.iters * 1e3)
    return model, config, statistics.median(times), (max(times) - min(times)) / statistics.median(times), loss.item(), torch.cuda.max_memory_allocated()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("export")
    p.add_argument("modes", nargs="?", default="fp32,bf16-pure,bf16-ac,compile,graphs")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--warm", type=int, default=10)
    p.add_argument("--iters", type=int, default=50)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--profile", default="")
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    peak = peak_bf16()
    flops = None
    for mode in args.modes.split(","):
        model, config, ms, spread, loss, peak_bytes = run(mode, args.export, args)
        if flops is None:
            idx = torch.randint(0, config["vocab"], (args.batch, config["context"]), device="cuda")
            with FlopCounterMode(display=False) as counter:
                out = model.float()(idx)
                F.cross_entropy(out.reshape(-1, out.shape[-1]), idx.reshape(-1)).backward()
            flops = counter.get_total_flops()
            del out, idx
        tokens = args.batch * config["context"]
        print(json.dumps(dict(framework="pytorch", model=config["name"], mode=mode, ms_per_step=ms, spread=spread, tokens_per_second=tokens / ms * 1e3,
                              flops_per_step=flops, mfu=flops / (ms / 1e3) / peak, bf16_peak_tflops=peak / 1e12, final_loss=loss, peak_allocated_bytes=peak_bytes,
                              parameters=sum(q.numel() for q in model.parameters()), device=torch.cuda.get_device_name(), torch=torch.__version__)), flush=True)
        del model  # the next mode's peak memory is its own


if __name__ == "__main__":
    main()
