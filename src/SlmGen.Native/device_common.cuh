// Device helpers the fused kernels' files share (fused_kernels.cu, fused_cross_entropy.cu, fused_rope.cu, fused_rows.cu,
// fused_reduce.cu).
#pragma once
#include <cstdint>

namespace slm {
namespace {

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// The sum of v over the block (every thread gets it); `shared` holds 32 floats.
__device__ __forceinline__ float block_sum(float v, float* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();  // an earlier call's readers are done with shared
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = threadIdx.x < warps ? shared[threadIdx.x] : 0.f;
  if (warp == 0) v = warp_sum(v);
  if (threadIdx.x == 0) shared[0] = v;
  __syncthreads();
  return shared[0];
}

template <typename T>
__device__ __forceinline__ float f(T v) { return static_cast<float>(v); }

// 16 bytes of T (8 bf16/fp16, 4 float, 2 double): the vector kernels' loads and stores.
constexpr int kVecBytes = 16;

template <typename T>
struct alignas(kVecBytes) Vec {
  static constexpr int N = kVecBytes / sizeof(T);
  T v[N];
};

// Threads for a kernel that gives each row a block: a warp for short rows (a head's QK-norm over 32–128 values, a
// character vocabulary's logits), doubling while each thread would get more than 8 values, up to `most`.
inline int threads_per_row(int64_t columns, int most) {
  int t = 32;
  while (t < most && static_cast<int64_t>(t) * 8 < columns) t *= 2;
  return t;
}

}  // namespace
}  // namespace slm
