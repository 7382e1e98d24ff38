// The fused cross-entropy (fused_cross_entropy.cu) and rotary embedding (fused_rope.cu) as libtorch autograd
// functions, and their C entry points for SlmGen (SlmGen.Native.FusedKernels). Built, like fused_ops.cpp, only with
// nvcc — and apart from it, so that a build where these fail keeps the other fused kernels (build.sh).
#include <torch/csrc/autograd/custom_function.h>

#include <stdexcept>
#include <string>

#include "fused_kernels.h"
#include "native_common.h"
#include "tensor_handles.h"

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

// Rows of logits (N, V) to each row's loss (N, fp32); the gradient computed from the saved logits and log-sum-exp.
struct CrossEntropyFn : public torch::autograd::Function<CrossEntropyFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& logits, const at::Tensor& targets, int64_t real, double z_loss) {
    auto out = slm::cross_entropy_forward(logits, targets, real, z_loss);
    ctx->save_for_backward({logits, targets, out[1]});
    ctx->saved_data["real"] = real;
    ctx->saved_data["z"] = z_loss;
    return out[0];
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor none;
    if (!grads[0].defined()) return {none, none, none, none};
    auto saved = ctx->get_saved_variables();
    auto dx = slm::cross_entropy_backward(grads[0].to(at::kFloat).contiguous(), saved[0], saved[1], saved[2], ctx->saved_data["real"].toInt(),
                                          ctx->saved_data["z"].toDouble());
    return {dx, none, none, none};
  }
};

struct RopeFn : public torch::autograd::Function<RopeFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& cos_table, const at::Tensor& sin_table, int64_t start) {
    ctx->save_for_backward({cos_table, sin_table});
    ctx->saved_data["start"] = start;
    return slm::rope_apply(x, cos_table, sin_table, start, false);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor none;
    if (!grads[0].defined()) return {none, none, none, none};
    auto saved = ctx->get_saved_variables();
    return {slm::rope_apply(grads[0], saved[0], saved[1], ctx->saved_data["start"].toInt(), true), none, none, none};
  }
};

}  // namespace

extern "C" {

// Which of these this build has (1: cross_entropy with z-loss and padded columns, rope with partial rotation).
int slm_loss_rope_version() { return 1; }

// Each row's next-token loss (N, fp32) from logits (N, V) over their first `real` columns, plus z_loss · lse².
int slm_cross_entropy(void* logits, void* targets, long long real, double z_loss, void** loss) {
  return slm::guarded([&] {
    auto x = slm::borrow(logits), t = slm::borrow(targets);
    slm::need_cuda(x, "the logits");
    slm::need_floating(x, "the logits");
    if (x.dim() != 2) throw std::invalid_argument("the logits must be (rows, vocabulary)");
    if (real < 1 || real > x.size(1)) throw std::invalid_argument("the real vocabulary must be within 1 .. the logits' columns, not " + std::to_string(real));
    if (!t.defined() || t.scalar_type() != at::kLong || t.dim() != 1 || t.size(0) != x.size(0) || t.device() != x.device()) {
      throw std::invalid_argument("the targets must be one int64 id per row, on the logits' device");
    }
    *loss = slm::give(CrossEntropyFn::apply(x.contiguous(), t.contiguous(), static_cast<int64_t>(real), z_loss));
  });
}

// x (B, H, T, D) rotated at positions start .. start + T − 1 by the tables (context, rot) fp32; the first rot
// dimensions of each head turn, the rest pass through. The result is contiguous.
int slm_rope(void* x, void* cos_table, void* sin_table, long long start, void** y) {
  return slm::guarded([&] {
    auto xt = slm::borrow(x), c = slm::borrow(cos_table), s = slm::borrow(sin_table);
    slm::need_cuda(xt, "the queries or keys");
    slm::need_floating(xt, "the queries or keys");
    if (xt.dim() != 4) throw std::invalid_argument("the queries or keys must be (batch, heads, positions, head size)");
    if (!c.defined() || !s.defined() || c.scalar_type() != at::kFloat || s.scalar_type() != at::kFloat || c.dim() != 2 || c.sizes() != s.sizes() ||
        c.device() != xt.device() || s.device() != xt.device()) {
      throw std::invalid_argument("the tables must be fp32 (context, rotated dimensions) on the input's device");
    }
    const int64_t rot = c.size(1);
    if (rot < 2 || rot % 2 != 0 || rot > xt.size(3)) throw std::invalid_argument("the rotated dimensions must be even and within the head size");
    if (start < 0 || start + xt.size(2) > c.size(0)) throw std::invalid_argument("positions past the tables' context");
    *y = slm::give(RopeFn::apply(xt, c.contiguous(), s.contiguous(), static_cast<int64_t>(start)));
  });
}

}  // extern "C"
