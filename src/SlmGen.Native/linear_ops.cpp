// A biased linear layer over rows, y = x Wᵀ + b, as a libtorch autograd function: forward is libtorch's own GEMM with
// the bias in its epilogue (addmm, what nn.functional.linear runs for 2-D input); backward runs the same two GEMMs
// and takes the bias's gradient from SlmGen's column-sum kernel (fused_reduce.cu) instead of libtorch's reduction.
// Built with fused_reduce.cu as a unit of its own (build.sh): without it, SlmGen's layers call nn.functional.linear.
#include <torch/csrc/autograd/custom_function.h>

#include <stdexcept>
#include <string>

#include "fused_kernels.h"
#include "native_common.h"
#include "tensor_handles.h"

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

struct LinearBiasFn : public torch::autograd::Function<LinearBiasFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
    ctx->save_for_backward({x, w});
    return at::addmm(b, x, w.t());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor none;
    if (!grads[0].defined()) return {none, none, none};
    auto saved = ctx->get_saved_variables();
    const auto dy = grads[0].contiguous();
    at::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) dx = dy.mm(saved[1]);
    if (ctx->needs_input_grad(1)) dw = dy.t().mm(saved[0]);
    if (ctx->needs_input_grad(2)) db = slm::column_sums(dy);
    return {dx, dw, db};
  }
};

void same_kind(const at::Tensor& t, const at::Tensor& like, const char* what) {
  if (t.scalar_type() != like.scalar_type() || t.device() != like.device()) {
    throw std::invalid_argument(std::string(what) + " must have the input's dtype and device");
  }
}

}  // namespace

extern "C" {

// Which version of the linear entry point this build has.
int slm_linear_version() { return 1; }

// y = x Wᵀ + b for rows x (N, in), weight (out, in), bias (out).
int slm_linear_bias(void* x, void* w, void* b, void** y) {
  return slm::guarded([&] {
    auto xt = slm::borrow(x), wt = slm::borrow(w), bt = slm::borrow(b);
    slm::need_cuda(xt, "the linear layer's input");
    if (xt.dim() != 2) throw std::invalid_argument("the linear layer's input must be rows (N, in)");
    if (!wt.defined() || wt.dim() != 2 || wt.size(1) != xt.size(1)) throw std::invalid_argument("the weight must be (out, in) for the input's in");
    if (!bt.defined() || bt.dim() != 1 || bt.size(0) != wt.size(0)) throw std::invalid_argument("the bias must be a vector of the weight's rows");
    same_kind(wt, xt, "the weight");
    same_kind(bt, xt, "the bias");
    *y = slm::give(LinearBiasFn::apply(xt, wt, bt));
  });
}

}  // extern "C"
