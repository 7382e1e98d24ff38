#!/usr/bin/env python3
"""SlmGen's BPE files in Hugging Face `tokenizers`: for every folder the Twins sample's `tokenize` command wrote
(vocab.json, merges.txt, texts.json, ids.safetensors: the ids Microsoft.ML.Tokenizers gave), build a byte-level BPE
(GPT-2's pre-tokenization, no prefix space) from the files, encode the same texts, and compare the ids; decode
them back. Usage: python3 hf_tokenizers.py DIR [--out FILE.jsonl]. Exit status 1 when any id differs."""
import argparse
import json
import os
import sys

from safetensors.torch import load_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--out")
    args = p.parse_args()
    records, bad = [], 0
    for name in sorted(os.listdir(args.dir)):
        folder = os.path.join(args.dir, name)
        tok = Tokenizer(models.BPE.from_file(os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt")))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        texts = json.load(open(os.path.join(folder, "texts.json"), encoding="utf-8"))
        ids = load_file(os.path.join(folder, "ids.safetensors"))
        for key, text in texts.items():
            hf = tok.encode(text).ids
            dotnet = ids[key].tolist()
            first = next((i for i, (a, b) in enumerate(zip(hf, dotnet)) if a != b), None)
            same = hf == dotnet
            bad += not same
            records.append(dict(tokenizer=name, text=key, characters=len(text), ids=len(dotnet), equal=same, first_difference=first,
                                hf_ids=len(hf), decodes_back=tok.decode(hf) == text, vocab=tok.get_vocab_size()))
    summary = dict(kind="summary", texts=len(records), equal=len(records) - bad, differ=bad)
    for r in records + [summary]:
        print(json.dumps(r))
    if args.out:
        with open(args.out, "w") as f:
            for r in records + [summary]:
                f.write(json.dumps(r) + "\n")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
