#!/usr/bin/env python3
"""Build-time predictions for the compact-model lab (issue "The compact-model lab"), from the generated constants alone.

Regenerate (no GPU, no training):
    for t in vocab sharing width precision; do slmgen sweep results/lab/templates/$t.yaml --dry-run; done
    python3 results/lab/predict.py > results/lab/PREDICTIONS.md
The sweeps compile every design with SlmGen's generator (runs/lab-predictions/*/results.jsonl hold the cost
reports); compression figures come from data/tokenizers/stats.jsonl (`slmgen tokenizer stats`). Standard library only.
"""
import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def points(name):
    with open(os.path.join(ROOT, "runs", "lab-predictions", name, "results.jsonl")) as f:
        return [json.loads(line) for line in f]


def component(costs, name, key):
    return sum(c[key] for c in costs["components"] if c["name"] == name)


def compression():
    stats = {}
    with open(os.path.join(ROOT, "data", "tokenizers", "stats.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r["split"] == "train":
                stats[(r["corpus"], r["tokenizer"])] = r["characters_per_token"]
    return stats


def n(x):
    return f"{x:,.0f}"


def main():
    cpt = compression()
    out = ["# Compact-model lab: what the cost model predicts before any training", "",
           "Written from SlmGen's build-time constants alone (`python3 results/lab/predict.py`, sweeps compiled with",
           "`slmgen sweep … --dry-run`; templates in `results/lab/templates/`), before any of the lab's GPU runs, so that the",
           "measurements can be compared with it. Base design: width 128, 4 pre-RMSNorm SwiGLU blocks (FFN 512), 4 heads,",
           "RoPE, context 128, tied head. FLOPs follow FlopCounterMode's convention (training = forward + backward).", ""]

    # 1. Vocabulary: per token and per character.
    vocab = points("vocab")
    base = next(p for p in vocab if p["values"]["vocab"] == "65" and p["values"]["head"] == "tied")["costs"]
    body = base["trainingFlopsPerToken"] - component(base, "lm_head", "trainingFlopsPerToken")
    width = base["width"]
    out += ["## 1. Vocabulary and the LM head (questions 1 and 2)", "",
            f"The body (everything but the head) costs {n(body)} training FLOPs per token at any vocabulary; a full or tied",
            f"head costs 6 × width × V = {6 * width} × V. **The head's FLOPs equal the body's at V = {n(body / (6 * width))}**; a",
            "grouped head (64 groups) costs 6 × width × (64 + V/64) and stays under 2% of the body up to V = 50,257.", "",
            "| V | head | parameters | head share of parameters | training FLOPs / token | head share of FLOPs | logits / sequence (fp32) |",
            "|---:|---|---:|---:|---:|---:|---:|"]
    for p in vocab:
        c = p["costs"]
        head_p = component(c, "lm_head", "parameters") + (component(c, "wte", "parameters") if p["values"]["head"] == "tied" else 0)
        head_f = component(c, "lm_head", "trainingFlopsPerToken")
        out.append(f"| {n(c['vocab'])} | {p['values']['head']} | {n(c['parameters'])} | {head_p / c['parameters']:.0%} | {n(c['trainingFlopsPerToken'])} | "
                   f"{head_f / c['trainingFlopsPerToken']:.0%} | {c['logitsBytesPerSequenceFp32'] / 2**20:.1f} MiB |")
    out += ["", "(Head share of parameters counts the embedding for a tied head: the one matrix is both.)", "",
            "**Per character**, with the measured compression of each tokenizer on the training split (tied head, the base body):", "",
            "| corpus | tokenizer | V | chars / token | training FLOPs / character | context reaches (chars) | head share of FLOPs |",
            "|---|---|---:|---:|---:|---:|---:|"]
    tokenizers = [("chars", 65), ("bytes", 256), ("bpe-wikitext2-1024", 1024), ("bpe-wikitext2-8192", 8192), ("gpt2", 50257)]
    for corpus in ["shakespeare-char", "wikitext2"]:
        for tok, v in tokenizers:
            ratio = cpt.get((corpus, tok))
            if ratio is None:
                continue
            c = next(p for p in vocab if p["values"]["vocab"] == str(v) and p["values"]["head"] == "tied")["costs"]
            per_char = c["trainingFlopsPerToken"] / ratio
            head = component(c, "lm_head", "trainingFlopsPerToken") / c["trainingFlopsPerToken"]
            out.append(f"| {corpus} | {tok} | {n(v)} | {ratio:.3f} | {n(per_char)} | {n(128 * ratio)} | {head:.0%} |")
    best = {}
    for corpus in ["shakespeare-char", "wikitext2"]:
        rows = []
        for tok, v in tokenizers:
            ratio = cpt.get((corpus, tok))
            if ratio is not None:
                c = next(p for p in vocab if p["values"]["vocab"] == str(v) and p["values"]["head"] == "tied")["costs"]
                rows.append((c["trainingFlopsPerToken"] / ratio, tok, v))
        best[corpus] = min(rows)
    grouped = next(p for p in vocab if p["values"]["vocab"] == "50257" and p["values"]["head"] == "{ groups: 64 }")["costs"]
    out += ["", f"**Prediction (question 1).** With a tied head at this width the training FLOPs per character are lowest for the",
            f"1k BPE ({best['shakespeare-char'][1]} on Tiny Shakespeare: {n(best['shakespeare-char'][0])}; {best['wikitext2'][1]} on WikiText-2:",
            f"{n(best['wikitext2'][0])}): sequence reduction wins up to about 1k–8k tokens, after which the head's 768 × V per token grows",
            "faster than the compression improves; at GPT-2's 50k the head is 84% of the FLOPs and the FLOPs per character are",
            "above the characters' own. A grouped head (64 groups) keeps GPT-2's compression at",
            f"{n(grouped['trainingFlopsPerToken'] / cpt[('wikitext2', 'gpt2')])} FLOPs per WikiText-2 character (8% in its head), the cheapest",
            "per character of all — if its two-level factorisation does not cost too much in bits per character, which is what",
            "the runs measure. Blind spots of the FLOP count: the softmax and loss over V (0 FLOPs by convention, but memory and",
            "time) and the logits' memory, the largest activation at V = 50,257 (24.5 MiB a sequence in fp32, 0.1 MiB grouped).", ""]

    out += ["", "**Question 2 (the head as the hidden bottleneck).** From section 1: at width 128 the head is 10% of the training",
            "FLOPs at V = 1,024, 47% at 8,192, 64% at 16,384 and 84% at GPT-2's 50,257 (and the tied embedding then 86% of the",
            "parameters): for this small body the head dominates from about V = 9,400 on (6 × width × V = the body's FLOPs).", ""]
    # 2. Sharing.
    share = points("sharing")
    out += ["## 2. Block sharing: stored bytes against compute (question 3)", "",
            "| stored blocks | applications (repeat) | parameters | weight bytes (fp32) | training FLOPs / token | FLOPs per stored weight byte |",
            "|---:|---:|---:|---:|---:|---:|"]
    for p in share:
        c = p["costs"]
        blocks, rep = int(p["values"]["layers.0.transformer.layers"]), int(p["values"]["layers.0.transformer.repeat"])
        out.append(f"| {blocks} | {blocks * rep} ({rep}×) | {n(c['parameters'])} | {n(c['weightBytesFp32'])} | {n(c['trainingFlopsPerToken'])} | {c['trainingFlopsPerToken'] / c['weightBytesFp32']:.2f} |")
    one = next(p for p in share if p["values"]["layers.0.transformer.layers"] == "1" and p["values"]["layers.0.transformer.repeat"] == "8")["costs"]
    eight = next(p for p in share if p["values"]["layers.0.transformer.layers"] == "8" and p["values"]["layers.0.transformer.repeat"] == "1")["costs"]
    out += ["", f"**Prediction (question 3).** FLOPs depend only on block applications; bytes only on stored blocks. At equal",
            f"FLOPs (8 applications: {n(one['trainingFlopsPerToken'])} per token) one block repeated 8× stores {one['weightBytesFp32'] / eight['weightBytesFp32']:.0%} of 8 unique",
            "blocks' bytes (the embedding is stored once either way); at equal bytes, each repeat adds a full block's compute.",
            "Per-application LoRA adds 2·r·(in + out) parameters per adapted layer and application (the shared-lora lever spec).", ""]

    # 3. Width.
    widths = points("width")
    out += ["## 3. Width allocation at (nearly) equal FLOPs (question 4)", "",
            "| width | blocks | parameters | training FLOPs / token | of which attention scores |",
            "|---:|---:|---:|---:|---:|"]
    for p in sorted(widths, key=lambda p: p["costs"]["trainingFlopsPerToken"]):
        c = p["costs"]
        out.append(f"| {p['values']['embedding']} | {p['values']['layers.0.transformer.layers']} | {n(c['parameters'])} | {n(c['trainingFlopsPerToken'])} | {c['attentionScoreFlopsPerToken'] / c['forwardFlopsPerToken']:.0%} of forward |")
    out += ["", "**Prediction (question 4).** Designs of equal training FLOPs pair up along the diagonal (e.g. width 256 × 4",
            "blocks against width 128 × 16): per block FLOPs grow with width², attention scores with width, so deep-and-thin",
            "spends a larger share on T×T attention. The constants cannot say which trains better at equal FLOPs; they say",
            "which pairs are equal, so that the runs compare like with like.", ""]

    # 4. Precision.
    prec = points("precision")
    fp32 = base["weightBytesFp32"]
    out += ["## 4. Precision: weight bytes", "",
            f"Base design in fp32: {n(fp32)} bytes; in bf16: {n(fp32 // 2)}.", "",
            "| QAT (attention, MLP / embedding bits) | weight bytes at the declared precision | vs fp32 |", "|---|---:|---:|"]
    for p in prec:
        c = p["costs"]
        out.append(f"| {p['values']['quantization']} | {n(c['weightBytesDeclared'])} | {c['weightBytesDeclared'] / fp32:.1%} |")
    out += ["", "**Prediction (precision).** Bytes fall with bits until the unquantised parts (norms in bf16, fp16 scales per row)",
            "dominate; the FLOP constants do not change with QAT (the fake-quantisation is elementwise), so its measured",
            "overhead is time only: a blind spot of the FLOP count that the runs' tokens/s will show.", ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
