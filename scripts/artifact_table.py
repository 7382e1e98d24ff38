#!/usr/bin/env python3
"""Issue 25's table from scripts/artifact-lab.sh's records: one row per precision plan × quantiser × QAT, the
artifact's bytes (stated by the build before the tokenizer; written with it; compressed) and the test split's bits
per character and per byte before and after the round trip, as mean ± sd over the seeds (n)."""
import json, statistics, sys, pathlib, re

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs/artifact-lab")
rows = {}

def add(key, stated, written, compressed, bpc_before, bpc_after, bpb_before, bpb_after, seed):
    r = rows.setdefault(key, {"stated": set(), "written": set(), "compressed": [], "bpc_b": [], "bpc_a": [], "bpb_b": [], "bpb_a": [], "seeds": []})
    r["stated"].add(stated); r["written"].add(written); r["compressed"].append(compressed)
    r["bpc_b"].append(bpc_before); r["bpc_a"].append(bpc_after); r["bpb_b"].append(bpb_before); r["bpb_a"].append(bpb_after); r["seeds"].append(seed)

for seed_dir in sorted(root.glob("seed*")):
    seed = seed_dir.name[4:]
    for f in sorted(seed_dir.glob("*.json")):
        j = json.loads(f.read_text())
        stem = f.name.split(".")[0]
        if f.name.endswith(".artifact.json"):
            continue
        if f.name.endswith(".eval.json"):
            a = json.loads((seed_dir / (stem + ".artifact.json")).read_text())
            bits, grid, method = re.match(r"q(\d+)(s?)-([\w-]+)$", stem).groups()
            add((int(bits), method + (" (stretched)" if grid else ""), "none (after training)"), a["stated_bytes"], a["bytes"], a["file_bytes"],
                j["before"]["bits_per_character"], j["after"]["bits_per_character"], j["before"]["bits_per_byte"], j["after"]["bits_per_byte"], seed)
        else:  # a training run's result with --artifact
            if stem == "fp32":
                key = (32, "-", "none (fp32)")
            else:
                bits, grid = re.match(r"q(\d+)(s?)", stem).groups()
                bits = int(bits)
                key = (bits, "qat" + (" (stretched)" if grid else ""), "late (from %s of the steps)" % j.get("qat_start") if stem.endswith("late") else "from the start")
            add(key, j["artifact_bytes_stated"], j["artifact_bytes"], j["artifact_file_bytes"],
                j["test_bits_per_character"], j["test_bits_per_character_artifact"], j["test_bits_per_byte"], j["test_bits_per_byte_artifact"], seed)

def ms(values):
    if len(values) == 1:
        return "%.4f (1)" % values[0]
    return "%.4f ± %.4f (%d)" % (statistics.mean(values), statistics.stdev(values), len(values))

def delta(after, before):
    return ms([a - b for a, b in zip(after, before)])

print("| weights | quantiser | QAT | stated bytes (before tokenizer) | written bytes | compressed bytes | test bits/char before | after | Δ | test bits/byte after |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
for key in sorted(rows, key=lambda k: (-k[0], k[1], k[2])):
    r = rows[key]
    bits, method, qat = key
    weights = "fp32" if bits == 32 else "%d-bit attention + FFN, 8-bit embedding" % bits
    comp = "{:,.0f}".format(statistics.mean(r["compressed"])) if len(set(r["compressed"])) == 1 else "{:,.0f} ± {:,.0f}".format(statistics.mean(r["compressed"]), statistics.stdev(r["compressed"]))
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (weights, method, qat, " / ".join("{:,}".format(x) for x in sorted(r["stated"])), " / ".join("{:,}".format(x) for x in sorted(r["written"])),
          comp, ms(r["bpc_b"]), ms(r["bpc_a"]), delta(r["bpc_a"], r["bpc_b"]), ms(r["bpb_a"])))
