// Column sums over rows in SlmGen's own kernels: a biased linear layer's bias gradient (linear_ops.cpp), and the last
// step of the norms' and activations' parameter gradients (fused_kernels.cu adds its strips' partial sums here). On
// baby GPT's step on an H100 libtorch's reduction over the first dimension of a bf16 gradient took 26 µs a call
// (19 calls, 0.50 ms a step, where torch.compile spends 0.20 ms on all its reductions), and adding fp32 strips and
// casting them two launches more (30 reductions, 0.23 ms: results/fused/README.md). Here a strip of rows a block row,
// a thread per 16-byte column vector, fp32 partial sums per strip; then one kernel adds the strips and writes the
// dtype. A unit of its own (build.sh): when it does not compile, the library keeps libtorch's reductions.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <algorithm>
#include <cstdint>

#include "device_common.cuh"
#include "fused_kernels.h"

namespace slm {
namespace {

constexpr int kLanes = 8;          // row lanes of a partial-sum block
constexpr int kFinishLanes = 16;   // strip lanes of the finishing block

// part[strip, c] = Σ over the strip's rows of x[r, c]: blocks of 32 column vectors × 8 row lanes.
template <typename T>
__global__ void column_partial_vec_kernel(const T* __restrict__ x, float* __restrict__ part, int64_t N, int64_t C, int64_t rows_per_strip) {
  constexpr int V = Vec<T>::N;
  __shared__ float sums[kLanes][32 * V + 1];
  const int64_t cv = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rows_per_strip;
  const int64_t r1 = r0 + rows_per_strip < N ? r0 + rows_per_strip : N;
  float acc[V];
#pragma unroll
  for (int e = 0; e < V; ++e) acc[e] = 0.f;
  if (cv * V < C) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kLanes) {
      const Vec<T> in = *reinterpret_cast<const Vec<T>*>(x + r * C + cv * V);
#pragma unroll
      for (int e = 0; e < V; ++e) acc[e] += f(in.v[e]);
    }
  }
#pragma unroll
  for (int e = 0; e < V; ++e) sums[threadIdx.y][threadIdx.x * V + e] = acc[e];
  __syncthreads();
  const int tid = threadIdx.y * 32 + threadIdx.x;
  for (int col = tid; col < 32 * V; col += 32 * kLanes) {
    const int64_t c = static_cast<int64_t>(blockIdx.x) * 32 * V + col;
    if (c < C) {
      float t = 0.f;
#pragma unroll
      for (int i = 0; i < kLanes; ++i) t += sums[i][col];
      part[static_cast<int64_t>(blockIdx.y) * C + c] = t;
    }
  }
}

// The same for any width and alignment: blocks of 32 columns × 8 row lanes, a value a load.
template <typename T>
__global__ void column_partial_kernel(const T* __restrict__ x, float* __restrict__ part, int64_t N, int64_t C, int64_t rows_per_strip) {
  __shared__ float sums[kLanes][33];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rows_per_strip;
  const int64_t r1 = r0 + rows_per_strip < N ? r0 + rows_per_strip : N;
  float acc = 0.f;
  if (c < C) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kLanes) acc += f(x[r * C + c]);
  }
  sums[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    float t = 0.f;
#pragma unroll
    for (int i = 0; i < kLanes; ++i) t += sums[i][threadIdx.x];
    part[static_cast<int64_t>(blockIdx.y) * C + c] = t;
  }
}

// out[c] = Σ_s part[s, c], written in T: blocks of 32 columns × 16 strip lanes.
template <typename T>
__global__ void finish_columns_kernel(const float* __restrict__ part, T* __restrict__ out, int64_t strips, int64_t C) {
  __shared__ float sums[kFinishLanes][33];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;
  float t = 0.f;
  if (c < C) {
#pragma unroll 4
    for (int64_t s = threadIdx.y; s < strips; s += kFinishLanes) t += part[s * C + c];
  }
  sums[threadIdx.y][threadIdx.x] = t;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    float total = 0.f;
#pragma unroll
    for (int i = 0; i < kFinishLanes; ++i) total += sums[i][threadIdx.x];
    out[c] = static_cast<T>(total);
  }
}

at::Tensor finish_column_sums_impl(const at::Tensor& part, at::ScalarType dtype) {
  const c10::cuda::CUDAGuard guard(part.device());
  const auto p = part.contiguous();
  const int64_t strips = p.size(0), C = p.size(1);
  auto out = at::empty({C}, p.options().dtype(dtype));
  if (C == 0) return out;
  if (strips == 0) return out.zero_();
  const dim3 grid(static_cast<unsigned>((C + 31) / 32)), block(32, kFinishLanes);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, dtype, "slm_finish_column_sums", [&] {
    finish_columns_kernel<scalar_t><<<grid, block, 0, at::cuda::getCurrentCUDAStream()>>>(p.data_ptr<float>(), out.data_ptr<scalar_t>(), strips, C);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

// Registered when the library loads (this unit linked in).
const bool registered = [] {
  optional_kernels().finish_column_sums = &finish_column_sums_impl;
  return true;
}();

}  // namespace

at::Tensor column_sums(const at::Tensor& x_in) {
  const c10::cuda::CUDAGuard guard(x_in.device());
  const auto x = x_in.contiguous();
  const int64_t N = x.size(0), C = x.size(1);
  if (N == 0 || C == 0) return at::zeros({C}, x.options());
  // Strips of at least 64 rows, at most 256 of them (as the norms' parameter gradients).
  const int64_t strips = std::max<int64_t>(1, std::min<int64_t>(256, (N + 63) / 64)), rows = (N + strips - 1) / strips;
  auto part = at::empty({strips, C}, x.options().dtype(at::kFloat));
  const dim3 block(32, kLanes);
  auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "slm_column_sums", [&] {
    constexpr int V = Vec<scalar_t>::N;
    if (C % V == 0 && reinterpret_cast<uintptr_t>(x.data_ptr()) % kVecBytes == 0) {
      const dim3 grid(static_cast<unsigned>((C / V + 31) / 32), static_cast<unsigned>(strips));
      column_partial_vec_kernel<scalar_t><<<grid, block, 0, stream>>>(x.data_ptr<scalar_t>(), part.data_ptr<float>(), N, C, rows);
    } else {
      const dim3 grid(static_cast<unsigned>((C + 31) / 32), static_cast<unsigned>(strips));
      column_partial_kernel<scalar_t><<<grid, block, 0, stream>>>(x.data_ptr<scalar_t>(), part.data_ptr<float>(), N, C, rows);
    }
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return finish_column_sums_impl(part, x.scalar_type());
}

}  // namespace slm
