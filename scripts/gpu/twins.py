#!/usr/bin/env python3
"""The PyTorch twin check: for every model the Twins sample exported (scripts/gpu/twins.sh), in fp32 with TF32
off on the given device:

  - the twin (the export's own model.py and config.json) loads the export's model.safetensors strictly;
  - its logits on the probe batch equal TorchSharp's (probe.safetensors) to a relative error of at most 1e-5
    (max |difference| / max |TorchSharp logit|);
  - its parameter count equals the generated constant, and FlopCounterMode's forward and training FLOPs and
    the weight bytes equal the constants (training: with the math-path rule of docs/costs.md);
  - where the export has a Hugging Face form (hf/), transformers' AutoModelForCausalLM loads it and its logits
    equal TorchSharp's to the same tolerance;
  - the checkpoint written by SlmGen's trainer (checkpoint/last.ckpt) opens with the safetensors package, its
    metadata holds SlmGen's state, and its weights load into the twin with the logits SlmGen computed.

Usage: python3 twins.py EXPORT_DIR [--checkpoint DIR] [--out FILE.jsonl] [--device cuda|cpu]
Prints a JSON line per model that fails and a summary; exit status 1 when anything differs.
"""
import argparse
import hashlib
import importlib.util
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flops_twins import expected_training, flop_count, weight_bytes  # noqa: E402

TOLERANCE = 1e-5


def load_module(path):
    spec = importlib.util.spec_from_file_location("slmgen_twin_" + hashlib.sha1(path.encode()).hexdigest()[:8], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def relative_error(actual, expected):
    """Largest difference over the largest magnitude, on the finite entries; the infinite ones (a grouped head's
    log-probability of an id that is no real token is -inf) must be the same entries with the same sign."""
    actual, expected = actual.float(), expected.float()
    a_inf, e_inf = ~torch.isfinite(actual), ~torch.isfinite(expected)
    if not torch.equal(a_inf, e_inf) or not torch.equal(actual[a_inf], expected[e_inf]):
        return float("inf")
    actual, expected = actual[~a_inf], expected[~e_inf]
    if actual.numel() == 0:
        return 0.0
    return ((actual - expected).abs().max() / expected.abs().max().clamp_min(1e-30)).item()


def probe_logits(logits, probe):
    return logits.index_select(1, probe["positions"].to(logits.device)) if logits.dim() == 3 else logits


def check_model(directory, device, sources):
    from safetensors.torch import load_file

    source_path = os.path.join(directory, "model.py")
    with open(source_path, "rb") as f:
        sources.add(hashlib.sha256(f.read()).hexdigest())
    twin_module = load_module(source_path)
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    costs = config["costs"]
    twin = twin_module.SlmGenModel(config)
    twin.load_state_dict(twin_module.load_safetensors(os.path.join(directory, "model.safetensors")), strict=True)
    twin = twin.to(device).eval()
    probe = load_file(os.path.join(directory, "probe.safetensors"))
    with torch.no_grad():
        logits = probe_logits(twin(probe["idx"].to(device)), probe).float().cpu()
    err = relative_error(logits, probe["logits"])
    params = sum(p.numel() for p in twin.parameters())
    wbytes = weight_bytes(twin)
    twin.train()  # FLOPs of a training step (dropout on, as SlmGen counts)
    fwd, train, whole, ops, math_blocks = flop_count(twin, device, 2)
    report_like = dict(architecture=config["architecture"], components=costs["components"], trainingFlopsPerToken=costs["trainingFlopsPerToken"])
    expected_train = expected_training(report_like, math_blocks)
    record = dict(model=config["name"], dir=os.path.basename(directory), logits_rel_err=err, logits_shape=list(probe["logits"].shape),
                  params=[params, costs["parameters"]], fwd=[fwd, costs["forwardFlopsPerToken"]], train=[train, expected_train],
                  fused_train=costs["trainingFlopsPerToken"], weight_bytes=[wbytes, costs["weightBytesDeclared"]], math_attention=math_blocks)
    ok = err <= TOLERANCE and params == costs["parameters"] and fwd == costs["forwardFlopsPerToken"] and train == expected_train and whole and wbytes == costs["weightBytesDeclared"]
    hf = os.path.join(directory, "hf")
    if os.path.isdir(hf):
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32, attn_implementation="sdpa").to(device).eval()
        with torch.no_grad():
            hf_logits = probe_logits(model(probe["idx"].to(device)).logits, probe).float().cpu()
        record["hf"] = dict(model_type=model.config.model_type, logits_rel_err=relative_error(hf_logits, probe["logits"]), params=sum(p.numel() for p in model.parameters()))
        ok = ok and record["hf"]["logits_rel_err"] <= TOLERANCE
    record["ok"] = ok
    return record


def check_checkpoint(directory, device):
    from safetensors import safe_open

    path = os.path.join(directory, "last.ckpt")
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata()
        names = list(f.keys())
    state = json.loads(metadata["slmgen.state"])
    twin_dir = os.path.join(directory, "twin")
    module = load_module(os.path.join(twin_dir, "model.py"))
    with open(os.path.join(twin_dir, "config.json")) as f:
        twin = module.SlmGenModel(json.load(f))
    twin.load_state_dict(module.load_safetensors(path), strict=True)
    twin = twin.to(device).eval()
    from safetensors.torch import load_file

    probe = load_file(os.path.join(twin_dir, "probe.safetensors"))
    with torch.no_grad():
        err = relative_error(probe_logits(twin(probe["idx"].to(device)), probe).float().cpu(), probe["logits"])
    return dict(kind="checkpoint", file=path, format=metadata.get("slmgen.format"), step=state["step"], dataset=state["dataset"]["name"],
                tensors=len(names), optimizer_tensors=sum(n.startswith("_adamw.") for n in names), logits_rel_err=err,
                ok=metadata.get("slmgen.format") == "slmgen-checkpoint/2" and err <= TOLERANCE)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("export")
    p.add_argument("--checkpoint")
    p.add_argument("--out")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--commit", default="unknown")
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    with open(os.path.join(args.export, "index.json")) as f:
        index = json.load(f)
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    out = open(args.out, "w") if args.out else None
    records, sources = [], set()
    for entry in index["models"]:
        try:
            record = check_model(os.path.join(args.export, entry["dir"]), args.device, sources)
        except Exception as e:  # a twin that cannot be built or loaded is a failure to report, not a crash
            record = dict(model=entry["model"], ok=False, error=f"{type(e).__name__}: {e}")
        record.update(model=entry["model"], device=device_name, torch=torch.__version__, exporter=index["device"])
        records.append(record)
        if not record["ok"]:
            print(json.dumps(record), flush=True)
    if args.checkpoint:
        try:
            record = check_checkpoint(args.checkpoint, args.device)
        except Exception as e:
            record = dict(kind="checkpoint", ok=False, error=f"{type(e).__name__}: {e}")
        records.append(record)
        print(json.dumps(record), flush=True)
    models = [r for r in records if r.get("kind") != "checkpoint"]
    hf = [r for r in models if "hf" in r]
    import transformers
    summary = dict(kind="summary", models=len(models), equal=sum(r["ok"] for r in models), hf_models=len(hf), hf_equal=sum(r["ok"] for r in hf),
                   max_logits_rel_err=max((r.get("logits_rel_err", 1.0) for r in models), default=0.0),
                   max_hf_logits_rel_err=max((r["hf"]["logits_rel_err"] for r in hf), default=0.0),
                   twin_sources=len(sources), checkpoint_ok=all(r["ok"] for r in records if r.get("kind") == "checkpoint"),
                   device=device_name, torch=torch.__version__, transformers=transformers.__version__, commit=args.commit,
                   command="bash scripts/pack-device.sh; then on the GPU machine: OUT=... bash scripts/gpu/twins.sh")
    print(json.dumps(summary))
    if out:
        for r in records + [summary]:
            out.write(json.dumps(r) + "\n")
    sys.exit(0 if all(r["ok"] for r in records) and len(sources) == 1 else 1)


if __name__ == "__main__":
    main()
