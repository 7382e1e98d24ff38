#!/usr/bin/env bash
# Cold-build generator time with the compiler's own accounting (-p:ReportAnalyzer=true): a throw-away
# consumer project with N baby-GPT-sized YAML specs (default 200) that uses SlmGen from this repository.
#   bash scripts/bench-generator-build.sh [N] [first]
# With "first", the figure is the project's first build (restore, a compiler server started cold) instead.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-200}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/specs"
cat > "$dir/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <Import Project="$repo/build/SlmGen.ProjectReference.props" />
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><RootNamespace>Consumer</RootNamespace></PropertyGroup>
  <Import Project="$repo/build/SlmGen.ProjectReference.targets" />
</Project>
XML
for i in $(seq 1 "$n"); do
  cat > "$dir/specs/baby-$i.yaml" <<YAML
vocab: 65
context: 256
dropout: 0.2
init: gpt2
embedding: 384
positions: learned
layers:
  - transformer: { layers: 6, heads: 6, ffn: 4x, activation: gelu, norm: layernorm, pre_norm: true }
final_norm: layernorm
head: tied
budget: { max_parameters: 12M, training_tokens: 80M }
YAML
done
if [ "${2:-}" = "first" ]; then
  dotnet build-server shutdown >/dev/null 2>&1 || true
  dotnet build "$dir/Consumer.csproj" -c Release -nologo -p:ReportAnalyzer=true -v:d > "$dir/build.log"
  echo "$n specs; generator time as the compiler reports it (the first build: restore, compiler server started cold):"
else
  dotnet build "$dir/Consumer.csproj" -c Release -nologo -v:q >/dev/null
  touch "$dir/specs/baby-1.yaml"
  dotnet build "$dir/Consumer.csproj" -c Release -nologo --no-restore -p:ReportAnalyzer=true -p:UseSharedCompilation=false -v:d > "$dir/build.log"
  echo "$n specs; generator time as the compiler reports it (a fresh compiler process: UseSharedCompilation=false):"
fi
grep -E "SlmGen.Generator.ModelGenerator|Total generator execution time|Total analyzer execution time" "$dir/build.log" | sed 's/^ *//' | sort -u
