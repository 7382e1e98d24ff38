#!/usr/bin/env bash
# The time model's prediction of each point of the second lab's seed sweeps, with the recipe each trained with (train's
# ema_decay and z_loss: `slmgen costs --ema-decay --z-loss`), on a device profile: one JSON line per point into
# results/lab2/predictions/<sweep>-time.jsonl (point, its grid values, eager and graphed ms per step at the sweep's batch,
# the components). These are predictions: LabReport lab2 puts them beside the scores (Q4's "bits per byte gained per %
# time added"). Runs on this CPU in seconds (nothing is trained).
#   bash scripts/lab2-time-predictions.sh q4-seeds q4-qat            (PROFILE=profiles/h100.json by default)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${PROFILE:-profiles/h100.json}"
slmgen="${SLMGEN:-dotnet run --project src/SlmGen.Cli -c Release --}"
for sweep in "$@"; do
  dir=results/lab2/records/$sweep
  out=results/lab2/predictions/$sweep-time.jsonl
  : > "$out.tmp"
  python3 - "$dir/results.jsonl" <<'PY' | while IFS=$'\t' read -r point spec batch ema z values; do
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    t = r["train"]
    print(r["point"], r["spec"], t.get("batch", "32"), t.get("ema_decay", "0"), t.get("z_loss", "0"), json.dumps(r["values"]), sep="\t")
PY
    $slmgen costs "$dir/$spec" --json --device-profile "$profile" --batch "$batch" --ema-decay "$ema" --z-loss "$z" \
      | python3 -c 'import json, sys
m = json.load(sys.stdin)["models"][0]
print(json.dumps({"point": int(sys.argv[1]), "values": json.loads(sys.argv[2]), "profile": sys.argv[3], "ema_decay": float(sys.argv[4]), "z_loss": float(sys.argv[5]), "time": m["time"]}))' "$point" "$values" "$profile" "$ema" "$z" >> "$out.tmp"
  done
  mv "$out.tmp" "$out"
  echo "wrote $out ($(wc -l < "$out") points, $profile)"
done
