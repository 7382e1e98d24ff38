// The fused CUDA kernels' host entry points (fused_kernels.cu); the autograd functions over them are in fused_ops.cpp.
#pragma once
#include <ATen/ATen.h>

#include <vector>

namespace slm {

constexpr int kGelu = 0;         // exact (erf) GELU
constexpr int kReluSquared = 1;  // max(x, 0)²

// {s (undefined without r), y, mean, rstd}: s = x + r, y = norm(s) · w + b over the last dimension (w, b optional).
std::vector<at::Tensor> add_norm_forward(const at::Tensor& x, const at::Tensor& r, const at::Tensor& w, const at::Tensor& b, double eps, bool rms, bool double_round);
// {ds, dw, db}: ds is the gradient of s (and so of x and r), ds_extra (optional) added to it.
std::vector<at::Tensor> add_norm_backward(const at::Tensor& dy, const at::Tensor& ds_extra, const at::Tensor& s, const at::Tensor& w, bool has_b,
                                          const at::Tensor& mean, const at::Tensor& rstd, bool rms, bool double_round);
at::Tensor bias_act_forward(const at::Tensor& x, const at::Tensor& b, int act);
std::vector<at::Tensor> bias_act_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& b, int act);
at::Tensor swiglu_forward(const at::Tensor& a, const at::Tensor& b);
std::vector<at::Tensor> swiglu_backward(const at::Tensor& dy, const at::Tensor& a, const at::Tensor& b);

}  // namespace slm
