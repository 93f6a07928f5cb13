// The folded weights on the device: one cudaMalloc holding every tensor (each 256-byte aligned,
// so our float4 paths and cuDNN see aligned pointers), uploaded once at engine build.
// Convolution filters are stored OIHW for NCHW engines and OHWI (cuDNN's NHWC filter format)
// for NHWC engines, in the engine's convolution data type: fp32, or for fp16 / bf16 the folded
// fp32 values rounded once here (nearest even, as the CPU storage emulation rounds). Every bias,
// the SE and the dense weights stay fp32; a 16-bit engine also gets each conv bias in 16-bit for
// cuDNN's fused call (which takes the bias in the data type). Sizes are validated against the NetworkDesc first (Error kWeightsInvalid).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/act_type.cuh"

#include "cuda/cuda_raii.h"
#include "model/fold.h"
#include "model/network.h"

namespace resnetrs::cuda {

struct DeviceConv {
  const void* weight = nullptr;     // in the convolution data type
  const float* bias = nullptr;      // fp32, for our kernels
  const void* bias_conv = nullptr;  // the bias in the data type (== bias for fp32)
};

struct DeviceBlock {
  DeviceConv conv1, conv2, conv3, shortcut;  // shortcut valid when the block has a projection
  const float* se_w1 = nullptr;  // [r, C]
  const float* se_b1 = nullptr;  // [r]
  const float* se_w2 = nullptr;  // [C, r]
  const float* se_b2 = nullptr;  // [C]
};

struct DeviceWeights {
  DeviceBuffer buffer;
  DeviceConv stem[4];
  std::vector<DeviceBlock> blocks;
  const float* dense_weight = nullptr;  // [classes, 2048]
  const float* dense_bias = nullptr;    // [classes]
};

DeviceWeights upload_weights(const FoldedWeights& weights, const NetworkDesc& net, bool nhwc_filters,
                             kernels::ActType conv_type = kernels::ActType::kF32);

// fp32 -> 16-bit bit patterns, round to nearest even (exposed for tests; kF32 is refused).
std::vector<uint16_t> to_16bit(const std::vector<float>& v, kernels::ActType type);

// OIHW -> OHWI (exposed for tests).
std::vector<float> oihw_to_ohwi(const std::vector<float>& w, int cout, int cin, int k);

}  // namespace resnetrs::cuda
