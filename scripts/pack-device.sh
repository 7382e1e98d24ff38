#!/usr/bin/env bash
# Packs the samples that run on the GPU machine (Study, Bench, TinyShakespeare, Twins, and the slmgen tool) into one self-contained
# publish, without libtorch (the machine's PyTorch provides a CUDA libtorch), as .device/app.tar.xz, and
# writes .device/run.sh APP ARGS....
set -euo pipefail
cd "$(dirname "$0")/.."
out=.device
rm -rf "$out/pub" && mkdir -p "$out"
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
# PACK_APPS="src/SlmGen.Cli/SlmGen.Cli.csproj" packs only the tool (a smaller carry, e.g. for the lab).
for app in ${PACK_APPS:-samples/Study/Study.csproj samples/Bench/Bench.csproj samples/TinyShakespeare/TinyShakespeare.csproj samples/Twins/Twins.csproj src/SlmGen.Cli/SlmGen.Cli.csproj}; do
  dotnet publish "$app" -c Release -r linux-x64 --self-contained true -o "$out/pub" -p:SlmGenBackend=system -nologo -v:q
done
if ls "$out/pub" | grep -q '^libtorch_cpu.so'; then
  echo "pack-device.sh: libtorch_cpu.so is in the publish; SlmGenBackend=system should have left it out" >&2
  exit 2
fi
# The debugger's and the standalone GCs' native libraries are never loaded by these runs: left out of the carry.
rm -f "$out/pub"/{libmscordbi.so,libmscordaccore.so,libclrgc.so,libclrgcexp.so,createdump}
# ONNX Runtime's Windows DLL (shipped in its content folder) never runs here; its Linux library (34 MB) only for
# `sample --runtime onnx`, which the GPU calls do not use: PACK_ONNX=1 keeps it.
rm -f "$out/pub/onnxruntime.dll"
# Symbols, XML documentation and the LTTng trace provider are not needed to run (a few MiB of the 64 MiB carry).
rm -f "$out/pub"/*.pdb "$out/pub"/*.xml "$out/pub/libcoreclrtraceptprovider.so"
[ "${PACK_ONNX:-0}" = 1 ] || rm -f "$out/pub"/libonnxruntime*.so
git rev-parse HEAD > "$out/pub/COMMIT" 2>/dev/null || echo unknown > "$out/pub/COMMIT"
tar -C "$out/pub" -cf - . | xz -T0 -9 > "$out/app.tar.xz"
rm -rf "$out/pub"
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs on the GPU machine: unpacks once per machine, points TorchSharp at PyTorch's CUDA libtorch, runs APP.
set -euo pipefail
app_dir=/tmp/slmgen-app
if [ ! -f "$app_dir/COMMIT" ] || ! cmp -s <(xz -dc "$(dirname "$0")/app.tar.xz" | tar -xOf - ./COMMIT) "$app_dir/COMMIT"; then
  rm -rf "$app_dir" && mkdir -p "$app_dir"
  tar -xJf "$(dirname "$0")/app.tar.xz" -C "$app_dir"
fi
torchlib="$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export DOTNET_gcServer=0 DOTNET_TieredPGO=1
export SLMGEN_COMMIT="$(cat "$app_dir/COMMIT")"
export SLMGEN_DEVICE_NAME="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || echo cuda)"
app="$1"; shift
exec "$app_dir/$app" "$@"
RUN
chmod +x "$out/run.sh"
echo "packed: $out/app.tar.xz ($(du -m "$out/app.tar.xz" | cut -f1) MiB)"
