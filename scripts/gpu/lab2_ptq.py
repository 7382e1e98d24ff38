#!/usr/bin/env python3
"""Writes the after-training artifacts of scripts/gpu/lab2-ptq.sh as a sweep of their own (results/lab2/PROTOCOL.md
§6 Q4), so that `LabReport lab2` tables and compares them like any seed sweep:

  <sweep>-ptq/results.jsonl            one line per (design of the sweep, plan): the design's values + "quantization"
  <sweep>-ptq/p###/s<seed>/result.json the source run's record (parameters, FLOPs, steps, device, commit, path) with
                                       the scores before the round trip (final weights) and after it, and the bytes

usage: lab2_ptq.py SWEEP PLANS_TSV  (PLANS_TSV: name, quantization, points — as lab2-ptq.sh writes it)
"""
import json
import os
import sys

sweep, plans_file = sys.argv[1].rstrip("/"), sys.argv[2]
out = sweep + "-ptq"
plans = [line.rstrip("\n").split("\t") for line in open(plans_file) if line.strip()]
kept = ("parameters", "training_flops_per_token", "exact_training_flops", "steps", "epochs", "tokens_per_second", "batch",
        "context", "lr", "device", "commit", "bf16", "cuda_graph_steps", "fused_kernels", "data", "tokenizer")
lines, written, missing = [], 0, 0
point = 0
for line in open(os.path.join(sweep, "results.jsonl")):
    if not line.strip():
        continue
    source = json.loads(line)
    if source.get("status") != "done":
        continue
    p = "p%03d" % source["point"]
    for name, quantization, points in plans:
        if points != "*" and p not in points.split():
            continue
        values = dict(source["values"])
        values["quantization"] = quantization
        seeds_done = 0
        pdir = os.path.join(sweep, p)
        for seed_dir in sorted(os.listdir(pdir)) if os.path.isdir(pdir) else []:
            run = os.path.join(pdir, seed_dir)
            evaluation, artifact = os.path.join(run, "ptq", name + ".eval.json"), os.path.join(run, "ptq", name + ".artifact.json")
            if not (os.path.isfile(os.path.join(run, "result.json")) and os.path.isfile(evaluation) and os.path.isfile(artifact)):
                missing += os.path.isfile(os.path.join(run, "result.json"))
                continue
            result = json.load(open(os.path.join(run, "result.json")))
            e, a = json.load(open(evaluation)), json.load(open(artifact))
            record = {k: result[k] for k in kept if k in result}
            record.update({
                "model": result.get("model"), "seed": result.get("seed"), "source_run": os.path.relpath(run, out),
                "eval_protocol": e["before"].get("protocol"),
                # before: the run's final weights as trained; after: the artifact's dequantised weights
                "final_test_nll": e["before"]["nll"], "final_test_bits_per_byte": e["before"]["bits_per_byte"],
                "final_test_bits_per_character": e["before"]["bits_per_character"],
                "test_nll_artifact": e["after"]["nll"], "test_bits_per_byte_artifact": e["after"]["bits_per_byte"],
                "test_bits_per_character_artifact": e["after"]["bits_per_character"],
                "artifact_plan": e["artifact"]["plan"], "artifact_bytes_stated": e["artifact"]["stated_bytes"],
                "artifact_bytes": e["artifact"]["bytes"], "artifact_file_bytes": e["artifact"]["file_bytes"],
                "artifact_compression": e["artifact"]["compression"], "artifact_record": a,
                "command": e.get("command"),
            })
            target = os.path.join(out, "p%03d" % point, seed_dir)
            os.makedirs(target, exist_ok=True)
            with open(os.path.join(target, "result.json"), "w") as f:
                json.dump(record, f, indent=1)
            seeds_done += 1
            written += 1
        lines.append(json.dumps({"point": point, "status": "done" if seeds_done else "not run", "values": values,
                                 "source_point": source["point"], "plan": name}))
        point += 1
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "results.jsonl"), "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"lab2_ptq: {written} runs in {point} points written to {out}" + (f"; {missing} artifacts missing (see the runs' ptq/*.log)" if missing else ""))
