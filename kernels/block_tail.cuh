// The bottleneck block's tail in one pass:
//   out = relu((x [+ x_bias[c]]) * gate[n, c] + shortcut [+ shortcut_bias[c]])
// x is conv3's output (its folded-BN bias is added here when it was left out of the conv), gate
// the SE gate, shortcut the identity or projection output (same rule for its bias).
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/act_type.cuh"
#include "kernels/tensor_layout.cuh"

namespace resnetrs::kernels {

// x, shortcut, out: n x c x hw in `layout`; gate: [n, c]; x_bias, shortcut_bias: [c] or nullptr.
// out may alias x and/or shortcut (each element is read, then written, by the same thread).
void launch_block_tail(const float* x, const float* x_bias, const float* gate, const float* shortcut,
                       const float* shortcut_bias, float* out, int n, int c, int hw, TensorLayout layout,
                       cudaStream_t stream);

// Any storage type and activation: out = act((x [+x_bias]) * gate + shortcut [+shortcut_bias]);
// x, shortcut and out in `type` (gate and biases fp32); may run in place (out == x).
void launch_block_tail(const void* x, const float* x_bias, const float* gate, const void* shortcut,
                       const float* shortcut_bias, void* out, ActType type, int n, int c, int hw, TensorLayout layout,
                       PointwiseAct act, cudaStream_t stream);

}  // namespace resnetrs::kernels
