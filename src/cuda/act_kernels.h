// The engine's calls into our activation kernels for any storage type: fp32 activations go to
// the float launchers the engine has always used (so fp32 and tf32 run exactly the kernels they
// ran before the precision policy), 16-bit activations to the type-erased launchers (kernels/
// *.cuh "Any storage type"), which read and write 16-bit and compute in fp32.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/act_type.cuh"
#include "kernels/normalize_input.cuh"
#include "kernels/tensor_layout.cuh"

namespace resnetrs::cuda {

struct Act {
  kernels::ActType type = kernels::ActType::kF32;
  kernels::TensorLayout layout = kernels::TensorLayout::kNCHW;
};

// out (type) = normalize(in fp32 pixels in in_layout).
void act_normalize_input(const float* in, kernels::TensorLayout in_layout, void* out, Act a, int n, int h, int w,
                         const kernels::NormalizeParams& params, cudaStream_t stream);

// out[n, c] (fp32) = mean over hw of in (type) [+ bias[c]].
void act_global_avg_pool(const void* in, const float* bias, float* out, Act a, int n, int c, int hw, cudaStream_t stream);

// ResNet-D 2x2 stride-2 'same' pool, in and out in the type.
void act_avg_pool_2x2_same(const void* in, void* out, Act a, int n, int c, int h, int w, cudaStream_t stream);

// out = relu((x [+ x_bias]) * gate + shortcut [+ shortcut_bias]), x / shortcut / out in the type.
void act_block_tail(const void* x, const float* x_bias, const float* gate, const void* shortcut, const float* shortcut_bias,
                    void* out, Act a, int n, int c, int hw, cudaStream_t stream);

}  // namespace resnetrs::cuda
