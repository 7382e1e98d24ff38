// libslmgen_native: what TorchSharp 0.107 does not expose, for SlmGen's training step on CUDA.
//   - CUDA-graph capture and replay (at::cuda::CUDAGraph, its private memory pool, a side stream for capture)
//     of whatever TorchSharp runs on the capturing thread between begin and end;
//   - the caching allocator's emptyCache when a graph is destroyed (a captured graph's pool is not reused otherwise);
//   - fused AdamW (at::_fused_adamw_) with the learning rate and the step count on the device, so that a captured
//     optimizer step stays right on every replay;
//   - SlmGen's own fused kernels for the step's elementwise work and its loss (fused_kernels.cu, fused_ops.cpp,
//     fused_cross_entropy.cu, fused_rope.cu, loss_rope_ops.cpp), when built with nvcc.
// TorchSharp's tensor handles are at::Tensor* (LibTorchSharp's Tensor type); they are borrowed, never freed here.
// No C++ exception crosses the C ABI: a failing call returns -1 and slm_last_error() says why.
// Built against the libtorch it runs with (src/SlmGen.Native/build.sh); loaded by SlmGen.Native.CudaNative when present.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>

#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "native_common.h"

using slm::guarded;

namespace {

// One captured graph, with the side stream it is captured on and the stream that was current before.
struct Graph {
  explicit Graph(int device) : side(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, static_cast<c10::DeviceIndex>(device))) {}
  at::cuda::CUDAGraph graph;
  c10::cuda::CUDAStream side;
  std::optional<c10::cuda::CUDAStream> previous;
  bool captured = false;
};

std::vector<at::Tensor> tensors(void** handles, int count) {
  std::vector<at::Tensor> list;
  list.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    list.push_back(*static_cast<at::Tensor*>(handles[i]));
  }
  return list;
}

}  // namespace

extern "C" {

// 3: the fused kernels (fused_ops.cpp) where the library was built with CUDA's compiler; their entry points are
// absent otherwise, and SlmGen falls back to its unfused layers.
int slm_native_version() { return 3; }

const char* slm_last_error() { return slm::last_error().c_str(); }

void* slm_graph_create(int device) {
  Graph* created = nullptr;
  if (guarded([&] { created = new Graph(device); }) != 0) {
    return nullptr;
  }
  return created;
}

// Destroys the graph (its memory pool goes back to the caching allocator) and returns the allocator's unused cached
// memory to the device, so that the next graph's private pool does not find the device full.
int slm_graph_destroy(void* graph) {
  return guarded([&] {
    delete static_cast<Graph*>(graph);
    c10::cuda::CUDACachingAllocator::emptyCache();
  });
}

// Makes the graph's side stream current on this thread, after the work already queued on the current one.
int slm_graph_enter(void* handle) {
  return guarded([&] {
    auto* g = static_cast<Graph*>(handle);
    auto current = c10::cuda::getCurrentCUDAStream(g->side.device_index());
    at::cuda::CUDAEvent ready;
    ready.record(current);
    ready.block(g->side);
    g->previous = current;
    c10::cuda::setCurrentCUDAStream(g->side);
  });
}

// Returns to the stream that was current before enter; it waits for the side stream's work.
int slm_graph_exit(void* handle) {
  return guarded([&] {
    auto* g = static_cast<Graph*>(handle);
    if (!g->previous) {
      throw std::runtime_error("slm_graph_exit without slm_graph_enter");
    }
    at::cuda::CUDAEvent done;
    done.record(g->side);
    done.block(*g->previous);
    c10::cuda::setCurrentCUDAStream(*g->previous);
    g->previous.reset();
  });
}

// Starts capturing the side stream (call after enter) into the graph's own memory pool. As torch.cuda.graph does,
// the device is synchronised and the caching allocator's unused blocks are returned first: the private pool cannot
// reuse what the warm-up runs cached, and a large step would otherwise find the device full.
int slm_graph_begin(void* handle) {
  return guarded([&] {
    auto* g = static_cast<Graph*>(handle);
    if (c10::cuda::getCurrentCUDAStream(g->side.device_index()) != g->side) {
      throw std::runtime_error("capture must begin on the graph's side stream (call slm_graph_enter first)");
    }
    c10::cuda::device_synchronize();
    c10::cuda::CUDACachingAllocator::emptyCache();
    g->graph.capture_begin();
  });
}

int slm_graph_end(void* handle) {
  return guarded([&] {
    auto* g = static_cast<Graph*>(handle);
    g->graph.capture_end();
    g->captured = true;
  });
}

// Replays the captured work on the current stream.
int slm_graph_replay(void* handle) {
  return guarded([&] {
    auto* g = static_cast<Graph*>(handle);
    if (!g->captured) {
      throw std::runtime_error("nothing captured");
    }
    g->graph.replay();
  });
}

// AdamW over lists of tensors in one fused kernel (libtorch's _fused_adamw_): parameters, gradients and moments
// updated in place; `step` (float32, on the device) is read for the bias correction — the caller increments it —
// and `lr` is a float32 tensor on the device, so a captured call reads the current rate on every replay.
int slm_fused_adamw(void** params, void** grads, void** exp_avgs, void** exp_avg_sqs, int count, void* step, void* lr,
                    double beta1, double beta2, double weight_decay, double eps) {
  return guarded([&] {
    auto p = tensors(params, count);
    auto g = tensors(grads, count);
    auto m = tensors(exp_avgs, count);
    auto v = tensors(exp_avg_sqs, count);
    std::vector<at::Tensor> steps(static_cast<size_t>(count), *static_cast<at::Tensor*>(step));
    at::_fused_adamw_(p, g, m, v, /*max_exp_avg_sqs=*/{}, steps, *static_cast<at::Tensor*>(lr), beta1, beta2,
                      weight_decay, eps, /*amsgrad=*/false, /*maximize=*/false, /*grad_scale=*/std::nullopt,
                      /*found_inf=*/std::nullopt);
  });
}

}  // extern "C"
