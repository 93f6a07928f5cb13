// Copies a tensor into a larger one with zero borders: the explicit padding of Keras 'same'
// stride-2 convolutions (TF2 Model Garden), which pads less before than after and which cuDNN's
// symmetric padding cannot express. out is n x c x (h + top + bottom) x (w + left + right).
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/act_type.cuh"
#include "kernels/tensor_layout.cuh"

namespace resnetrs::kernels {

void launch_zero_pad(const void* in, void* out, ActType type, int n, int c, int h, int w, int pad_top, int pad_bottom,
                     int pad_left, int pad_right, TensorLayout layout, cudaStream_t stream);

}  // namespace resnetrs::kernels
