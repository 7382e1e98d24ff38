// The residual add + norm kernels (fused_kernels.cu's add_norm) for rows of at most 256 16-byte vectors (2,048 bf16
// or 1,024 fp32 columns) whose width is a whole number of vectors: a warp a row, four rows a block, the row held in
// registers between its passes, 16-byte loads and stores, warp shuffles for the sums (no block barrier). The general
// kernels give a row a block and read it from memory once a pass with 2-byte loads: at baby GPT's 16,384 rows × 384
// on an H100 they took 29 µs forward and 30 µs backward a call (results/fused/README.md), about twice what their bytes
// need. The same arithmetic per value as the general kernels (the sums are added in another order). A unit of its
// own (build.sh): when it does not compile, the library keeps the general kernels; when linked in, it registers itself
// in optional_kernels() at load.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <cstdint>
#include <initializer_list>

#include "device_common.cuh"
#include "fused_kernels.h"

namespace slm {
namespace {

constexpr int kRowsPerBlock = 4;
constexpr int kMostVectorsPerLane = 8;

template <typename T>
__device__ __forceinline__ Vec<T> load_vec(const T* p) { return *reinterpret_cast<const Vec<T>*>(p); }

template <typename T>
__device__ __forceinline__ void store_vec(T* p, const Vec<T>& v) { *reinterpret_cast<Vec<T>*>(p) = v; }

// Lane l of a row's warp owns the vectors l, l + 32, … (K of them at most).
template <typename T, bool RMS, int K>
__global__ void add_norm_forward_rows_kernel(const T* __restrict__ x, const T* __restrict__ r, const T* __restrict__ w, const T* __restrict__ b,
                                             T* __restrict__ s, T* __restrict__ y, float* __restrict__ mean_out, float* __restrict__ rstd_out,
                                             int64_t N, int64_t C, float eps, bool double_round) {
  constexpr int V = Vec<T>::N;
  const int lane = threadIdx.x & 31;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + (threadIdx.x >> 5);
  if (row >= N) return;  // the whole warp: no row of its own
  const int64_t vectors = C / V, base = row * C;
  Vec<T> src[K];
  float sum = 0.f;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    const int64_t j = lane + 32 * k;
    if (j < vectors) {
      src[k] = load_vec(x + base + j * V);
      if (r != nullptr) {
        const Vec<T> rv = load_vec(r + base + j * V);
#pragma unroll
        for (int e = 0; e < V; ++e) src[k].v[e] = static_cast<T>(f(src[k].v[e]) + f(rv.v[e]));
        store_vec(s + base + j * V, src[k]);
      }
#pragma unroll
      for (int e = 0; e < V; ++e) {
        const float v = f(src[k].v[e]);
        sum += RMS ? v * v : v;
      }
    }
  }
  sum = warp_sum(sum);
  float mean = 0.f, rstd;
  if (RMS) {
    rstd = rsqrtf(sum / C + eps);
  } else {
    mean = sum / C;
    float var = 0.f;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      if (lane + 32 * k < vectors) {
#pragma unroll
        for (int e = 0; e < V; ++e) {
          const float d = f(src[k].v[e]) - mean;
          var += d * d;
        }
      }
    }
    var = warp_sum(var);
    rstd = rsqrtf(var / C + eps);
  }
#pragma unroll
  for (int k = 0; k < K; ++k) {
    const int64_t j = lane + 32 * k;
    if (j < vectors) {
      Vec<T> wv, bv, out;
      if (w != nullptr) wv = load_vec(w + j * V);
      if (b != nullptr) bv = load_vec(b + j * V);
#pragma unroll
      for (int e = 0; e < V; ++e) {
        float v = (f(src[k].v[e]) - mean) * rstd;
        // SlmGen's RmsNorm rounds the normalised value before the weight multiplies it; LayerNorm rounds once.
        if (double_round) v = f(static_cast<T>(v));
        if (w != nullptr) v *= f(wv.v[e]);
        if (b != nullptr) v += f(bv.v[e]);
        out.v[e] = static_cast<T>(v);
      }
      store_vec(y + base + j * V, out);
    }
  }
  if (lane == 0) {
    mean_out[row] = mean;
    rstd_out[row] = rstd;
  }
}

// ds = the norm's input gradient (+ ds_extra): the row's dy and s kept in registers between the two passes.
template <typename T, bool RMS, int K>
__global__ void add_norm_backward_rows_kernel(const T* __restrict__ dy, const T* __restrict__ ds_extra, const T* __restrict__ s, const T* __restrict__ w,
                                              const float* __restrict__ mean_in, const float* __restrict__ rstd_in, T* __restrict__ ds, int64_t N, int64_t C) {
  constexpr int V = Vec<T>::N;
  const int lane = threadIdx.x & 31;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + (threadIdx.x >> 5);
  if (row >= N) return;
  const int64_t vectors = C / V, base = row * C;
  const float mean = mean_in[row], rstd = rstd_in[row];
  Vec<T> gv[K], sv[K];
  float a = 0.f, g_sum = 0.f;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    const int64_t j = lane + 32 * k;
    if (j < vectors) {
      gv[k] = load_vec(dy + base + j * V);
      sv[k] = load_vec(s + base + j * V);
      Vec<T> wv;
      if (w != nullptr) wv = load_vec(w + j * V);
#pragma unroll
      for (int e = 0; e < V; ++e) {
        // g rounded once (__fmul_rn: never contracted into a later fma), as the general kernel does.
        const float g = __fmul_rn(f(gv[k].v[e]), w != nullptr ? f(wv.v[e]) : 1.f);
        a += g * ((f(sv[k].v[e]) - mean) * rstd);
        g_sum += g;
      }
    }
  }
  const float c1 = warp_sum(a) / C;
  const float c2 = RMS ? 0.f : warp_sum(g_sum) / C;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    const int64_t j = lane + 32 * k;
    if (j < vectors) {
      Vec<T> wv, ev, out;
      if (w != nullptr) wv = load_vec(w + j * V);
      if (ds_extra != nullptr) ev = load_vec(ds_extra + base + j * V);
#pragma unroll
      for (int e = 0; e < V; ++e) {
        const float g = __fmul_rn(f(gv[k].v[e]), w != nullptr ? f(wv.v[e]) : 1.f);
        const float xhat = (f(sv[k].v[e]) - mean) * rstd;
        float v = rstd * (g - c2 - xhat * c1);
        if (ds_extra != nullptr) v += f(ev.v[e]);
        out.v[e] = static_cast<T>(v);
      }
      store_vec(ds + base + j * V, out);
    }
  }
}

// The norm's weight and bias gradients' partial sums, Σ dy · x̂ and Σ dy over a strip of rows: blocks of 32 column
// vectors × 8 row lanes, 16-byte loads (the general kernel loads a value at a time: 15 µs a call at baby GPT's shape).
template <typename T>
__global__ void norm_param_grad_vec_kernel(const T* __restrict__ dy, const T* __restrict__ s, const float* __restrict__ mean_in, const float* __restrict__ rstd_in,
                                           float* __restrict__ dw_part, float* __restrict__ db_part, int64_t N, int64_t C, int64_t rows_per_strip, bool double_round) {
  constexpr int V = Vec<T>::N;
  __shared__ float sw[8][32 * V + 1];
  __shared__ float sb[8][32 * V + 1];
  const int64_t cv = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rows_per_strip;
  const int64_t r1 = r0 + rows_per_strip < N ? r0 + rows_per_strip : N;
  float aw[V], ab[V];
#pragma unroll
  for (int e = 0; e < V; ++e) aw[e] = ab[e] = 0.f;
  if (cv * V < C) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
      const Vec<T> gv = load_vec(dy + r * C + cv * V);
      const Vec<T> sv = load_vec(s + r * C + cv * V);
      const float mean = mean_in[r], rstd = rstd_in[r];
#pragma unroll
      for (int e = 0; e < V; ++e) {
        const float g = f(gv.v[e]);
        float xhat = (f(sv.v[e]) - mean) * rstd;
        if (double_round) xhat = f(static_cast<T>(xhat));
        aw[e] += g * xhat;
        ab[e] += g;
      }
    }
  }
#pragma unroll
  for (int e = 0; e < V; ++e) {
    sw[threadIdx.y][threadIdx.x * V + e] = aw[e];
    sb[threadIdx.y][threadIdx.x * V + e] = ab[e];
  }
  __syncthreads();
  const int tid = threadIdx.y * 32 + threadIdx.x;
  for (int col = tid; col < 32 * V; col += 256) {
    const int64_t c = static_cast<int64_t>(blockIdx.x) * 32 * V + col;
    if (c < C) {
      float tw = 0.f, tb = 0.f;
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        tw += sw[i][col];
        tb += sb[i][col];
      }
      dw_part[static_cast<int64_t>(blockIdx.y) * C + c] = tw;
      if (db_part != nullptr) db_part[static_cast<int64_t>(blockIdx.y) * C + c] = tb;
    }
  }
}

template <typename T>
const T* ptr_or_null(const at::Tensor& t) { return t.defined() ? t.data_ptr<T>() : nullptr; }

// The vectors a lane needs for a row of `vectors` (1, 2, 4 or 8); 0 when the row is too long for these kernels.
int vectors_per_lane(int64_t vectors) {
  for (int k = 1; k <= kMostVectorsPerLane; k *= 2) {
    if (vectors <= 32 * k) return k;
  }
  return 0;
}

// Whether every defined tensor is contiguous and 16-byte aligned (so every row's start is too: the width is a whole
// number of vectors).
bool aligned(std::initializer_list<at::Tensor> tensors) {
  for (const auto& t : tensors) {
    if (t.defined() && (!t.is_contiguous() || reinterpret_cast<uintptr_t>(t.data_ptr()) % kVecBytes != 0)) return false;
  }
  return true;
}

template <typename T, int K>
void launch_forward(bool rms, unsigned blocks, cudaStream_t stream, const T* x, const T* r, const T* w, const T* b, T* s, T* y, float* mean, float* rstd,
                    int64_t N, int64_t C, float eps, bool double_round) {
  if (rms) {
    add_norm_forward_rows_kernel<T, true, K><<<blocks, 32 * kRowsPerBlock, 0, stream>>>(x, r, w, b, s, y, mean, rstd, N, C, eps, double_round);
  } else {
    add_norm_forward_rows_kernel<T, false, K><<<blocks, 32 * kRowsPerBlock, 0, stream>>>(x, r, w, b, s, y, mean, rstd, N, C, eps, double_round);
  }
}

template <typename T, int K>
void launch_backward(bool rms, unsigned blocks, cudaStream_t stream, const T* dy, const T* extra, const T* s, const T* w, const float* mean, const float* rstd, T* ds,
                     int64_t N, int64_t C) {
  if (rms) {
    add_norm_backward_rows_kernel<T, true, K><<<blocks, 32 * kRowsPerBlock, 0, stream>>>(dy, extra, s, w, mean, rstd, ds, N, C);
  } else {
    add_norm_backward_rows_kernel<T, false, K><<<blocks, 32 * kRowsPerBlock, 0, stream>>>(dy, extra, s, w, mean, rstd, ds, N, C);
  }
}

bool forward_rows(const at::Tensor& x, const at::Tensor& r, const at::Tensor& w, const at::Tensor& b, const at::Tensor& s, const at::Tensor& y,
                  const at::Tensor& mean, const at::Tensor& rstd, double eps, bool rms, bool double_round) {
  const int64_t C = x.size(-1), N = x.numel() / C;
  if (!aligned({x, r, w, b, s, y})) return false;
  bool launched = false;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "slm_add_norm_forward_rows", [&] {
    constexpr int V = Vec<scalar_t>::N;
    const int k = C % V == 0 ? vectors_per_lane(C / V) : 0;
    if (k == 0) return;
    const unsigned blocks = static_cast<unsigned>((N + kRowsPerBlock - 1) / kRowsPerBlock);
    auto stream = at::cuda::getCurrentCUDAStream();
    const scalar_t *xp = x.data_ptr<scalar_t>(), *rp = ptr_or_null<scalar_t>(r), *wp = ptr_or_null<scalar_t>(w), *bp = ptr_or_null<scalar_t>(b);
    scalar_t* sp = s.defined() ? s.data_ptr<scalar_t>() : nullptr;
    scalar_t* yp = y.data_ptr<scalar_t>();
    float *mp = mean.data_ptr<float>(), *rsp = rstd.data_ptr<float>();
    const float e = static_cast<float>(eps);
    switch (k) {
      case 1: launch_forward<scalar_t, 1>(rms, blocks, stream, xp, rp, wp, bp, sp, yp, mp, rsp, N, C, e, double_round); break;
      case 2: launch_forward<scalar_t, 2>(rms, blocks, stream, xp, rp, wp, bp, sp, yp, mp, rsp, N, C, e, double_round); break;
      case 4: launch_forward<scalar_t, 4>(rms, blocks, stream, xp, rp, wp, bp, sp, yp, mp, rsp, N, C, e, double_round); break;
      default: launch_forward<scalar_t, 8>(rms, blocks, stream, xp, rp, wp, bp, sp, yp, mp, rsp, N, C, e, double_round); break;
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    launched = true;
  });
  return launched;
}

bool backward_rows(const at::Tensor& dy, const at::Tensor& ds_extra, const at::Tensor& s, const at::Tensor& w, const at::Tensor& mean, const at::Tensor& rstd,
                   const at::Tensor& ds, bool rms) {
  const int64_t C = s.size(-1), N = s.numel() / C;
  if (!aligned({dy, ds_extra, s, w, ds})) return false;
  bool launched = false;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, s.scalar_type(), "slm_add_norm_backward_rows", [&] {
    constexpr int V = Vec<scalar_t>::N;
    const int k = C % V == 0 ? vectors_per_lane(C / V) : 0;
    if (k == 0) return;
    const unsigned blocks = static_cast<unsigned>((N + kRowsPerBlock - 1) / kRowsPerBlock);
    auto stream = at::cuda::getCurrentCUDAStream();
    const scalar_t *gp = dy.data_ptr<scalar_t>(), *ep = ptr_or_null<scalar_t>(ds_extra), *sp = s.data_ptr<scalar_t>(), *wp = ptr_or_null<scalar_t>(w);
    const float *mp = mean.data_ptr<float>(), *rsp = rstd.data_ptr<float>();
    scalar_t* dp = ds.data_ptr<scalar_t>();
    switch (k) {
      case 1: launch_backward<scalar_t, 1>(rms, blocks, stream, gp, ep, sp, wp, mp, rsp, dp, N, C); break;
      case 2: launch_backward<scalar_t, 2>(rms, blocks, stream, gp, ep, sp, wp, mp, rsp, dp, N, C); break;
      case 4: launch_backward<scalar_t, 4>(rms, blocks, stream, gp, ep, sp, wp, mp, rsp, dp, N, C); break;
      default: launch_backward<scalar_t, 8>(rms, blocks, stream, gp, ep, sp, wp, mp, rsp, dp, N, C); break;
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    launched = true;
  });
  return launched;
}

bool param_partials(const at::Tensor& dy, const at::Tensor& s, const at::Tensor& mean, const at::Tensor& rstd, const at::Tensor& dw_part, const at::Tensor& db_part,
                    int64_t rows_per_strip, bool double_round) {
  const int64_t C = s.size(-1), N = s.numel() / C, strips = dw_part.size(0);
  if (!aligned({dy, s})) return false;
  bool launched = false;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, s.scalar_type(), "slm_norm_param_partials", [&] {
    constexpr int V = Vec<scalar_t>::N;
    if (C % V != 0) return;
    const dim3 grid(static_cast<unsigned>((C / V + 31) / 32), static_cast<unsigned>(strips)), block(32, 8);
    norm_param_grad_vec_kernel<scalar_t><<<grid, block, 0, at::cuda::getCurrentCUDAStream()>>>(
        dy.data_ptr<scalar_t>(), s.data_ptr<scalar_t>(), mean.data_ptr<float>(), rstd.data_ptr<float>(), dw_part.data_ptr<float>(),
        db_part.defined() ? db_part.data_ptr<float>() : nullptr, N, C, rows_per_strip, double_round);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    launched = true;
  });
  return launched;
}

// Registered when the library loads (this unit linked in).
const bool registered = [] {
  optional_kernels().add_norm_forward_rows = &forward_rows;
  optional_kernels().add_norm_backward_rows = &backward_rows;
  optional_kernels().norm_param_partials = &param_partials;
  return true;
}();

}  // namespace
}  // namespace slm
