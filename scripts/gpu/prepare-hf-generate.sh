#!/usr/bin/env bash
# Prepares the Hugging Face generation check (issue 26 item 4) on this machine, for scripts/gpu/pending.sh: a GPT-2-
# and a Llama-shaped model (characters; the Shakespeare BPE) trained briefly, exported with their tokenizer files
# (`slmgen export --data`), and SlmGen's greedy continuation of a prompt beside each (expected.json).
# scripts/gpu/hf_generate.py loads each folder with AutoTokenizer + AutoModelForCausalLM and generates greedily.
#   usage: scripts/gpu/prepare-hf-generate.sh [DIR=.device/hfgen]
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:-.device/hfgen}
WORK=$(mktemp -d)
rm -rf "$DIR" && mkdir -p "$DIR"
dotnet build src/SlmGen.Cli -c Release -nologo -v:q > /dev/null
SLMGEN="dotnet src/SlmGen.Cli/bin/Release/net10.0/slmgen.dll"
cat > "$WORK/gpt2-chars.yaml" <<'YAML'
name: HfGpt2Chars
vocab: 65
context: 64
embedding: 64
positions: learned
layers:
  - transformer: { layers: 2, heads: 4, ffn: 4x, activation: gelu, norm: layernorm }
final_norm: layernorm
head: tied
YAML
cat > "$WORK/llama-bpe.yaml" <<YAML
name: HfLlamaBpe
vocab: 1024
tokenizer: $PWD/data/tokenizers/bpe-shakespeare-1024
context: 64
embedding: 64
positions: rope
layers:
  - transformer: { layers: 2, heads: 4, kv_heads: 2, ffn: 2x, activation: swiglu, norm: rmsnorm, attention_bias: false, ffn_bias: false }
final_norm: rmsnorm
head: untied
YAML
for name in gpt2-chars llama-bpe; do
  $SLMGEN train "$WORK/$name.yaml" --data shakespeare-char --steps 150 --batch 16 --eval-every 150 --eval-batches 1 --device cpu --run-dir "$WORK/run-$name" > /dev/null
  $SLMGEN export "$WORK/$name.yaml" --checkpoint "$WORK/run-$name/last.ckpt" --data shakespeare-char --out "$WORK/export-$name" > /dev/null
  # The text to a file: $(...) would drop every trailing new line, and a model may well end with several.
  $SLMGEN sample "$WORK/$name.yaml" --checkpoint "$WORK/run-$name/last.ckpt" --data shakespeare-char --prompt "ROMEO:" --tokens 40 --temperature 0 --device cpu > "$WORK/$name.txt"
  cp -r "$WORK/export-$name/hf" "$DIR/$name"
  # slmgen sample ends its text with one new line of its own.
  python3 -c 'import json,sys; t=open(sys.argv[1], encoding="utf-8", newline="").read(); assert t.endswith("\n"); json.dump({"prompt": "ROMEO:", "tokens": 40, "text": t[:-1]}, open(sys.argv[2], "w", encoding="utf-8"))' "$WORK/$name.txt" "$DIR/$name/expected.json"
done
rm -rf "$WORK"
echo "prepared $(ls "$DIR" | wc -l) folders in $DIR"
