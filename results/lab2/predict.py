#!/usr/bin/env python3
"""The second lab's predictions from build-time constants (results/lab2/PROTOCOL.md), written before any run.

Regenerate (no GPU, no training; the dry runs compile every design with SlmGen's generator):
    for e in q1-b1-tune q1-b2-tune q2b-tune q3-b1-tune q3-b2-tune q4-tune; do slmgen sweep results/lab2/experiments/$e.yaml --dry-run; cp results/lab2/runs/$e/results.jsonl results/lab2/predictions/$e.jsonl; done
    for t in q2-grid q4-plans; do slmgen sweep results/lab2/templates/$t.yaml --dry-run; cp results/lab2/runs/$t/results.jsonl results/lab2/predictions/$t.jsonl; done
    slmgen tokenizer stats --tokenizer bytes --tokenizer bpe:data/tokenizers/lab/bpe-wikitext2-1024 --tokenizer bpe:data/tokenizers/lab/bpe-wikitext2-4096 --data wikitext2 --json results/lab2/predictions/tokenizer-stats.jsonl
    python3 results/lab2/predict.py > results/lab2/PREDICTIONS.md
Standard library only.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 32


def records(name):
    with open(os.path.join(HERE, "predictions", name + ".jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def designs(name):
    """One record per design (the tuning sweep's learning rates collapsed)."""
    seen, out = set(), []
    for r in records(name):
        key = tuple(sorted((k, v) for k, v in r["values"].items() if k != "train.lr"))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def stats():
    s = {}
    for r in records("tokenizer-stats"):
        s[(r["tokenizer"], r["split"])] = r
    return s


def tokenizer_name(values):
    t = values.get("tokenizer", "bpe-wikitext2-1024")
    return os.path.basename(t)


def head_flops(c):
    return sum(x["trainingFlopsPerToken"] for x in c["components"] if x["kind"] == "head")


def n(x):
    return f"{x:,.0f}"


def main():
    st = stats()
    print("# The compact-model lab, second edition: what the constants predict before any run")
    print()
    print("Written 2026-12-05 from SlmGen's build-time constants alone (`python3 results/lab2/predict.py`; the dry runs it reads are")
    print("committed in `predictions/`), before any training run of this lab, per [PROTOCOL.md](PROTOCOL.md). Time predictions need")
    print("the H200 profile of call A and are added as a dated section after it and before call B. Each prediction below says")
    print("what would falsify it.")
    print()

    # Q1
    print("## Q1 — vocabulary × context × width at equal training FLOPs")
    print()
    print("Tokens per byte are the training split's (`predictions/tokenizer-stats.jsonl`); epochs = tokens trained / training tokens;")
    print("steps = budget / (training FLOPs per token × 32 × context), as the sweep computes them.")
    print()
    print("| tokenizer | V | context | width | parameters | train FLOPs / token | train FLOPs / byte | head share of FLOPs | context in bytes | steps B1 | epochs B1 | steps B2 | epochs B2 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    b2 = {tuple(sorted((k, v) for k, v in r["values"].items() if k != "train.lr")): r for r in designs("q1-b2-tune")}
    q1 = []
    for r in designs("q1-b1-tune"):
        v, c = r["values"], r["costs"]
        tok = tokenizer_name(v)
        train = st[(tok, "train")]
        bpt = train["bytes_per_token"]
        ctx = int(v["context"])
        key = tuple(sorted((k, x) for k, x in v.items() if k != "train.lr"))
        s1, s2 = int(r["train"]["steps"]), int(b2[key]["train"]["steps"])
        e1 = s1 * BATCH * ctx / train["Tokens"]
        e2 = s2 * BATCH * ctx / train["Tokens"]
        q1.append((tok, ctx, int(v["embedding"]), c, bpt, s1, s2, e1, e2))
        print(f"| {tok} | {n(c['vocab'])} | {ctx} | {v['embedding']} | {n(c['parameters'])} | {n(c['trainingFlopsPerToken'])} | "
              f"{n(c['trainingFlopsPerToken'] / bpt)} | {100 * head_flops(c) / c['trainingFlopsPerToken']:.1f} % | {ctx * bpt:,.0f} | "
              f"{n(s1)} | {e1:.2f} | {n(s2)} | {e2:.2f} |")
    print()
    narrow = [x for x in q1 if x[2] == 128]
    wide = [x for x in q1 if x[2] == 256]
    print("Predictions (bits per byte on the whole test split, sliding score):")
    print()
    print(f"1. **Width at B1: 128 beats 256** for every tokenizer and context. At 1e14 the width-256 designs see "
          f"{min(x[7] for x in wide):.2f}–{max(x[7] for x in wide):.2f} epochs against {min(x[7] for x in narrow):.2f}–{max(x[7] for x in narrow):.2f} "
          "for width 128: under-trained, not under-sized. At B2 the gap narrows to under 0.03 bits/byte or reverses for the BPEs. "
          "Falsified if a width-256 point beats its width-128 twin at B1 with an interval excluding 0.")
    print("2. **Tokenizer: BPE-4096 < BPE-1024 < bytes** at both budgets and both widths (the first lab: 4,096 within 0.006 "
          "bits/char of the best at 3e13, 0.012 behind 8,192 at 1.2e14; bytes 0.26 behind). Bytes pay most: the same FLOPs "
          "buy 2.6–3.5× fewer bytes of text. Falsified if bytes is within 0.05 bits/byte of a BPE at B2.")
    print("3. **Context: 256 beats 64 by more for bytes (> 0.15 bits/byte) than for BPE-4096 (< 0.08)** — 64 bytes of context "
          "is a dozen words, 64 BPE-4096 tokens about 227 bytes. Falsified by the opposite ordering of the two gaps.")
    print("4. **The best point:** BPE-4096, context 256, width 128 at B1 (1.40–1.50 bits/byte); BPE-4096, context 256, "
          "width 256 at B2 (1.28–1.38). Falsified if another point is best with an interval excluding 0 against it.")
    print("5. **The learning rate differs by design** (the first lab's re-run): wider designs choose a smaller rate "
          "(width 256: 1e-3 or 2e-3; width 128: 2e-3 or 4e-3). Falsified if every design chooses the same rate.")
    print()

    # Q2
    print("## Q2 — the head's share of FLOPs (widths 128–768, vocabularies to 32k; context 256, 4 blocks)")
    print()
    grid = records("q2-grid")
    widths = sorted({int(r["values"]["embedding"]) for r in grid})
    vocabs = sorted({int(r["values"]["vocab"]) for r in grid})
    print("| width \\ V | " + " | ".join(n(v) for v in vocabs) + " |")
    print("|---:|" + "---:|" * len(vocabs))
    share = {}
    for w in widths:
        cells = []
        for v in vocabs:
            r = next(r for r in grid if int(r["values"]["embedding"]) == w and int(r["values"]["vocab"]) == v)
            s = head_flops(r["costs"]) / r["costs"]["trainingFlopsPerToken"]
            share[(w, v)] = s
            cells.append(f"{100 * s:.1f} %")
        print(f"| {w} | " + " | ".join(cells) + " |")
    print()
    print(f"Predictions: the head's share of **FLOPs** runs from {100 * share[(768, 1024)]:.1f} % (width 768, V 1,024) to "
          f"{100 * share[(128, 32768)]:.1f} % (width 128, V 32,768). Its share of **measured step time** is lower than its FLOP "
          "share wherever the body is launch-bound (width ≤ 256 eager: the first lab measured 4 % of time at 47 % of FLOPs) "
          "and approaches the FLOP share for width ≥ 512 with CUDA graphs (GPT-2-small: 26.5 % of FLOPs, 30 % of time). "
          "The time model's predictions for every cell follow the H200 calibration (call A). The conditioned two-level head "
          "(64 groups) cuts the head's FLOPs to 6·d·(64 + V/64) per token; at B2 it is predicted to trail the full head by "
          "less than 0.05 bits/byte at V = 16,384 with frequency-ordered groups and by more with merge-ordered groups — "
          "falsified by the reverse order (needs the lever, PROTOCOL.md §8).")
    print()
    print("### Q2b — the conditioned two-level head at B2 (width 256, context 256, 4 blocks; PROTOCOL.md amendment of 2026-12-05)")
    print()
    print("| V | head | group order | parameters | train FLOPs / token | head share of train FLOPs | forward FLOPs / token (full distribution) | steps B2 | artifact bytes (fp32) |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for r in designs("q2b-tune"):
        c, v = r["costs"], r["values"]
        grouped = v["head"] != "tied"
        order = ("frequency" if v["tokenizer"].endswith("-freq") else "merges") if grouped else "–"
        head = "conditioned, 64 groups" if grouped else "full (tied)"
        print(f"| {n(int(v['vocab']))} | {head} | {order} | {n(c['parameters'])} | {n(c['trainingFlopsPerToken'])} | "
              f"{100 * head_flops(c) / c['trainingFlopsPerToken']:.1f} % | {n(c['forwardFlopsPerToken'])} | {n(int(r['train']['steps']))} | {n(c['artifactBytes'])} |")
    print()
    print("Predictions at B2 (test bits per byte, final weights, 5 seeds). The first lab's unconditioned 64-group head in "
          "merge order trailed the best full head by 0.29 bits/char on WikiText-2 (1.924 against 1.638; results/lab/ANALYSIS.md). "
          "At equal training FLOPs the two-level head buys 1.2× (V 4,096) and 1.8× (V 16,384) the steps, but scores each token "
          "through a 64-way and a 64- or 256-way softmax. (1) **Frequency order beats merge order** for the conditioned head at "
          "both vocabularies (a group of like-frequency tokens has a flatter within-group prior); falsified by merge order ahead "
          "with an interval excluding 0. (2) **The full head still wins at both vocabularies**, but the frequency-ordered "
          "conditioned head at V 16,384 is within 0.15 bits/byte of it (half the first lab's gap); falsified by a gap of 0.15 or "
          "more with an interval excluding 0.15, or by the two-level head ahead.")
    print()

    # Q3
    print("## Q3 — sharing (width 192, context 256, BPE-1024)")
    print()
    print("| stored blocks × repeat × block repeat, LoRA rank | parameters | train FLOPs / token | steps B1 | steps B2 | fp32 weights | artifact bytes (as declared: fp32) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    q3b2 = {tuple(sorted((k, v) for k, v in r["values"].items() if k != "train.lr")): r for r in designs("q3-b2-tune")}
    base3 = None
    for r in designs("q3-b1-tune"):
        v, c = r["values"], r["costs"]
        key = tuple(sorted((k, x) for k, x in v.items() if k != "train.lr"))
        label = f"{v['layers.0.transformer.layers']} × {v['layers.0.transformer.repeat']} × {v['layers.0.transformer.block_repeat']}, r {v['layers.0.transformer.lora_rank']}"
        base3 = base3 or c
        print(f"| {label} | {n(c['parameters'])} | {n(c['trainingFlopsPerToken'])} | {n(int(r['train']['steps']))} | {n(int(q3b2[key]['train']['steps']))} | {n(c['weightBytesFp32'])} | {n(c['artifactBytes'])} |")
    print()
    print("Predictions: every shared design applies 8 blocks, so its FLOPs per token — and at equal FLOPs its steps and its "
          "decode latency — equal the unshared base's (LoRA adds 2–9 %); sharing buys bytes, not time. **At equal FLOPs the "
          "unshared base wins** at B1 and B2 (more parameters for the same compute), by 0.02–0.06 bits/byte over 4 × 2; "
          "block-wise repeat (MobileLLM) ties whole-stack repeat (|Δ| < 0.02); rank-16 LoRA recovers at least a third of the "
          "gap of 2 × 4. On Tiny Shakespeare (data-bound, many epochs) the gap shrinks or reverses. Falsified if a shared "
          "design beats the base on WikiText-2 with an interval excluding 0.")
    print()

    # Q4
    print("## Q4 — stabilisation under aggressive compression (base: BPE-1024, context 256, width 256, B2)")
    print()
    print("Exact artifact bytes the build states for each plan (`predictions/q4-plans.jsonl`; groups of 64, 8-bit embedding, "
          "the rest bf16, before the tokenizer and compression):")
    print()
    print("| plan | QK-norm | parameters | artifact bytes |")
    print("|---|---|---:|---:|")
    for r in records("q4-plans"):
        v, c = r["values"], r["costs"]
        print(f"| {v['quantization']} | {v['layers.0.transformer.qk_norm']} | {n(c['parameters'])} | {n(c['artifactBytes'])} |")
    print()
    q4 = designs("q4-tune")
    print(f"Every stabiliser keeps the base's {n(q4[0]['costs']['trainingFlopsPerToken'])} training FLOPs per token to within "
          f"{max(abs(r['costs']['trainingFlopsPerToken'] - q4[0]['costs']['trainingFlopsPerToken']) for r in q4) / q4[0]['costs']['trainingFlopsPerToken'] * 100:.2f} % "
          "(QK-norm's and the soft-cap's elementwise work is not in FlopCounterMode's count; z-loss and EMA are outside the model), "
          "so their cost is time, measured alone in call A. Predictions after the round trip:")
    print()
    print("1. **4 bits:** every quantiser within 0.03 bits/byte of the fp32 model; GPTQ ≤ MSE ≤ absmax.")
    print("2. **3 bits:** QAT from the start and GPTQ within 0.03 of each other; absmax post-training worst (+0.05 or more; "
          "the CPU stand-in of results/artifact: absmax +0.052, MSE +0.014, GPTQ +0.020 bits/char).")
    print("3. **2 bits:** only QAT from the start stays within 0.15 of fp32; late QAT and every post-training quantiser lose "
          "more than 0.3 (the CPU stand-in: late QAT collapsed).")
    print("4. **Stabilisers:** QK-norm and the logit soft-cap reduce the 2- and 3-bit losses (> 0.02 bits/byte gained at 2 bits), "
          "EMA helps post-training quantisers most (smoother weights), z-loss changes nothing detectable. Ranked by bits/byte "
          "gained per % time added at 2 bits: soft-cap, QK-norm, EMA, z-loss. Falsified by a stabiliser whose interval at 2 "
          "bits is below 0 (it hurts) or a ranking with a different first place.")
    print()
    print("### Q4's grid arm (added 2026-12-05, session 7, before any run; PROTOCOL.md amendment)")
    print()
    print("The stretched plans' exact bytes are in the table above (`grid: stretched`: the same codes and scales as the "
          "symmetric plan of the same bits; the architecture JSON's grid entry adds its few bytes). At 2 bits the stretched "
          "grid (four levels instead of three) cuts the after-training (MSE) round-trip loss by at least half and gains less "
          "at 3 bits (eight levels instead of seven); under QAT from the start both grids land within 0.02 bits/byte of each "
          "other at 2 and 3 bits. Bytes before compression and time are the symmetric grid's (same bits per code, same "
          "kernels). Falsified by an MSE interval at 2 bits that includes 0, or "
          "a QAT difference beyond 0.02 with its interval excluding 0.")
    print()

    # Contest
    print("## Q6 — the capped contest (≤ 4,000,000 artifact bytes, ≤ 5 minutes of H200)")
    print()
    print("The cap allows about 7 M parameters at 4 bits in groups of 64 (4.25 bits a weight) with an 8-bit embedding, or "
          "about 9.5 M at 3 bits; five minutes at the first lab's ~14 ms a step for 1 M-parameter models buys ~21,000 "
          "launch-bound steps, so the winner is a 4–7 M-parameter model trained with QAT from the start at 4 bits on "
          "BPE-4096 (or 8,192 with the tied 8-bit embedding), with CUDA graphs, for 15–40 epochs of WikiText-2 — data-bound, "
          "so regularisation (EMA, weight decay) matters more than at B2. Predicted score: 1.20–1.30 bits per byte after the "
          "round trip. Falsified outside that range.")


if __name__ == "__main__":
    main()
