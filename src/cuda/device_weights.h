// The folded weights on the device: one cudaMalloc holding every tensor (each 256-byte aligned,
// so our float4 paths and cuDNN see aligned pointers), uploaded once at engine build.
// Convolution filters are stored OIHW for NCHW engines and OHWI (cuDNN's NHWC filter format)
// for NHWC engines. Sizes are validated against the NetworkDesc first (Error kWeightsInvalid).
#pragma once

#include <vector>

#include "cuda/cuda_raii.h"
#include "model/fold.h"
#include "model/network.h"

namespace resnetrs::cuda {

struct DeviceConv {
  const float* weight = nullptr;
  const float* bias = nullptr;
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

DeviceWeights upload_weights(const FoldedWeights& weights, const NetworkDesc& net, bool nhwc_filters);

// OIHW -> OHWI (exposed for tests).
std::vector<float> oihw_to_ohwi(const std::vector<float>& w, int cout, int cin, int k);

}  // namespace resnetrs::cuda
