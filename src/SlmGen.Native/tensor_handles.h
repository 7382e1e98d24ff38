// TorchSharp's tensor handles at the C ABI of the fused kernels' entry points (fused_ops.cpp, loss_rope_ops.cpp):
// at::Tensor* borrowed from the caller (null for an absent optional tensor), results returned as `new at::Tensor`
// that TorchSharp owns and disposes.
#pragma once
#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

namespace slm {

inline at::Tensor borrow(void* handle) { return handle != nullptr ? *static_cast<at::Tensor*>(handle) : at::Tensor(); }

inline void* give(const at::Tensor& t) { return new at::Tensor(t); }

inline void need_cuda(const at::Tensor& t, const char* what) {
  if (!t.defined() || !t.is_cuda()) throw std::invalid_argument(std::string(what) + " must be a CUDA tensor");
}

inline void need_floating(const at::Tensor& t, const char* what) {
  const auto type = t.scalar_type();
  if (type != at::kFloat && type != at::kBFloat16 && type != at::kHalf && type != at::kDouble) {
    throw std::invalid_argument(std::string(what) + " must be float, bfloat16, half or double");
  }
}

}  // namespace slm
