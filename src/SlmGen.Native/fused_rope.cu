// SlmGen's fused rotary position embedding (issue 29): queries or keys (B, H, T, D), strided, rotated at positions
// start .. start + T − 1 in one pass, forward and backward — the unfused code's narrow, negate, concatenate, two
// multiplies and an add (and the backward's as many again). The first `rot` dimensions of each head turn (rot = D, or
// less for partial RoPE), the rest pass through. With half = rot / 2, c/s the tables' cosine and sine rounded to the
// tensor's dtype (as the unfused code casts them), and every product rounded where the unfused code rounds:
//   y_d = x_d·c_d − x_{d+half}·s_d   (d < half)        dx_d = dy_d·c_d + dy_{d+half}·s_{d+half}   (d < half)
//   y_d = x_d·c_d + x_{d−half}·s_d   (half ≤ d < rot)  dx_d = dy_d·c_d − dy_{d−half}·s_{d−half}   (half ≤ d < rot)
// Outputs are contiguous (B, H, T, D). Launched on the current stream; no host synchronisation (graph-capturable).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <algorithm>

#include "device_common.cuh"
#include "fused_kernels.h"

namespace slm {
namespace {

constexpr int kRopeThreads = 256;

struct Shape4 {
  int64_t H, T, D;              // sizes of dims 1..3 (dim 0 follows from n)
  int64_t sb, sh, st, sd;       // the input's strides
};

template <typename T>
__device__ __forceinline__ float rounded(float v) { return f(static_cast<T>(v)); }

// backward = false: y from x; backward = true: dx from dy (the transpose rotation). Output contiguous.
template <typename T, bool BACKWARD>
__global__ void rope_kernel(const T* __restrict__ x, const float* __restrict__ cos_table, const float* __restrict__ sin_table, T* __restrict__ y, int64_t n,
                            Shape4 shape, int64_t start, int64_t rot) {
  const int64_t half = rot / 2;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t d = i % shape.D, t = (i / shape.D) % shape.T, h = (i / (shape.D * shape.T)) % shape.H, b = i / (shape.D * shape.T * shape.H);
    const int64_t base = b * shape.sb + h * shape.sh + t * shape.st;
    const float xd = f(x[base + d * shape.sd]);
    if (d >= rot) {
      y[i] = static_cast<T>(xd);
      continue;
    }
    const int64_t row = (start + t) * rot;
    const float c = rounded<T>(cos_table[row + d]);
    const int64_t k = d < half ? d + half : d - half;  // the partner dimension
    const float xk = f(x[base + k * shape.sd]);
    // forward: the partner enters as −x_{d+half} (d < half) or +x_{d−half}, times s_d;
    // backward: as +dy_{d+half} (d < half) or −dy_{d−half}, times s_k.
    const float s = rounded<T>(sin_table[row + (BACKWARD ? k : d)]);
    const bool negative = BACKWARD ? d >= half : d < half;
    const float partner = rounded<T>(xk * s);
    y[i] = static_cast<T>(rounded<T>(xd * c) + (negative ? -partner : partner));
  }
}

int rope_blocks(int64_t n) {
  const int sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((n + kRopeThreads - 1) / kRopeThreads, static_cast<int64_t>(sms) * 16)));
}

}  // namespace

at::Tensor rope_apply(const at::Tensor& x, const at::Tensor& cos_table, const at::Tensor& sin_table, int64_t start, bool backward) {
  const c10::cuda::CUDAGuard guard(x.device());
  auto y = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  const int64_t n = x.numel();
  if (n == 0) return y;
  const Shape4 shape{x.size(1), x.size(2), x.size(3), x.stride(0), x.stride(1), x.stride(2), x.stride(3)};
  const int64_t rot = cos_table.size(1);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "slm_rope", [&] {
    auto kernel = backward ? rope_kernel<scalar_t, true> : rope_kernel<scalar_t, false>;
    kernel<<<rope_blocks(n), kRopeThreads, 0, at::cuda::getCurrentCUDAStream()>>>(x.data_ptr<scalar_t>(), cos_table.data_ptr<float>(), sin_table.data_ptr<float>(),
                                                                               y.data_ptr<scalar_t>(), n, shape, start, rot);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

}  // namespace slm
