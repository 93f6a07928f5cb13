// Input normalization: out = (pixel - mean[c]) * (1 / std[c]) for the 3 RGB channels, converting
// from the caller's layout (NCHW or NHWC) to the engine's activation layout (NCHW or NHWC).
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/act_type.cuh"
#include "kernels/tensor_layout.cuh"

namespace resnetrs::kernels {

struct NormalizeParams {
  float mean[3];
  float inv_std[3];  // 1.0f / std[c], computed in float exactly as the CPU operator does
};

// in: n x 3 x h x w floats in in_layout; out: the same in out_layout. in and out must not overlap.
void launch_normalize_input(const float* in, TensorLayout in_layout, float* out, TensorLayout out_layout, int n, int h,
                            int w, const NormalizeParams& params, cudaStream_t stream);

// Same, writing `out` in `out_type` (the caller's pixels stay fp32).
void launch_normalize_input(const float* in, TensorLayout in_layout, void* out, ActType out_type, TensorLayout out_layout,
                            int n, int h, int w, const NormalizeParams& params, cudaStream_t stream);

}  // namespace resnetrs::kernels
