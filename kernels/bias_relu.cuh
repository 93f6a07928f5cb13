// Convolution epilogue for the "plain cuDNN conv + our epilogue" path of a ReLU layer:
// data = max(data + bias[c], 0), in place.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/act_type.cuh"
#include "kernels/tensor_layout.cuh"

namespace resnetrs::kernels {

// data: n x c x hw floats in `layout`; bias: [c].
void launch_bias_relu(float* data, const float* bias, int n, int c, int hw, TensorLayout layout, cudaStream_t stream);

// Any storage type and activation: data = act(data + bias[c]), in place; data is n x c x hw
// elements of `type` in `layout`. bias may be nullptr: data = act(data) (the bias is already in).
void launch_bias_act(void* data, ActType type, const float* bias, int n, int c, int hw, TensorLayout layout,
                     PointwiseAct act, cudaStream_t stream);

}  // namespace resnetrs::kernels
