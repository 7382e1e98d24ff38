// SlmGen's fused cross-entropy (issue 29): the next-token loss of each row of logits and its gradient, without the
// fp32 copy, the saved log-softmax and the one-hot scatter of the unfused loss. The forward pass reads the logits
// once (an online max and sum in fp32) and keeps one log-sum-exp per row; the backward pass reads them once more and
// writes the gradient in the logits' dtype. Per row r with target t, real columns c < real (the ids pad_vocab_to adds
// past them take no probability and get no gradient):
//   lse_r = log Σ_c exp(x_rc),  loss_r = lse_r − x_rt + z · lse_r²  (z: PaLM's z-loss; 0 is the plain cross-entropy)
//   ∂loss_r/∂x_rc = softmax_rc · (1 + 2z · lse_r) − [c = t]
// A target outside [0, real) gives a NaN loss (the reference raises; a kernel cannot, and a NaN is seen, not silent).
// Launched on the current stream; no host synchronisation (graph-capturable).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <cmath>

#include "device_common.cuh"
#include "fused_kernels.h"

namespace slm {
namespace {

// Merges the running (max, Σ exp(x − max)) pair (m, s) with (m2, s2).
__device__ __forceinline__ void merge_max_sum(float& m, float& s, float m2, float s2) {
  const float top = fmaxf(m, m2);
  if (top == -INFINITY) return;  // both empty
  s = s * expf(m - top) + s2 * expf(m2 - top);
  m = top;
}

// One block per row (blockDim a multiple of 32).
template <typename T>
__global__ void cross_entropy_forward_kernel(const T* __restrict__ logits, const int64_t* __restrict__ targets, float* __restrict__ loss,
                                             float* __restrict__ lse_out, int64_t V, int64_t real, float z) {
  __shared__ float sm[32], ss[32];
  const int64_t row = blockIdx.x;
  const T* x = logits + row * V;
  float m = -INFINITY, s = 0.f;
  for (int64_t c = threadIdx.x; c < real; c += blockDim.x) {
    const float v = f(x[c]);
    if (v == -INFINITY) continue;  // exp(−∞) adds nothing (and −∞ − −∞ would be NaN)
    if (v > m) {
      s = s * expf(m - v) + 1.f;
      m = v;
    } else {
      s += expf(v - m);  // NaN logits stay NaN here, as in the reference
    }
  }
  for (int o = 16; o > 0; o >>= 1) merge_max_sum(m, s, __shfl_xor_sync(0xffffffffu, m, o), __shfl_xor_sync(0xffffffffu, s, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  if (lane == 0) {
    sm[warp] = m;
    ss[warp] = s;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < warps; ++w) merge_max_sum(m, s, sm[w], ss[w]);
    const float lse = m + logf(s);
    const int64_t t = targets[row];
    lse_out[row] = lse;
    loss[row] = (t < 0 || t >= real) ? NAN : lse - f(x[t]) + z * lse * lse;
  }
}

// One block per row: dx = g_r · (softmax · (1 + 2z · lse) − onehot(t)), zero on the padded columns.
template <typename T>
__global__ void cross_entropy_backward_kernel(const T* __restrict__ logits, const int64_t* __restrict__ targets, const float* __restrict__ lse_in,
                                              const float* __restrict__ grad_rows, T* __restrict__ dx, int64_t V, int64_t real, float z) {
  const int64_t row = blockIdx.x;
  const T* x = logits + row * V;
  T* d = dx + row * V;
  const float g = grad_rows[row], lse = lse_in[row];
  const float a = g * (1.f + 2.f * z * lse);
  const int64_t t = targets[row];
  for (int64_t c = threadIdx.x; c < V; c += blockDim.x) {
    float v = 0.f;
    if (c < real) {
      v = a * expf(f(x[c]) - lse);
      if (c == t) v -= g;
    }
    d[c] = static_cast<T>(v);
  }
}

}  // namespace

std::vector<at::Tensor> cross_entropy_forward(const at::Tensor& logits, const at::Tensor& targets, int64_t real, double z_loss) {
  const c10::cuda::CUDAGuard guard(logits.device());
  const int64_t N = logits.size(0), V = logits.size(1);
  auto opts = logits.options().dtype(at::kFloat);
  auto loss = at::empty({N}, opts), lse = at::empty({N}, opts);
  if (N == 0) return {loss, lse};
  const int threads = threads_per_row(real, 512);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, logits.scalar_type(), "slm_cross_entropy_forward", [&] {
    cross_entropy_forward_kernel<scalar_t><<<static_cast<unsigned>(N), threads, 0, at::cuda::getCurrentCUDAStream()>>>(
        logits.data_ptr<scalar_t>(), targets.data_ptr<int64_t>(), loss.data_ptr<float>(), lse.data_ptr<float>(), V, real, static_cast<float>(z_loss));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {loss, lse};
}

at::Tensor cross_entropy_backward(const at::Tensor& grad_rows, const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& lse, int64_t real, double z_loss) {
  const c10::cuda::CUDAGuard guard(logits.device());
  const int64_t N = logits.size(0), V = logits.size(1);
  auto dx = at::empty_like(logits);
  if (N == 0) return dx;
  const int threads = threads_per_row(V, 512);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, logits.scalar_type(), "slm_cross_entropy_backward", [&] {
    cross_entropy_backward_kernel<scalar_t><<<static_cast<unsigned>(N), threads, 0, at::cuda::getCurrentCUDAStream()>>>(
        logits.data_ptr<scalar_t>(), targets.data_ptr<int64_t>(), lse.data_ptr<float>(), grad_rows.data_ptr<float>(), dx.data_ptr<scalar_t>(), V, real,
        static_cast<float>(z_loss));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return dx;
}

}  // namespace slm
