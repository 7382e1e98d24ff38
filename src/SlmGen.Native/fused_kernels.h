// The fused CUDA kernels' host entry points (fused_kernels.cu, fused_cross_entropy.cu, fused_rope.cu); the autograd
// functions over them are in fused_ops.cpp and loss_rope_ops.cpp.
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


// Faster paths in units of their own (fused_rows.cu, fused_reduce.cu), which register here at load when the build
// linked them in (build.sh leaves out a unit that does not compile); null otherwise, and the kernels above take their
// general path.
struct OptionalKernels {
  // add_norm_forward over rows of at most 256 16-byte vectors, a warp a row; false (nothing written) when the tensors
  // do not qualify. s, y, mean and rstd are allocated by the caller (s undefined without r).
  bool (*add_norm_forward_rows)(const at::Tensor& x, const at::Tensor& r, const at::Tensor& w, const at::Tensor& b, const at::Tensor& s, const at::Tensor& y,
                                const at::Tensor& mean, const at::Tensor& rstd, double eps, bool rms, bool double_round) = nullptr;
  // add_norm_backward's ds likewise.
  bool (*add_norm_backward_rows)(const at::Tensor& dy, const at::Tensor& ds_extra, const at::Tensor& s, const at::Tensor& w, const at::Tensor& mean,
                                 const at::Tensor& rstd, const at::Tensor& ds, bool rms) = nullptr;
  // The norm's weight (and bias) gradient's partial sums over strips of rows_per_strip rows, Σ dy · x̂ (and Σ dy), into
  // dw_part (db_part) [strips, C] fp32, with 16-byte loads; false (nothing written) when the tensors do not qualify.
  bool (*norm_param_partials)(const at::Tensor& dy, const at::Tensor& s, const at::Tensor& mean, const at::Tensor& rstd, const at::Tensor& dw_part,
                              const at::Tensor& db_part, int64_t rows_per_strip, bool double_round) = nullptr;
  // [C] in dtype: the sum over the strips of fp32 partial column sums [strips, C], in one launch.
  at::Tensor (*finish_column_sums)(const at::Tensor& part, at::ScalarType dtype) = nullptr;
};
OptionalKernels& optional_kernels();

// fused_reduce.cu. The column sums of x (N, C) contiguous, [C] in x's dtype (fp32 accumulation): a biased linear
// layer's bias gradient (linear_ops.cpp).
at::Tensor column_sums(const at::Tensor& x);

// fused_cross_entropy.cu. {loss (N) fp32, lse (N) fp32} of logits (N, V) contiguous over the first `real` columns.
std::vector<at::Tensor> cross_entropy_forward(const at::Tensor& logits, const at::Tensor& targets, int64_t real, double z_loss);
// The logits' gradient (N, V) in their dtype, grad_rows (N) fp32 the gradient of each row's loss.
at::Tensor cross_entropy_backward(const at::Tensor& grad_rows, const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& lse, int64_t real, double z_loss);

// fused_rope.cu. x (B, H, T, D) strided; tables (context, rot) fp32 contiguous; the output contiguous. backward: the
// transpose rotation (dx from dy).
at::Tensor rope_apply(const at::Tensor& x, const at::Tensor& cos_table, const at::Tensor& sin_table, int64_t start, bool backward);

}  // namespace slm
