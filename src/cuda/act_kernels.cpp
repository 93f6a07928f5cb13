#include "cuda/act_kernels.h"

#include "kernels/avg_pool_2x2.cuh"
#include "kernels/block_tail.cuh"
#include "kernels/global_avg_pool.cuh"

namespace resnetrs::cuda {

using kernels::ActType;

void act_normalize_input(const float* in, kernels::TensorLayout in_layout, void* out, Act a, int n, int h, int w,
                         const kernels::NormalizeParams& params, cudaStream_t stream) {
  if (a.type == ActType::kF32) {
    kernels::launch_normalize_input(in, in_layout, static_cast<float*>(out), a.layout, n, h, w, params, stream);
  } else {
    kernels::launch_normalize_input(in, in_layout, out, a.type, a.layout, n, h, w, params, stream);
  }
}

void act_global_avg_pool(const void* in, const float* bias, float* out, Act a, int n, int c, int hw, cudaStream_t stream) {
  if (a.type == ActType::kF32) {
    kernels::launch_global_avg_pool(static_cast<const float*>(in), bias, out, n, c, hw, a.layout, stream);
  } else {
    kernels::launch_global_avg_pool(in, a.type, bias, out, n, c, hw, a.layout, stream);
  }
}

void act_avg_pool_2x2_same(const void* in, void* out, Act a, int n, int c, int h, int w, cudaStream_t stream) {
  if (a.type == ActType::kF32) {
    kernels::launch_avg_pool_2x2_same(static_cast<const float*>(in), static_cast<float*>(out), n, c, h, w, a.layout, stream);
  } else {
    kernels::launch_avg_pool_2x2_same(in, out, a.type, n, c, h, w, a.layout, stream);
  }
}

void act_block_tail(const void* x, const float* x_bias, const float* gate, const void* shortcut, const float* shortcut_bias,
                    void* out, Act a, int n, int c, int hw, cudaStream_t stream) {
  if (a.type == ActType::kF32) {
    kernels::launch_block_tail(static_cast<const float*>(x), x_bias, gate, static_cast<const float*>(shortcut), shortcut_bias,
                               static_cast<float*>(out), n, c, hw, a.layout, stream);
  } else {
    kernels::launch_block_tail(x, x_bias, gate, shortcut, shortcut_bias, out, a.type, n, c, hw, a.layout,
                               kernels::PointwiseAct::kRelu, stream);
  }
}

}  // namespace resnetrs::cuda
