#!/usr/bin/env bash
# Builds libslmgen_native.so against the PyTorch (libtorch + CUDA) of this machine's python3, into OUT_DIR
# (default: src/SlmGen.Native/build). With CUDA's compiler (nvcc on PATH or in CUDA_HOME/bin, default
# /usr/local/cuda) the library includes SlmGen's fused kernels (fused_kernels.cu, fused_ops.cpp), compiled for this
# machine's GPU (NVCC_ARCH, default native); without it, the CUDA-graph and fused-AdamW parts only — through CMake with
# PyTorch's cmake files, or, when that configuration fails (PyTorch's CMake files want a full CUDA toolkit layout),
# directly. Needs a C++17 compiler and CUDA's headers. SlmGen loads the library from SLMGEN_NATIVE (a path) or from
# beside the application.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT_DIR:-$here/build}"
mkdir -p "$out"
torch_dir="$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')"
prefix="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
abi="$(python3 -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')"
cuda_home="${CUDA_HOME:-/usr/local/cuda}"
nvcc="$(command -v nvcc || true)"; [ -z "$nvcc" ] && [ -x "$cuda_home/bin/nvcc" ] && nvcc="$cuda_home/bin/nvcc"
includes=(-I"$torch_dir/include" -I"$torch_dir/include/torch/csrc/api/include" -I"$cuda_home/include")
libs=(-L"$torch_dir/lib" -Wl,-rpath,"$torch_dir/lib" -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda)
nvcc_flags() {
  # PyTorch's extension flags: c10's half and bfloat16 types, not CUDA's operators on them.
  echo -std=c++17 -O3 -arch="${NVCC_ARCH:-native}" -Xcompiler -fPIC -D_GLIBCXX_USE_CXX11_ABI="$abi" --expt-relaxed-constexpr \
    -D__CUDA_NO_HALF_OPERATORS__ -D__CUDA_NO_HALF_CONVERSIONS__ -D__CUDA_NO_BFLOAT16_CONVERSIONS__ -D__CUDA_NO_HALF2_OPERATORS__
}
fused() {
  # The units compile in parallel. The cross-entropy and RoPE kernels are a separate unit from the others: when
  # they do not compile, the library keeps the rest.
  # shellcheck disable=SC2046
  "$nvcc" $(nvcc_flags) "${includes[@]}" -c "$here/fused_kernels.cu" -o "$out/fused_kernels.o" & local core=$!
  # shellcheck disable=SC2046
  "$nvcc" $(nvcc_flags) "${includes[@]}" -c "$here/fused_cross_entropy.cu" -o "$out/fused_cross_entropy.o" & local ce=$!
  # shellcheck disable=SC2046
  "$nvcc" $(nvcc_flags) "${includes[@]}" -c "$here/fused_rope.cu" -o "$out/fused_rope.o" & local rope=$!
  c++ -std=c++17 -O2 -fPIC -Wall -D_GLIBCXX_USE_CXX11_ABI="$abi" "${includes[@]}" -c "$here/loss_rope_ops.cpp" -o "$out/loss_rope_ops.o" & local ops=$!
  # The row-per-warp norms (fused_rows.cu) and the column sums with the biased linear layer over them
  # (fused_reduce.cu, linear_ops.cpp) are units of their own too: the kernels above work without them.
  # shellcheck disable=SC2046
  "$nvcc" $(nvcc_flags) "${includes[@]}" -c "$here/fused_rows.cu" -o "$out/fused_rows.o" & local rows=$!
  # shellcheck disable=SC2046
  "$nvcc" $(nvcc_flags) "${includes[@]}" -c "$here/fused_reduce.cu" -o "$out/fused_reduce.o" & local reduce=$!
  c++ -std=c++17 -O2 -fPIC -Wall -D_GLIBCXX_USE_CXX11_ABI="$abi" "${includes[@]}" -c "$here/linear_ops.cpp" -o "$out/linear_ops.o" & local linear=$!
  c++ -std=c++17 -O2 -fPIC -Wall -D_GLIBCXX_USE_CXX11_ABI="$abi" "${includes[@]}" -c "$here/memory_stats.cpp" -o "$out/memory_stats.o" & local memory=$!
  c++ -std=c++17 -O2 -fPIC -Wall -D_GLIBCXX_USE_CXX11_ABI="$abi" "${includes[@]}" -c "$here/kernel_profiler.cpp" -o "$out/kernel_profiler.o" & local profiler=$!
  local extra=() ok=1
  wait "$ce" || ok=0; wait "$rope" || ok=0; wait "$ops" || ok=0
  if wait "$memory"; then
    extra+=("$out/memory_stats.o")
  else
    echo "SLMGEN: the memory statistics did not build; the library reports no device memory"
  fi
  if wait "$profiler"; then
    extra+=("$out/kernel_profiler.o")
  else
    echo "SLMGEN: the kernel profiler did not build; Bench --profile is not available"
  fi
  if wait "$rows"; then
    extra+=("$out/fused_rows.o")
  else
    echo "SLMGEN: the row-per-warp norm kernels did not build; the norms use the general kernels"
  fi
  local reduce_ok=1
  wait "$reduce" || reduce_ok=0; wait "$linear" || reduce_ok=0
  if [ "$reduce_ok" = 1 ]; then
    extra+=("$out/fused_reduce.o" "$out/linear_ops.o")
  else
    echo "SLMGEN: the column-sum kernels did not build; bias gradients use libtorch's reductions"
  fi
  wait "$core" || return 1
  if [ "$ok" = 1 ]; then
    extra+=("$out/fused_cross_entropy.o" "$out/fused_rope.o" "$out/loss_rope_ops.o")
  else
    echo "SLMGEN: the cross-entropy and RoPE kernels did not build; the library has the other fused kernels"
  fi
  c++ -std=c++17 -O2 -fPIC -shared -Wall -D_GLIBCXX_USE_CXX11_ABI="$abi" "$here/slmgen_native.cpp" "$here/fused_ops.cpp" "$out/fused_kernels.o" "${extra[@]}" \
    -o "$out/libslmgen_native.so" "${includes[@]}" "${libs[@]}" -L"$cuda_home/lib64" -lcudart
}
if [ -n "$nvcc" ] && fused > "$out/fused-build.log" 2>&1; then
  echo "built with nvcc (fused kernels included)"
  grep -h "^SLMGEN:" "$out/fused-build.log" || true
elif [ -n "$nvcc" ] && { echo "the fused kernels did not build (see $out/fused-build.log): building without them" >&2; tail -30 "$out/fused-build.log" >&2; false; }; then
  :
elif command -v cmake >/dev/null && cmake -S "$here" -B "$out" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release -DCUDAToolkit_ROOT="$cuda_home" > "$out/cmake.log" 2>&1; then
  cmake --build "$out" -j "$(nproc)" 2>&1 | tail -3
  echo "built with CMake (no nvcc: without the fused kernels)"
else
  echo "CMake configuration failed (see $out/cmake.log); compiling directly (no nvcc: without the fused kernels)" >&2
  c++ -std=c++17 -O2 -fPIC -shared -D_GLIBCXX_USE_CXX11_ABI="$abi" "$here/slmgen_native.cpp" -o "$out/libslmgen_native.so" "${includes[@]}" "${libs[@]}"
  echo "built directly with c++"
fi
ls -la "$out/libslmgen_native.so"
