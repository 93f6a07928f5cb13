// Global average pool per (image, channel), with an optional per-channel bias added to the mean.
// Used as the SE squeeze (bias = conv3's folded-BN bias when that bias was left out of the
// convolution: mean(x + b) = mean(x) + b) and as the head's pool (bias = nullptr).
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/act_type.cuh"
#include "kernels/tensor_layout.cuh"

namespace resnetrs::kernels {

// in: n x c x hw in `layout`; bias: [c] or nullptr; out: [n, c] (always image-major).
void launch_global_avg_pool(const float* in, const float* bias, float* out, int n, int c, int hw, TensorLayout layout,
                            cudaStream_t stream);

// Same with `in` in any storage type; `out` (and bias) stay fp32.
void launch_global_avg_pool(const void* in, ActType type, const float* bias, float* out, int n, int c, int hw,
                            TensorLayout layout, cudaStream_t stream);

}  // namespace resnetrs::kernels
