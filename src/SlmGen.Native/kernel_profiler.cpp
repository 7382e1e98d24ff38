// libtorch's profiler (Kineto over CUPTI), which TorchSharp 0.107 does not expose: every CUDA kernel, copy and set a
// span of SlmGen's own steps launches — those replayed from a CUDA graph included — written as a Chrome trace that
// scripts/gpu/trace_summary.py turns into GPU time per kernel and per kernel class, beside PyTorch's own profile of
// the same model (scripts/gpu/torch_step.py --profile). A separate unit of the build (build.sh): where it does not
// compile, the library is built without it and `Bench --profile` says so.
#include <set>
#include <stdexcept>
#include <string>

#include <torch/csrc/autograd/profiler_kineto.h>

#include "native_common.h"

extern "C" {

// Which profiler this build has (1: start, then stop writing a Chrome trace).
int slm_profiler_version() { return 1; }

// Starts recording CPU operators and CUDA activity (kernels, copies, sets).
int slm_profiler_start() {
  return slm::guarded([] {
    using namespace torch::autograd::profiler;
    const ProfilerConfig config(ProfilerState::KINETO);
    const std::set<ActivityType> activities{ActivityType::CPU, ActivityType::CUDA};
    prepareProfiler(config, activities);
    enableProfiler(config, activities);
  });
}

// Stops recording and writes what was recorded to `path` as a Chrome trace (JSON).
int slm_profiler_stop(const char* path) {
  return slm::guarded([&] {
    auto result = torch::autograd::profiler::disableProfiler();
    if (!result) {
      throw std::runtime_error("the profiler returned no result (was it started?)");
    }
    result->save(std::string(path));
  });
}

}  // extern "C"
