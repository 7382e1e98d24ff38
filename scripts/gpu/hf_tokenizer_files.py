#!/usr/bin/env python3
"""The tokenizer files SlmGen's Hugging Face export writes, loaded by transformers as a user would
(AutoTokenizer.from_pretrained(folder)): for every folder the Twins sample's `hf-tokenizers` command wrote
(tokenizer.json, tokenizer_config.json, texts.json, ids.safetensors: SlmGen's ids), encode the same texts
without special tokens, compare the ids, and decode them back (compared with SlmGen's own decoding).
Usage: python3 hf_tokenizer_files.py DIR [--out FILE.jsonl]. Exit status 1 when any id or decoding differs."""
import argparse
import json
import re
import os
import sys

from safetensors.torch import load_file
from transformers import AutoTokenizer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--out")
    args = p.parse_args()
    records, bad = [], 0
    for name in sorted(os.listdir(args.dir)):
        folder = os.path.join(args.dir, name)
        tok = AutoTokenizer.from_pretrained(folder)
        meta = json.load(open(os.path.join(folder, "texts.json"), encoding="utf-8"))
        ids = load_file(os.path.join(folder, "ids.safetensors"))
        for key, text in meta["texts"].items():
            hf = tok.encode(text, add_special_tokens=False)
            slmgen = ids[key].tolist()
            first = next((i for i, (a, b) in enumerate(zip(hf, slmgen)) if a != b), None)
            same = hf == slmgen
            decoded = tok.decode(slmgen)
            expected = meta["decoded"][key]
            if name.startswith("words"):
                # The word tokenizer file's decoder joins every token with a space, <eos> (a newline) included.
                decoded, expected = re.sub(r" ?\n ?", "\n", decoded), re.sub(r" ?\n ?", "\n", expected)
            decodes = decoded == expected
            bad += (not same) + (not decodes)
            records.append(dict(tokenizer=name, text=key, characters=len(text), ids=len(slmgen), hf_ids=len(hf), equal=same,
                                first_difference=first, decodes_like_slmgen=decodes, vocab=len(tok), slmgen_vocab=meta["vocab"],
                                eos=tok.eos_token_id, slmgen_eos=meta["eos"], tokenizer_class=type(tok).__name__))
    summary = dict(kind="summary", texts=len(records), equal=sum(r["equal"] for r in records), decode_equal=sum(r["decodes_like_slmgen"] for r in records), bad=bad)
    for r in records + [summary]:
        print(json.dumps(r))
    if args.out:
        with open(args.out, "w") as f:
            for r in records + [summary]:
                f.write(json.dumps(r) + "\n")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
