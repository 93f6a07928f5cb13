// ResNet-D shortcut pool: 2x2 stride-2 'same' average pool. Output ceil(h/2) x ceil(w/2); odd
// sizes pad at the bottom/right only and divide by the number of valid cells.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/act_type.cuh"
#include "kernels/tensor_layout.cuh"

namespace resnetrs::kernels {

// in: n x c x h x w; out: n x c x ceil(h/2) x ceil(w/2), both in `layout`; must not overlap.
void launch_avg_pool_2x2_same(const float* in, float* out, int n, int c, int h, int w, TensorLayout layout,
                              cudaStream_t stream);

// Same in any storage type.
void launch_avg_pool_2x2_same(const void* in, void* out, ActType type, int n, int c, int h, int w, TensorLayout layout,
                              cudaStream_t stream);
// The TF2 Model Garden's stage-1 shortcut pool: 2x2 window, stride 1, Keras 'same' padding (one
// row/column after the input, divisor = valid cells): out is n x c x h x w like in.
void launch_avg_pool_2x2_s1_same(const void* in, void* out, ActType type, int n, int c, int h, int w, TensorLayout layout,
                                 cudaStream_t stream);

}  // namespace resnetrs::kernels
