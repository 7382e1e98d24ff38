#!/usr/bin/env bash
# Decoding speed and memory of one model in every runtime SlmGen exports to, at batch 1 on this machine's CPU
# (issue 26 item 6): TorchSharp (slmgen sample), ONNX Runtime through SlmGen.Inference (samples/ShipInApp: fp32,
# int8 and int4 MatMulNBits) and llama.cpp through LLamaSharp (samples/GgufRun: F32, F16, Q8_0, Q4_0).
# Each run is its own process (peak memory is the process's); greedy decoding of TOKENS tokens after a prompt;
# tokens/s counts the tokens after the first (the first includes reading the prompt). RUNS runs each, the median kept.
# Writes results/deploy/decode-$TAG.jsonl and prints the table (scripts/decode_table.py).
#   usage: scripts/decode-bench.sh [TAG]    (env: TOKENS=256 RUNS=3 WORK=/tmp/slmgen-decode-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-cpu}
TOKENS=${TOKENS:-256}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/slmgen-decode-bench}
OUT=results/deploy/decode-$TAG.jsonl
rm -rf "$WORK" && mkdir -p "$WORK"
for p in src/SlmGen.Cli samples/ShipInApp samples/GgufRun; do dotnet build "$p" -c Release -nologo -v:q >/dev/null; done
SLMGEN="dotnet src/SlmGen.Cli/bin/Release/net10.0/slmgen.dll"
APP=samples/ShipInApp/bin/Release/net10.0/ShipInApp
GGUF=samples/GgufRun/bin/Release/net10.0/GgufRun
SPEC=specs/deploy/decode-bench.yaml
PROMPT="The tower is"
# The artifact forms: the same architecture with attention and MLP matrices at 8 / 4 bits in groups of 32 (MatMulNBits).
for b in 8 4; do
  sed "s/^name: DecodeBench/name: DecodeBenchInt$b/; s|^tokenizer: ../../|tokenizer: $PWD/|" $SPEC > "$WORK/decode-bench-int$b.yaml"
  echo "quantization: { attention: $b, mlp: $b, group: 32, method: absmax }" >> "$WORK/decode-bench-int$b.yaml"
done
# One set of weights for every form: one training step from the seeded initialisation.
$SLMGEN train $SPEC --data wikitext2 --steps 1 --batch 1 --eval-every 1 --eval-batches 1 --eval-tokens 2048 --device cpu --run-dir "$WORK/run" >/dev/null
CKPT="$WORK/run/last.ckpt"
$SLMGEN export $SPEC --checkpoint "$CKPT" --data wikitext2 --out "$WORK/fp32" --onnx --no-hf >/dev/null   # also model.safetensors: the fp32 weights TorchSharp loads
for t in f32 f16 q8_0 q4_0; do $SLMGEN export $SPEC --checkpoint "$CKPT" --data wikitext2 --out "$WORK/gguf-$t" --gguf $t --no-hf >/dev/null; done
for b in 8 4; do $SLMGEN export "$WORK/decode-bench-int$b.yaml" --checkpoint "$CKPT" --data wikitext2 --out "$WORK/int$b" --onnx --onnx-artifact --no-hf >/dev/null; done
$SLMGEN costs $SPEC --json > "$WORK/costs.json"
for b in 8 4; do $SLMGEN costs "$WORK/decode-bench-int$b.yaml" --json > "$WORK/costs-int$b.json"; done

: > "$OUT.tmp"
measure() { # name, bytes, command...
  local name=$1 bytes=$2; shift 2
  for i in $(seq "$RUNS"); do
    local text stats
    text=$("$@" 2>"$WORK/stats.txt")
    stats=$(grep '^stats:' "$WORK/stats.txt")
    python3 - "$name" "$bytes" "$stats" "$text" >> "$OUT.tmp" <<'PY'
import json, re, sys, hashlib
name, size, stats, text = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
num = lambda pattern: float(re.search(pattern, stats).group(1))
print(json.dumps({"runtime": name, "file_bytes": size, "tokens_per_second": num(r"= ([0-9.]+) tokens/s"),
                  "first_token_ms": num(r"first token ([0-9.]+) ms"), "peak_memory_mib": num(r"peak memory ([0-9.]+) MiB"),
                  "text_sha256": hashlib.sha256(text.encode()).hexdigest()[:16]}))
PY
  done
}
size() { stat -c %s "$@" | paste -sd+ | bc; }
DATA=(--data wikitext2)
measure "torchsharp fp32" "$(size "$WORK/fp32/model.safetensors")" $SLMGEN sample $SPEC --checkpoint "$CKPT" "${DATA[@]}" --prompt "$PROMPT" --tokens "$TOKENS" --temperature 0 --device cpu --stats
measure "onnxruntime fp32" "$(size "$WORK/fp32/onnx/model-decode.onnx")" $APP "$WORK/fp32/onnx" "$PROMPT" --tokens "$TOKENS" --temperature 0 --stats
for b in 8 4; do measure "onnxruntime int$b" "$(size "$WORK/int$b/onnx/model-decode.onnx")" $APP "$WORK/int$b/onnx" "$PROMPT" --tokens "$TOKENS" --temperature 0 --stats; done
for t in f32 f16 q8_0 q4_0; do measure "llama.cpp $t" "$(size "$WORK/gguf-$t/model.gguf")" $GGUF "$WORK/gguf-$t/model.gguf" "$PROMPT" --tokens "$TOKENS" --temperature 0 --stats; done
mv "$OUT.tmp" "$OUT"
python3 scripts/decode_table.py "$OUT" "$WORK"
