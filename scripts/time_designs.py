#!/usr/bin/env python3
"""Random valid designs for checking the time model (issue 24): YAML specs spanning widths, depths, vocabularies,
contexts and the compact-model levers, drawn independently of anything the time model was tuned on.
Usage: time_designs.py N SEED OUTDIR [--scale cpu|gpu]"""
import random, sys, pathlib

n, seed, out = int(sys.argv[1]), int(sys.argv[2]), pathlib.Path(sys.argv[3])
scale = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--scale" else "gpu"
rng = random.Random(seed)
out.mkdir(parents=True, exist_ok=True)
if scale == "cpu":
    widths, depths, vocabs, contexts = [32, 48, 64, 96, 128, 192, 256], range(1, 7), [65, 256, 512, 1024, 4096, 8192], [32, 64, 128, 256]
else:
    widths, depths, vocabs, contexts = [32, 64, 128, 192, 256, 384, 512, 768, 1024], range(1, 25), [65, 256, 1024, 4096, 8192, 16384, 32768, 50257], [32, 64, 128, 256, 512, 1024, 2048]

for i in range(n):
    width = rng.choice(widths)
    heads = rng.choice([h for h in (1, 2, 4, 6, 8, 12, 16) if width % h == 0 and width // h >= 8])
    kv = rng.choice([k for k in (1, 2, 4, heads) if heads % k == 0])
    depth = rng.choice(list(depths))
    act = rng.choice(["gelu", "swiglu", "relu2", "silu"])
    norm = rng.choice(["layernorm", "rmsnorm"])
    positions = rng.choice(["learned", "rope", "none"])
    block = [f"layers: {depth}", f"heads: {heads}", f"kv_heads: {kv}", f"ffn: {rng.choice([2, 3, 4])}x", f"activation: {act}", f"norm: {norm}"]
    if rng.random() < 0.3:
        block.append("attention_bias: false")
        block.append("ffn_bias: false")
    if rng.random() < 0.2:
        block.append("qk_norm: true")
    if depth > 1 and rng.random() < 0.15:
        block.append(f"block_repeat: 2")
        if rng.random() < 0.5:
            block.append("lora_rank: 8")
    vocab = rng.choice(vocabs)
    head = rng.choice(["tied", "untied"])
    if rng.random() < 0.1 and vocab >= 1024:
        head = "{ groups: 32 }"
    lines = [f"name: T{seed}x{i}", f"vocab: {vocab}", f"context: {rng.choice(contexts)}", f"embedding: {width}", f"positions: {positions}",
             "layers:", "  - transformer: { " + ", ".join(block) + " }", f"final_norm: {norm}", f"head: {head}"]
    (out / f"t{seed}x{i}.yaml").write_text("\n".join(lines) + "\n")
print(f"{n} designs in {out}")
