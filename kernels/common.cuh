// Device helpers shared by every kernel file (include from .cu files only): ceil_div, warp
// reductions, 128-bit vector loads/stores, grid sizing and the launch check every launcher calls.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "common/error.h"

namespace resnetrs::kernels {

constexpr int kWarpSize = 32;
constexpr unsigned kFullMask = 0xffffffffu;

__host__ __device__ constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Butterfly sum: every lane ends with the warp's total. The order of additions is fixed, so the
// result is bitwise reproducible.
__device__ __forceinline__ float warp_reduce_sum(float v) {
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

// True when p may be read/written as float4 (128-bit) — the vector paths require it.
inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & uintptr_t(15)) == 0; }
inline bool aligned8(const void* p) { return (reinterpret_cast<uintptr_t>(p) & uintptr_t(7)) == 0; }

__device__ __forceinline__ float4 load4(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ __forceinline__ void store4(float* p, const float4& v) { *reinterpret_cast<float4*>(p) = v; }

// max(v, 0) with std::max's NaN behaviour (a NaN stays NaN, as in the CPU operators), so a NaN
// produced upstream is never silently turned into 0 by a ReLU.
__device__ __forceinline__ float relu(float v) { return v < 0.0f ? 0.0f : v; }

// Blocks for a grid-stride loop over `work` items, `threads` items per block per pass. Capped so
// the value always fits gridDim.x; the loops cover any remainder.
inline unsigned grid_for(int64_t work, int threads) {
  const int64_t blocks = ceil_div(work > 0 ? work : 1, threads);
  constexpr int64_t kMaxBlocks = int64_t(1) << 30;
  return static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

// Called right after every <<<>>>: turns a launch error into Error(kCudaError) naming the kernel.
// (An error left by an earlier asynchronous failure is reported here too; the message says so.)
inline void check_launch(const char* kernel) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    throw_error(Status::kCudaError, std::string("kernel launch failed: ") + kernel + ": " + cudaGetErrorName(err) + " (" +
                                        cudaGetErrorString(err) + "; may also be an earlier asynchronous error)");
  }
}

}  // namespace resnetrs::kernels
