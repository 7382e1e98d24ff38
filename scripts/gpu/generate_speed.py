#!/usr/bin/env python3
"""Hugging Face `generate` beside SlmGen's KV-cache decoding, on the same GPU and the same weights.

Usage: python3 generate_speed.py EXPORT_DIR SLMGEN.jsonl [--tokens 255] [--repeats 3] [--out FILE.jsonl]
EXPORT_DIR is a Twins export of the model (its hf/ folder is loaded with AutoModelForCausalLM, fp32, SDPA);
SLMGEN.jsonl is what `Twins generate` wrote for the same weights. Greedy decoding of --tokens tokens after
token 0, with and without transformers' cache, the fastest of the repeats; the generated tokens are compared
with SlmGen's.
"""
import argparse
import json
import os
import time

import torch
from transformers import AutoModelForCausalLM


def main():
    p = argparse.ArgumentParser()
    p.add_argument("export")
    p.add_argument("slmgen")
    p.add_argument("--tokens", type=int, default=255)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out")
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    slmgen = [json.loads(line) for line in open(args.slmgen)]
    reference = slmgen[0]["generated"]
    model = AutoModelForCausalLM.from_pretrained(os.path.join(args.export, "hf"), dtype=torch.float32, attn_implementation="sdpa").cuda().eval()
    idx = torch.zeros((1, 1), dtype=torch.long, device="cuda")
    records = []
    for use_cache in (False, True):
        with torch.no_grad():
            model.generate(idx, max_new_tokens=8, min_new_tokens=8, do_sample=False, use_cache=use_cache, pad_token_id=0)
            best, out = float("inf"), None
            for _ in range(args.repeats):
                torch.cuda.synchronize()
                start = time.perf_counter()
                out = model.generate(idx, max_new_tokens=args.tokens, min_new_tokens=args.tokens, do_sample=False, use_cache=use_cache, pad_token_id=0)
                torch.cuda.synchronize()
                best = min(best, time.perf_counter() - start)
        tokens = out[0, 1:].tolist()
        same = sum(a == b for a, b in zip(tokens, reference))
        records.append(dict(framework="transformers", cache=use_cache, tokens=args.tokens, seconds=best, tokens_per_second=args.tokens / best,
                            tokens_equal_to_slmgen=same, device=torch.cuda.get_device_name(), torch=torch.__version__))
    for r in slmgen:
        r = dict(r)
        r.pop("generated", None)
        records.append(dict(framework="slmgen", **r))
    for r in records:
        print(json.dumps(r))
    if args.out:
        with open(args.out, "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
