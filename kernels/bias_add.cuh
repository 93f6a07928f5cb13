// Head epilogue: logits[n, k] = raw[n, k] + bias[k] (the dense layer's bias after cuBLAS).
#pragma once

#include <cuda_runtime_api.h>

namespace resnetrs::kernels {

// raw, out: [n, k] row-major (out may be a caller's buffer of any alignment; it may alias raw).
void launch_bias_add_rows(const float* raw, const float* bias, float* out, int n, int k, cudaStream_t stream);

}  // namespace resnetrs::kernels
