// SlmGen's fused CUDA kernels (issue 29): the training step's elementwise chains in one pass each, forward and
// backward, fp32 arithmetic over float / bf16 / fp16 storage, launched on the current stream (graph-capturable: no
// host synchronisation, every buffer from the caching allocator).
//   add_norm   s = x + r (optional), y = norm(s) · w (optional) + b (optional); LayerNorm or RMSNorm over the last dim
//   bias_act   y = act(x + b (optional)); GELU (erf) or squared ReLU
//   swiglu     y = silu(a) · b
// Each forward rounds where the unfused TorchSharp reference rounds (s before the norm, the activation's input after
// the bias), so the fused results equal the reference's to float rounding. The autograd functions that call these
// are in fused_ops.cpp.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "device_common.cuh"
#include "fused_kernels.h"

namespace slm {
namespace {

constexpr int kThreads = 256;

// One block per row. s = x + r rounded to T (the reference's residual stream), then the norm of s in fp32.
template <typename T, bool RMS>
__global__ void add_norm_forward_kernel(const T* __restrict__ x, const T* __restrict__ r, const T* __restrict__ w, const T* __restrict__ b,
                                        T* __restrict__ s, T* __restrict__ y, float* __restrict__ mean_out, float* __restrict__ rstd_out,
                                        int64_t C, float eps, bool double_round) {
  __shared__ float red[32];
  const int64_t row = blockIdx.x;
  const T* xr = x + row * C;
  T* yr = y + row * C;
  const T* src = xr;
  if (r != nullptr) {
    const T* rr = r + row * C;
    T* sr = s + row * C;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) sr[c] = static_cast<T>(f(xr[c]) + f(rr[c]));
    src = sr;  // each thread re-reads only what it wrote: no barrier needed
  }
  float sum = 0.f;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const float v = f(src[c]);
    sum += RMS ? v * v : v;
  }
  sum = block_sum(sum, red);
  float mean = 0.f, rstd;
  if (RMS) {
    rstd = rsqrtf(sum / C + eps);
  } else {
    mean = sum / C;
    float var = 0.f;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
      const float d = f(src[c]) - mean;
      var += d * d;
    }
    var = block_sum(var, red);
    rstd = rsqrtf(var / C + eps);
  }
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    float v = (f(src[c]) - mean) * rstd;
    // SlmGen's RmsNorm rounds the normalised value before the weight multiplies it; LayerNorm rounds once.
    if (double_round) v = f(static_cast<T>(v));
    if (w != nullptr) v *= f(w[c]);
    if (b != nullptr) v += f(b[c]);
    yr[c] = static_cast<T>(v);
  }
  if (threadIdx.x == 0) {
    mean_out[row] = mean;
    rstd_out[row] = rstd;
  }
}

// One block per row: ds = the norm's input gradient (+ ds_extra, the gradient reaching s from the residual stream).
template <typename T, bool RMS>
__global__ void add_norm_backward_kernel(const T* __restrict__ dy, const T* __restrict__ ds_extra, const T* __restrict__ s, const T* __restrict__ w,
                                         const float* __restrict__ mean_in, const float* __restrict__ rstd_in, T* __restrict__ ds, int64_t C) {
  __shared__ float red[32];
  const int64_t row = blockIdx.x;
  const T* dyr = dy + row * C;
  const T* sr = s + row * C;
  const float mean = mean_in[row], rstd = rstd_in[row];
  float a = 0.f, g_sum = 0.f;
  // g rounded once (__fmul_rn: never contracted into a later fma), so that g − mean(g) is exactly 0 where it should be
  // (a width-1 LayerNorm: 1/sqrt(eps) times a contraction's rounding residue was a visible gradient).
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const float g = __fmul_rn(f(dyr[c]), w != nullptr ? f(w[c]) : 1.f);
    a += g * (f(sr[c]) - mean) * rstd;
    g_sum += g;
  }
  const float c1 = block_sum(a, red) / C;
  const float c2 = RMS ? 0.f : block_sum(g_sum, red) / C;
  T* dsr = ds + row * C;
  const T* er = ds_extra != nullptr ? ds_extra + row * C : nullptr;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const float g = __fmul_rn(f(dyr[c]), w != nullptr ? f(w[c]) : 1.f);
    const float xhat = (f(sr[c]) - mean) * rstd;
    float v = rstd * (g - c2 - xhat * c1);
    if (er != nullptr) v += f(er[c]);
    dsr[c] = static_cast<T>(v);
  }
}

// Column sums over a strip of rows: blocks of 32 columns × 8 row lanes; partial[strip, C] in fp32.
// The norm's weight and bias gradients: Σ dy · x̂ and Σ dy.
template <typename T>
__global__ void norm_param_grad_kernel(const T* __restrict__ dy, const T* __restrict__ s, const float* __restrict__ mean_in, const float* __restrict__ rstd_in,
                                       float* __restrict__ dw_part, float* __restrict__ db_part, int64_t N, int64_t C, int64_t rows_per_strip, bool double_round) {
  __shared__ float sw[8][33];
  __shared__ float sb[8][33];
  const int64_t c = blockIdx.x * 32 + threadIdx.x;
  const int64_t r0 = blockIdx.y * rows_per_strip, r1 = r0 + rows_per_strip < N ? r0 + rows_per_strip : N;
  float aw = 0.f, ab = 0.f;
  if (c < C) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
      const float g = f(dy[r * C + c]);
      float xhat = (f(s[r * C + c]) - mean_in[r]) * rstd_in[r];
      if (double_round) xhat = f(static_cast<T>(xhat));
      aw += g * xhat;
      ab += g;
    }
  }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    float tw = 0.f, tb = 0.f;
    for (int i = 0; i < 8; ++i) {
      tw += sw[i][threadIdx.x];
      tb += sb[i][threadIdx.x];
    }
    dw_part[blockIdx.y * C + c] = tw;
    if (db_part != nullptr) db_part[blockIdx.y * C + c] = tb;
  }
}

__device__ __forceinline__ float act_forward(float u, int act) {
  if (act == kGelu) return 0.5f * u * (1.f + erff(u * 0.70710678118654752f));
  const float p = u > 0.f ? u : 0.f;
  return p * p;
}

__device__ __forceinline__ float act_grad(float u, int act) {
  if (act == kGelu) return 0.5f * (1.f + erff(u * 0.70710678118654752f)) + u * 0.3989422804014327f * __expf(-0.5f * u * u);
  return u > 0.f ? 2.f * u : 0.f;
}

template <typename T>
__global__ void bias_act_forward_kernel(const T* __restrict__ x, const T* __restrict__ b, T* __restrict__ y, int64_t n, int64_t H, int act) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    float u = f(x[i]);
    if (b != nullptr) u = f(static_cast<T>(u + f(b[i % H])));
    y[i] = static_cast<T>(act_forward(u, act));
  }
}

// dx = dy · act'(x + b); with a bias, its gradient's column partial sums too (blocks of 32 columns × 8 row lanes).
template <typename T>
__global__ void bias_act_backward_kernel(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ b, T* __restrict__ dx,
                                         float* __restrict__ db_part, int64_t N, int64_t H, int64_t rows_per_strip, int act) {
  __shared__ float sb[8][33];
  const int64_t c = blockIdx.x * 32 + threadIdx.x;
  const int64_t r0 = blockIdx.y * rows_per_strip, r1 = r0 + rows_per_strip < N ? r0 + rows_per_strip : N;
  float ab = 0.f;
  if (c < H) {
    const float bc = b != nullptr ? f(b[c]) : 0.f;
    for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
      const int64_t i = r * H + c;
      float u = f(x[i]);
      if (b != nullptr) u = f(static_cast<T>(u + bc));
      const float g = f(dy[i]) * act_grad(u, act);
      dx[i] = static_cast<T>(g);
      ab += f(static_cast<T>(g));  // the reference sums the rounded gradient
    }
  }
  if (db_part == nullptr) return;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && c < H) {
    float t = 0.f;
    for (int i = 0; i < 8; ++i) t += sb[i][threadIdx.x];
    db_part[blockIdx.y * H + c] = t;
  }
}

// The same two kernels over 16-byte vectors (V values a thread: 8 bf16/fp16, 4 float) when the width is a multiple
// of V and every pointer is 16-byte aligned — the kernels above ran at about a third of the bandwidth (a 64-bit
// modulo per value for the bias's column, 2-byte loads; 90 µs against libtorch's GELU's 38 µs on baby GPT's
// 64 × 256 × 1,536 on an H100: results/fused/README.md). Here a thread owns one column vector (its bias values in
// registers) and walks rows: no index arithmetic per value. The same arithmetic and rounding per value as above.
// (Vec and kVecBytes: device_common.cuh.)

template <typename T>
__global__ void bias_act_forward_vec_kernel(const T* __restrict__ x, const T* __restrict__ b, T* __restrict__ y, int64_t N, int64_t H, int act) {
  constexpr int V = Vec<T>::N;
  const int64_t cv = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (cv * V >= H) return;
  float bias[V];
#pragma unroll
  for (int k = 0; k < V; ++k) bias[k] = 0.f;
  if (b != nullptr) {
    const Vec<T> bv = *reinterpret_cast<const Vec<T>*>(b + cv * V);
#pragma unroll
    for (int k = 0; k < V; ++k) bias[k] = f(bv.v[k]);
  }
  for (int64_t r = blockIdx.y; r < N; r += gridDim.y) {
    const int64_t i = r * H + cv * V;
    const Vec<T> in = *reinterpret_cast<const Vec<T>*>(x + i);
    Vec<T> out;
#pragma unroll
    for (int k = 0; k < V; ++k) {
      float u = f(in.v[k]);
      if (b != nullptr) u = f(static_cast<T>(u + bias[k]));
      out.v[k] = static_cast<T>(act_forward(u, act));
    }
    *reinterpret_cast<Vec<T>*>(y + i) = out;
  }
}

// Blocks of 32 column vectors × 8 row lanes over a strip of rows; with a bias, its gradient's column partial sums.
template <typename T>
__global__ void bias_act_backward_vec_kernel(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ b, T* __restrict__ dx,
                                             float* __restrict__ db_part, int64_t N, int64_t H, int64_t rows_per_strip, int act) {
  constexpr int V = Vec<T>::N;
  __shared__ float sb[8][32 * V + 1];
  const int64_t cv = blockIdx.x * 32 + threadIdx.x;
  const int64_t r0 = blockIdx.y * rows_per_strip, r1 = r0 + rows_per_strip < N ? r0 + rows_per_strip : N;
  float ab[V];
#pragma unroll
  for (int k = 0; k < V; ++k) ab[k] = 0.f;
  if (cv * V < H) {
    float bc[V];
#pragma unroll
    for (int k = 0; k < V; ++k) bc[k] = 0.f;
    if (b != nullptr) {
      const Vec<T> bv = *reinterpret_cast<const Vec<T>*>(b + cv * V);
#pragma unroll
      for (int k = 0; k < V; ++k) bc[k] = f(bv.v[k]);
    }
    for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
      const int64_t i = r * H + cv * V;
      const Vec<T> gv = *reinterpret_cast<const Vec<T>*>(dy + i);
      const Vec<T> xv = *reinterpret_cast<const Vec<T>*>(x + i);
      Vec<T> out;
#pragma unroll
      for (int k = 0; k < V; ++k) {
        float u = f(xv.v[k]);
        if (b != nullptr) u = f(static_cast<T>(u + bc[k]));
        const T g = static_cast<T>(f(gv.v[k]) * act_grad(u, act));
        out.v[k] = g;
        ab[k] += f(g);  // the reference sums the rounded gradient
      }
      *reinterpret_cast<Vec<T>*>(dx + i) = out;
    }
  }
  if (db_part == nullptr) return;
#pragma unroll
  for (int k = 0; k < V; ++k) sb[threadIdx.y][threadIdx.x * V + k] = ab[k];
  __syncthreads();
  const int tid = threadIdx.y * 32 + threadIdx.x;
  for (int col = tid; col < 32 * V; col += 256) {
    const int64_t c = blockIdx.x * 32 * V + col;
    if (c < H) {
      float t = 0.f;
      for (int i = 0; i < 8; ++i) t += sb[i][col];
      db_part[blockIdx.y * H + c] = t;
    }
  }
}

// SwiGLU as the reference computes it: silu(a) rounded, times b, rounded.
template <typename T>
__global__ void swiglu_forward_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const float av = f(a[i]);
    const float silu = f(static_cast<T>(av / (1.f + __expf(-av))));
    y[i] = static_cast<T>(silu * f(b[i]));
  }
}

template <typename T>
__global__ void swiglu_backward_kernel(const T* __restrict__ dy, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ da, T* __restrict__ db, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const float av = f(a[i]), g = f(dy[i]);
    const float sig = 1.f / (1.f + __expf(-av));
    const float silu = f(static_cast<T>(av * sig));
    db[i] = static_cast<T>(g * silu);
    const float dsilu = f(static_cast<T>(g * f(b[i])));
    da[i] = static_cast<T>(dsilu * sig * (1.f + av * (1.f - sig)));
  }
}

int64_t strips_for(int64_t rows) { return std::max<int64_t>(1, std::min<int64_t>(256, (rows + 63) / 64)); }

int elementwise_blocks(int64_t n) {
  const int sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((n + kThreads - 1) / kThreads, static_cast<int64_t>(sms) * 16)));
}

template <typename T>
const T* ptr_or_null(const at::Tensor& t) { return t.defined() ? t.data_ptr<T>() : nullptr; }

// Whether the vector kernels take these tensors: the width a multiple of a vector, every defined tensor contiguous
// and 16-byte aligned (so every row's start is too).
template <typename T>
bool vectorisable(int64_t H, std::initializer_list<at::Tensor> tensors) {
  if (H % Vec<T>::N != 0) return false;
  for (const auto& t : tensors) {
    if (t.defined() && (!t.is_contiguous() || reinterpret_cast<uintptr_t>(t.data_ptr()) % kVecBytes != 0)) return false;
  }
  return true;
}

}  // namespace

OptionalKernels& optional_kernels() {
  static OptionalKernels kernels;
  return kernels;
}

namespace {

// The strips' partial sums [strips, C] added up in the parameter's dtype: one launch of fused_reduce.cu's kernel when
// it is linked in, else libtorch's reduction and a cast.
at::Tensor finish(const at::Tensor& part, at::ScalarType dtype) {
  const auto kernel = optional_kernels().finish_column_sums;
  return kernel != nullptr ? kernel(part, dtype) : part.sum(0).to(dtype);
}

}  // namespace

std::vector<at::Tensor> add_norm_forward(const at::Tensor& x, const at::Tensor& r, const at::Tensor& w, const at::Tensor& b, double eps, bool rms, bool double_round) {
  const c10::cuda::CUDAGuard guard(x.device());
  const int64_t C = x.size(-1), N = x.numel() / C;
  auto y = at::empty_like(x);
  auto s = r.defined() ? at::empty_like(x) : at::Tensor();
  auto opts = x.options().dtype(at::kFloat);
  auto mean = at::empty({N}, opts), rstd = at::empty({N}, opts);
  if (N == 0) return {s, y, mean, rstd};
  const auto rows = optional_kernels().add_norm_forward_rows;
  if (rows != nullptr && rows(x, r, w, b, s, y, mean, rstd, eps, rms, double_round)) return {s, y, mean, rstd};
  auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "slm_add_norm_forward", [&] {
    auto kernel = rms ? add_norm_forward_kernel<scalar_t, true> : add_norm_forward_kernel<scalar_t, false>;
    kernel<<<static_cast<unsigned>(N), threads_per_row(C, kThreads), 0, stream>>>(x.data_ptr<scalar_t>(), ptr_or_null<scalar_t>(r), ptr_or_null<scalar_t>(w), ptr_or_null<scalar_t>(b),
                                                            s.defined() ? s.data_ptr<scalar_t>() : nullptr, y.data_ptr<scalar_t>(), mean.data_ptr<float>(), rstd.data_ptr<float>(),
                                                            C, static_cast<float>(eps), double_round);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {s, y, mean, rstd};
}

std::vector<at::Tensor> add_norm_backward(const at::Tensor& dy, const at::Tensor& ds_extra, const at::Tensor& s, const at::Tensor& w, bool has_b,
                                          const at::Tensor& mean, const at::Tensor& rstd, bool rms, bool double_round) {
  const c10::cuda::CUDAGuard guard(s.device());
  const int64_t C = s.size(-1), N = s.numel() / C;
  auto ds = at::empty_like(s);
  at::Tensor dw, db;
  if (N == 0) {
    ds.zero_();
    if (w.defined()) dw = at::zeros_like(w);
    if (has_b) db = at::zeros_like(w.defined() ? w : s.new_empty({C}));
    return {ds, dw, db};
  }
  auto stream = at::cuda::getCurrentCUDAStream();
  const auto rows_kernel = optional_kernels().add_norm_backward_rows;
  const bool ds_done = rows_kernel != nullptr && rows_kernel(dy, ds_extra, s, w, mean, rstd, ds, rms);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, s.scalar_type(), "slm_add_norm_backward", [&] {
    if (!ds_done) {
      auto kernel = rms ? add_norm_backward_kernel<scalar_t, true> : add_norm_backward_kernel<scalar_t, false>;
      kernel<<<static_cast<unsigned>(N), threads_per_row(C, kThreads), 0, stream>>>(dy.data_ptr<scalar_t>(), ptr_or_null<scalar_t>(ds_extra), s.data_ptr<scalar_t>(), ptr_or_null<scalar_t>(w),
                                                              mean.data_ptr<float>(), rstd.data_ptr<float>(), ds.data_ptr<scalar_t>(), C);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
    if (w.defined() || has_b) {
      const int64_t strips = strips_for(N), rows = (N + strips - 1) / strips;
      auto fopts = s.options().dtype(at::kFloat);
      auto dw_part = at::empty({strips, C}, fopts);
      auto db_part = has_b ? at::empty({strips, C}, fopts) : at::Tensor();
      const auto partials = optional_kernels().norm_param_partials;
      if (partials == nullptr || !partials(dy, s, mean, rstd, dw_part, db_part, rows, double_round)) {
        dim3 grid(static_cast<unsigned>((C + 31) / 32), static_cast<unsigned>(strips)), block(32, 8);
        norm_param_grad_kernel<scalar_t><<<grid, block, 0, stream>>>(dy.data_ptr<scalar_t>(), s.data_ptr<scalar_t>(), mean.data_ptr<float>(), rstd.data_ptr<float>(),
                                                                      dw_part.data_ptr<float>(), has_b ? db_part.data_ptr<float>() : nullptr, N, C, rows, double_round);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      }
      const auto param_type = w.defined() ? w.scalar_type() : s.scalar_type();
      if (w.defined()) dw = finish(dw_part, param_type);
      if (has_b) db = finish(db_part, param_type);
    }
  });
  return {ds, dw, db};
}

at::Tensor bias_act_forward(const at::Tensor& x, const at::Tensor& b, int act) {
  const c10::cuda::CUDAGuard guard(x.device());
  auto y = at::empty_like(x);
  const int64_t n = x.numel(), H = x.size(-1);
  if (n == 0) return y;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "slm_bias_act_forward", [&] {
    if (vectorisable<scalar_t>(H, {x, y, b})) {
      const int64_t hv = H / Vec<scalar_t>::N, N = n / H;
      const int threads = static_cast<int>(std::min<int64_t>(256, (hv + 31) / 32 * 32));
      const int64_t columns = (hv + threads - 1) / threads;
      const int sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
      const int64_t rows = std::max<int64_t>(1, std::min<int64_t>({N, 65535, static_cast<int64_t>(sms) * 16 * 256 / threads / columns}));
      bias_act_forward_vec_kernel<scalar_t><<<dim3(static_cast<unsigned>(columns), static_cast<unsigned>(rows)), threads, 0, at::cuda::getCurrentCUDAStream()>>>(
          x.data_ptr<scalar_t>(), ptr_or_null<scalar_t>(b), y.data_ptr<scalar_t>(), N, H, act);
    } else {
      bias_act_forward_kernel<scalar_t><<<elementwise_blocks(n), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(x.data_ptr<scalar_t>(), ptr_or_null<scalar_t>(b), y.data_ptr<scalar_t>(), n, H, act);
    }
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

std::vector<at::Tensor> bias_act_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& b, int act) {
  const c10::cuda::CUDAGuard guard(x.device());
  auto dx = at::empty_like(x);
  const int64_t H = x.size(-1), N = x.numel() / std::max<int64_t>(1, H);
  at::Tensor db;
  if (x.numel() == 0) return {dx, b.defined() ? at::zeros_like(b) : db};
  const int64_t strips = strips_for(N), rows = (N + strips - 1) / strips;
  auto db_part = b.defined() ? at::empty({strips, H}, x.options().dtype(at::kFloat)) : at::Tensor();
  const dim3 block(32, 8);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "slm_bias_act_backward", [&] {
    if (vectorisable<scalar_t>(H, {dy, x, dx, b})) {
      const dim3 grid(static_cast<unsigned>((H / Vec<scalar_t>::N + 31) / 32), static_cast<unsigned>(strips));
      bias_act_backward_vec_kernel<scalar_t><<<grid, block, 0, at::cuda::getCurrentCUDAStream()>>>(dy.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), ptr_or_null<scalar_t>(b), dx.data_ptr<scalar_t>(),
                                                                                                  b.defined() ? db_part.data_ptr<float>() : nullptr, N, H, rows, act);
    } else {
      const dim3 grid(static_cast<unsigned>((H + 31) / 32), static_cast<unsigned>(strips));
      bias_act_backward_kernel<scalar_t><<<grid, block, 0, at::cuda::getCurrentCUDAStream()>>>(dy.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), ptr_or_null<scalar_t>(b), dx.data_ptr<scalar_t>(),
                                                                                              b.defined() ? db_part.data_ptr<float>() : nullptr, N, H, rows, act);
    }
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  if (b.defined()) db = finish(db_part, b.scalar_type());
  return {dx, db};
}

at::Tensor swiglu_forward(const at::Tensor& a, const at::Tensor& b) {
  const c10::cuda::CUDAGuard guard(a.device());
  auto y = at::empty_like(a);
  const int64_t n = a.numel();
  if (n == 0) return y;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, a.scalar_type(), "slm_swiglu_forward", [&] {
    swiglu_forward_kernel<scalar_t><<<elementwise_blocks(n), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(a.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), n);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

std::vector<at::Tensor> swiglu_backward(const at::Tensor& dy, const at::Tensor& a, const at::Tensor& b) {
  const c10::cuda::CUDAGuard guard(a.device());
  auto da = at::empty_like(a), db = at::empty_like(b);
  const int64_t n = a.numel();
  if (n == 0) return {da, db};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, a.scalar_type(), "slm_swiglu_backward", [&] {
    swiglu_backward_kernel<scalar_t><<<elementwise_blocks(n), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(dy.data_ptr<scalar_t>(), a.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(),
                                                                                                              da.data_ptr<scalar_t>(), db.data_ptr<scalar_t>(), n);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {da, db};
}

}  // namespace slm
