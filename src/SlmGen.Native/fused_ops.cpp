// The fused kernels (fused_kernels.cu) as libtorch autograd functions, and their C entry points for SlmGen
// (SlmGen.Native.FusedKernels). Each entry point takes TorchSharp's tensor handles (at::Tensor*, borrowed; null for an
// absent optional tensor) and returns new ones (`new at::Tensor`, owned by the caller: TorchSharp disposes them).
// The backward passes run inside libtorch's autograd engine, so TorchSharp's backward() reaches them like any other
// node, and a captured CUDA graph holds them like any other kernel.
#include <torch/csrc/autograd/custom_function.h>

#include <stdexcept>
#include <string>

#include "fused_kernels.h"
#include "native_common.h"
#include "tensor_handles.h"

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using slm::borrow;
using slm::give;
using slm::need_cuda;

namespace {

// libtorch's autograd Function::apply records every tensor argument's device (VariableInfo), which an undefined tensor
// has not: an absent optional tensor (a norm without weight or bias, an activation without bias) travels as an empty
// placeholder of the input's kind, and is undefined again inside forward. No real one is empty (widths are ≥ 1).
at::Tensor slot(const at::Tensor& t, const at::Tensor& like) { return t.defined() ? t.contiguous() : at::empty({0}, like.options()); }

at::Tensor unslot(const at::Tensor& t) { return t.numel() == 0 ? at::Tensor() : t; }

void same_kind(const at::Tensor& t, const at::Tensor& like, const char* what) {
  if (t.defined() && (t.scalar_type() != like.scalar_type() || t.device() != like.device())) {
    throw std::invalid_argument(std::string(what) + " must have the input's dtype and device");
  }
}

void vector_of(const at::Tensor& t, int64_t n, const char* what) {
  if (t.defined() && (t.dim() != 1 || t.size(0) != n)) throw std::invalid_argument(std::string(what) + " must be a vector of the last dimension's size");
}

struct NormFn : public torch::autograd::Function<NormFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w_slot, const at::Tensor& b_slot, double eps, bool rms, bool double_round) {
    const auto w = unslot(w_slot), b = unslot(b_slot);
    auto out = slm::add_norm_forward(x, at::Tensor(), w, b, eps, rms, double_round);
    ctx->save_for_backward({x, w, out[2], out[3]});
    ctx->saved_data["rms"] = rms;
    ctx->saved_data["double_round"] = double_round;
    ctx->saved_data["has_b"] = b.defined();
    return out[1];
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    auto saved = ctx->get_saved_variables();
    auto g = slm::add_norm_backward(grads[0].contiguous(), at::Tensor(), saved[0], saved[1], ctx->saved_data["has_b"].toBool(), saved[2], saved[3],
                                    ctx->saved_data["rms"].toBool(), ctx->saved_data["double_round"].toBool());
    return {g[0], g[1], g[2], at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct AddNormFn : public torch::autograd::Function<AddNormFn> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& r, const at::Tensor& w_slot, const at::Tensor& b_slot, double eps,
                               bool rms, bool double_round) {
    const auto w = unslot(w_slot), b = unslot(b_slot);
    auto out = slm::add_norm_forward(x, r, w, b, eps, rms, double_round);
    ctx->save_for_backward({out[0], w, out[2], out[3]});
    ctx->saved_data["rms"] = rms;
    ctx->saved_data["double_round"] = double_round;
    ctx->saved_data["has_b"] = b.defined();
    return {out[0], out[1]};
  }

  // grads[0] reaches s from the residual stream, grads[1] the norm's output; s = x + r passes the sum to both.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor none;
    auto saved = ctx->get_saved_variables();
    at::Tensor ds, dw, db;
    if (grads[1].defined()) {
      auto g = slm::add_norm_backward(grads[1].contiguous(), grads[0].defined() ? grads[0].contiguous() : none, saved[0], saved[1],
                                      ctx->saved_data["has_b"].toBool(), saved[2], saved[3], ctx->saved_data["rms"].toBool(),
                                      ctx->saved_data["double_round"].toBool());
      ds = g[0];
      dw = g[1];
      db = g[2];
    } else if (grads[0].defined()) {
      ds = grads[0];
    }
    return {ds, ds, dw, db, none, none, none};
  }
};

struct BiasActFn : public torch::autograd::Function<BiasActFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& b_slot, int64_t act) {
    const auto b = unslot(b_slot);
    ctx->save_for_backward({x, b});
    ctx->saved_data["act"] = act;
    return slm::bias_act_forward(x, b, static_cast<int>(act));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor()};
    auto saved = ctx->get_saved_variables();
    auto g = slm::bias_act_backward(grads[0].contiguous(), saved[0], saved[1], static_cast<int>(ctx->saved_data["act"].toInt()));
    return {g[0], g[1], at::Tensor()};
  }
};

struct SwiGluFn : public torch::autograd::Function<SwiGluFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b) {
    ctx->save_for_backward({a, b});
    return slm::swiglu_forward(a, b);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor()};
    auto saved = ctx->get_saved_variables();
    auto g = slm::swiglu_backward(grads[0].contiguous(), saved[0], saved[1]);
    return {g[0], g[1]};
  }
};

void check_norm(const at::Tensor& x, const at::Tensor& r, const at::Tensor& w, const at::Tensor& b) {
  need_cuda(x, "the norm's input");
  if (x.dim() < 1 || x.size(-1) < 1) throw std::invalid_argument("the norm's input needs a last dimension of at least 1");
  if (r.defined() && r.sizes() != x.sizes()) throw std::invalid_argument("the residual must have the input's shape");
  same_kind(r, x, "the residual");
  same_kind(w, x, "the norm's weight");
  same_kind(b, x, "the norm's bias");
  vector_of(w, x.size(-1), "the norm's weight");
  vector_of(b, x.size(-1), "the norm's bias");
}

}  // namespace

extern "C" {

// Which fused kernels this build has (1: add_norm, norm, bias_act with GELU and squared ReLU, swiglu).
int slm_fused_version() { return 1; }

// y = norm(x) · w + b over the last dimension; rms: RMSNorm (no mean), else LayerNorm; double_round: round the
// normalised value to x's dtype before the weight (SlmGen's RmsNorm), else once at the end (LayerNorm).
int slm_norm(void* x, void* w, void* b, double eps, int rms, int double_round, void** y) {
  return slm::guarded([&] {
    auto xt = borrow(x).contiguous();
    auto wt = borrow(w), bt = borrow(b);
    check_norm(xt, at::Tensor(), wt, bt);
    *y = give(NormFn::apply(xt, slot(wt, xt), slot(bt, xt), eps, rms != 0, double_round != 0));
  });
}

// s = x + r and y = norm(s) · w + b in one pass (the residual stream and the next sublayer's input).
int slm_add_norm(void* x, void* r, void* w, void* b, double eps, int rms, int double_round, void** s, void** y) {
  return slm::guarded([&] {
    auto xt = borrow(x).contiguous(), rt = borrow(r);
    if (!rt.defined()) throw std::invalid_argument("add_norm needs the residual");
    rt = rt.contiguous();
    auto wt = borrow(w), bt = borrow(b);
    check_norm(xt, rt, wt, bt);
    auto out = AddNormFn::apply(xt, rt, slot(wt, xt), slot(bt, xt), eps, rms != 0, double_round != 0);
    *s = give(out[0]);
    *y = give(out[1]);
  });
}

// y = act(x + b) (b optional, a vector over x's last dimension); act 0: GELU (erf), 1: squared ReLU.
int slm_bias_act(void* x, void* b, int act, void** y) {
  return slm::guarded([&] {
    auto xt = borrow(x).contiguous(), bt = borrow(b);
    need_cuda(xt, "the activation's input");
    if (act != slm::kGelu && act != slm::kReluSquared) throw std::invalid_argument("unknown activation " + std::to_string(act));
    if (xt.dim() < 1) throw std::invalid_argument("the activation's input needs a last dimension");
    same_kind(bt, xt, "the bias");
    vector_of(bt, xt.size(-1), "the bias");
    *y = give(BiasActFn::apply(xt, slot(bt, xt), static_cast<int64_t>(act)));
  });
}

// y = silu(a) · b.
int slm_swiglu(void* a, void* b, void** y) {
  return slm::guarded([&] {
    auto at_ = borrow(a).contiguous(), bt = borrow(b).contiguous();
    need_cuda(at_, "the gate");
    if (!bt.defined() || bt.sizes() != at_.sizes()) throw std::invalid_argument("the gate and the value must have one shape");
    same_kind(bt, at_, "the value");
    *y = give(SwiGluFn::apply(at_, bt));
  });
}

}  // extern "C"
