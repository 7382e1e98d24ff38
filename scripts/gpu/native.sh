# Sourced by the GPU-machine scripts: `. scripts/gpu/native.sh LOG [KEEP_DIR]` makes libslmgen_native ready at
# /tmp/slmgen-native/libslmgen_native.so and exports SLMGEN_NATIVE (unset where it can be neither loaded nor built).
# Building it takes about 110 s of a call (session 26), so a build is kept: the library is keyed by its sources, the
# machine's PyTorch and CUDA versions and the GPU's compute capability; one carried in .device/native/ under the same
# key is loaded instead of building, and a fresh build is copied to KEEP_DIR (a folder the call returns, e.g. $OUT) as
# libslmgen_native-KEY.so — put it in .device/native/ on the development machine for the next calls.
native_log="${1:-/dev/null}"
native_keep="${2:-}"
native_key=$( { find src/SlmGen.Native -maxdepth 1 -type f | sort | xargs cat; python3 -c 'import torch; print(torch.__version__, torch.version.cuda)' 2>/dev/null;
  nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1; } | sha256sum | cut -c1-16)
native_so=/tmp/slmgen-native/libslmgen_native.so
native_loads() { python3 -c 'import sys, ctypes, torch; ctypes.CDLL(sys.argv[1])' "$1" >> "$native_log" 2>&1; }
if [ ! -f "$native_so" ] && [ -f ".device/native/libslmgen_native-$native_key.so" ]; then
  mkdir -p /tmp/slmgen-native && cp ".device/native/libslmgen_native-$native_key.so" "$native_so"
  if native_loads "$native_so"; then
    echo "libslmgen_native: carried build $native_key" >> "$native_log"
  else
    echo "libslmgen_native: the carried build $native_key does not load here; building" >> "$native_log"; rm -f "$native_so"
  fi
fi
if [ ! -f "$native_so" ]; then
  OUT_DIR=/tmp/slmgen-native bash src/SlmGen.Native/build.sh >> "$native_log" 2>&1
  [ -f "$native_so" ] && [ -n "$native_keep" ] && mkdir -p "$native_keep" && cp "$native_so" "$native_keep/libslmgen_native-$native_key.so"
fi
if [ -f "$native_so" ]; then export SLMGEN_NATIVE="$native_so"; else unset SLMGEN_NATIVE; fi
