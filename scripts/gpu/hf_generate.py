#!/usr/bin/env python3
"""Issue 26 item 4 on the GPU machine: each folder scripts/gpu/prepare-hf-generate.sh wrote is loaded as a Hugging Face
user would (AutoTokenizer + AutoModelForCausalLM from the folder) and continues expected.json's prompt greedily for
its number of tokens; the text must be SlmGen's greedy text (`slmgen sample --temperature 0`).
Usage: python3 hf_generate.py DIR [--out FILE.jsonl] [--device cuda]. Exit status 1 when any text differs."""
import argparse, json, os, sys
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--out")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = p.parse_args()
    records, bad = [], 0
    for name in sorted(os.listdir(a.dir)):
        folder = os.path.join(a.dir, name)
        expected = json.load(open(os.path.join(folder, "expected.json"), encoding="utf-8"))
        tok = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).to(a.device).eval()
        ids = tok(expected["prompt"], return_tensors="pt", add_special_tokens=False).input_ids.to(a.device)
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=expected["tokens"], do_sample=False, eos_token_id=None, pad_token_id=tok.eos_token_id or 0)
        text = expected["prompt"] + tok.decode(out[0, ids.shape[1]:].tolist(), skip_special_tokens=False, clean_up_tokenization_spaces=False)
        same = text == expected["text"]
        bad += not same
        records.append({"model": name, "architecture": model.config.model_type, "tokenizer": type(tok).__name__, "equal": same,
                        "hf_text": text, "slmgen_text": expected["text"], "torch": torch.__version__, "device": a.device})
        print(f"{name}: {model.config.model_type}, {type(tok).__name__}: {'equal' if same else 'DIFFERENT'}")
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
