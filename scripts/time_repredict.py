#!/usr/bin/env python3
"""Predicts earlier measurements of `slmgen time` with another device profile (slmgen time --predict-only) and writes
records with the measurement and the new prediction side by side, for scripts/time_summary.py.

  python3 scripts/time_repredict.py RECORDS.jsonl PROFILE.json DESIGNS_DIR OUT.jsonl [--slmgen PATH]

A record's spec is looked for by its file name in DESIGNS_DIR (where the designs were committed), else at its path
or under the repository (results/lab/templates/base.yaml, specs/...). The mode (eager, graphed, decode), the batch
and the decode lengths are the record's own.
"""
import argparse, json, os, subprocess, sys, tempfile

a = argparse.ArgumentParser()
a.add_argument("records"); a.add_argument("profile"); a.add_argument("designs"); a.add_argument("out")
a.add_argument("--slmgen", default="src/SlmGen.Cli/bin/Release/net10.0/slmgen")
args = a.parse_args()

rows = [json.loads(l) for l in open(args.records) if l.strip()]
with open(args.out, "w") as out:
    for r in rows:
        spec = os.path.join(args.designs, os.path.basename(r["spec"]))
        if not os.path.exists(spec):
            spec = r["spec"]
        if not os.path.exists(spec):
            print(f"no spec for {r['model']}: {r['spec']}", file=sys.stderr); continue
        with tempfile.TemporaryDirectory() as tmp:
            rec = os.path.join(tmp, "p.jsonl")
            cmd = [args.slmgen, "time", spec, "--predict-only", "--device-profile", args.profile, "--json", rec, "--device", "cpu"]
            if r.get("mode") == "decode":
                cmd += ["--decode", "--prompt-tokens", str(r["prompt_tokens"]), "--new-tokens", str(r["new_tokens"])]
            else:
                cmd += ["--batch", str(r["batch"])] + (["--graphed"] if r.get("graphed") else [])
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{r['model']}: {done.stderr.strip()[-300:]}", file=sys.stderr); continue
            p = json.loads(open(rec).readline())
        merged = dict(r)
        for k, v in p.items():
            if k.startswith("predicted") or k in ("profile", "profile_measured"):
                merged[k] = v
        merged["repredicted_by"] = "scripts/time_repredict.py " + " ".join(sys.argv[1:])
        out.write(json.dumps(merged) + "\n")
        print(r["model"], file=sys.stderr)
