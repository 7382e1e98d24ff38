#!/usr/bin/env bash
# Builds libslmgen_native.so against the PyTorch (libtorch + CUDA) of this machine's python3, into OUT_DIR
# (default: src/SlmGen.Native/build): CMake with PyTorch's cmake files (torch.utils.cmake_prefix_path); if that
# configuration fails (PyTorch's CMake files want a full CUDA toolkit layout), the same source is compiled directly
# with PyTorch's include and library folders. Needs a C++17 compiler and CUDA's headers (CUDA_HOME, default
# /usr/local/cuda). SlmGen loads the library from SLMGEN_NATIVE (a path) or from beside the application.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT_DIR:-$here/build}"
mkdir -p "$out"
torch_dir="$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')"
prefix="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
cuda_home="${CUDA_HOME:-/usr/local/cuda}"
if command -v cmake >/dev/null && cmake -S "$here" -B "$out" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release -DCUDAToolkit_ROOT="$cuda_home" > "$out/cmake.log" 2>&1; then
  cmake --build "$out" -j "$(nproc)" 2>&1 | tail -3
  echo "built with CMake"
else
  echo "CMake configuration failed (see $out/cmake.log); compiling directly" >&2
  abi="$(python3 -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')"
  c++ -std=c++17 -O2 -fPIC -shared -D_GLIBCXX_USE_CXX11_ABI="$abi" "$here/slmgen_native.cpp" -o "$out/libslmgen_native.so" \
    -I"$torch_dir/include" -I"$torch_dir/include/torch/csrc/api/include" -I"$cuda_home/include" \
    -L"$torch_dir/lib" -Wl,-rpath,"$torch_dir/lib" -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda
  echo "built directly with c++"
fi
ls -la "$out/libslmgen_native.so"
