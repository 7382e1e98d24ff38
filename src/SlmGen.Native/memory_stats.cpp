// The CUDA caching allocator's statistics, which TorchSharp 0.107 does not expose: bytes allocated now and at the peak
// since the last reset, per device — what a training step's peak memory is measured with (`slmgen time`). A separate
// unit of the build (build.sh): where it does not compile, the library is built without it and SlmGen reports no
// device memory.
#include <ATen/ATen.h>
#include <c10/cuda/CUDACachingAllocator.h>

#include "native_common.h"

namespace {

// The allocator knows a device only after libtorch's lazy CUDA initialisation ("Invalid device argument" before it,
// as in a process that has not yet put a tensor on the device): one small tensor there initialises both.
void ensure_initialised(int device) {
  at::empty({1}, at::TensorOptions().device(at::kCUDA, static_cast<c10::DeviceIndex>(device)));
}

}  // namespace

extern "C" {

// Which memory statistics this build has (1: allocated bytes, current and peak; reset of the peak).
int slm_memory_version() { return 1; }

// Bytes allocated by tensors on `device` now and at the peak since the last reset (the allocator's aggregate pool).
int slm_memory_stats(int device, long long* allocated, long long* peak) {
  return slm::guarded([&] {
    ensure_initialised(device);
    const auto stats = c10::cuda::CUDACachingAllocator::get()->getDeviceStats(static_cast<c10::DeviceIndex>(device));
    const auto& bytes = stats.allocated_bytes[0];  // StatType::AGGREGATE
    *allocated = static_cast<long long>(bytes.current);
    *peak = static_cast<long long>(bytes.peak);
  });
}

// Starts a new peak on `device` from what is allocated now.
int slm_memory_reset_peak(int device) {
  return slm::guarded([&] {
    ensure_initialised(device);
    c10::cuda::CUDACachingAllocator::get()->resetPeakStats(static_cast<c10::DeviceIndex>(device));
  });
}

}  // extern "C"
