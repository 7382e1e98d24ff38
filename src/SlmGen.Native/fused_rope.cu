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

// The same rotation a row (b, h, t) at a time, for an even `rot`: a row's position found once (the kernel above divides
// four 64-bit indices for every value: 148 µs a call against 23 µs of bytes at a 17 M design's shape on an H100,
// results/time/README.md), a thread per pair (d, d + half) reading both once and writing both, then the dimensions
// that pass through. Blocks of 32 × kRopeRows threads, a row a warp.
constexpr int kRopeRows = 4;

template <typename T, bool BACKWARD>
__global__ void rope_rows_kernel(const T* __restrict__ x, const float* __restrict__ cos_table, const float* __restrict__ sin_table, T* __restrict__ y, int64_t rows,
                                 Shape4 shape, int64_t start, int64_t rot) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRopeRows + threadIdx.y;
  if (row >= rows) return;
  const int64_t t = row % shape.T, bh = row / shape.T, h = bh % shape.H, b = bh / shape.H;
  const T* xr = x + b * shape.sb + h * shape.sh + t * shape.st;
  T* yr = y + row * shape.D;
  const float* cr = cos_table + (start + t) * rot;
  const float* sr = sin_table + (start + t) * rot;
  const int64_t half = rot / 2;
  for (int64_t d = threadIdx.x; d < half; d += 32) {
    const float lo = f(xr[d * shape.sd]), hi = f(xr[(d + half) * shape.sd]);
    const float c_lo = rounded<T>(cr[d]), c_hi = rounded<T>(cr[d + half]);
    const float s_lo = rounded<T>(sr[d]), s_hi = rounded<T>(sr[d + half]);
    if (BACKWARD) {
      // dx_d = dy_d·c_d + dy_{d+half}·s_{d+half};  dx_{d+half} = dy_{d+half}·c_{d+half} − dy_d·s_d
      yr[d] = static_cast<T>(rounded<T>(lo * c_lo) + rounded<T>(hi * s_hi));
      yr[d + half] = static_cast<T>(rounded<T>(hi * c_hi) - rounded<T>(lo * s_lo));
    } else {
      // y_d = x_d·c_d − x_{d+half}·s_d;  y_{d+half} = x_{d+half}·c_{d+half} + x_d·s_{d+half}
      yr[d] = static_cast<T>(rounded<T>(lo * c_lo) - rounded<T>(hi * s_lo));
      yr[d + half] = static_cast<T>(rounded<T>(hi * c_hi) + rounded<T>(lo * s_hi));
    }
  }
  for (int64_t d = rot + threadIdx.x; d < shape.D; d += 32) yr[d] = xr[d * shape.sd];
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
    if (rot % 2 == 0) {
      const int64_t rows = n / shape.D;
      auto kernel = backward ? rope_rows_kernel<scalar_t, true> : rope_rows_kernel<scalar_t, false>;
      kernel<<<static_cast<unsigned>((rows + kRopeRows - 1) / kRopeRows), dim3(32, kRopeRows), 0, at::cuda::getCurrentCUDAStream()>>>(
          x.data_ptr<scalar_t>(), cos_table.data_ptr<float>(), sin_table.data_ptr<float>(), y.data_ptr<scalar_t>(), rows, shape, start, rot);
      return;
    }
    auto kernel = backward ? rope_kernel<scalar_t, true> : rope_kernel<scalar_t, false>;
    kernel<<<rope_blocks(n), kRopeThreads, 0, at::cuda::getCurrentCUDAStream()>>>(x.data_ptr<scalar_t>(), cos_table.data_ptr<float>(), sin_table.data_ptr<float>(),
                                                                               y.data_ptr<scalar_t>(), n, shape, start, rot);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

}  // namespace slm
