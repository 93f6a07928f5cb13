// The one description of a ResNet-RS network at a given input size: the ordered list of layers
// with their shapes. The loader, both engines and the benchmark all derive from it.
//
// Geometry (resnetrs-architecture.md §2, §3): every 3x3 conv pads 1 on each side (TF1's fixed
// padding for stride 2 and 'SAME' for stride 1 both reduce to that), so out = floor((H-1)/s)+1
// = ceil(H/s). The ResNet-D shortcut pool is 2x2/2 'same': out = ceil(H/2), padding only at the
// bottom/right of odd sizes, the average dividing by the number of valid cells.
// The Model Garden variant (ModelVariant, config.h) differs only in data carried here: the
// stride-2 convs pad Keras 'same' (pad_top/pad_left 0 on even sizes, same output size), every
// activation is the variant's, and stage 1's projection block pools 2x2 with stride 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace resnetrs {

struct ConvShape {
  std::string name;  // weights-file group, e.g. "stage2/block0/conv2"
  int cin = 0, cout = 0;
  int kernel = 1, stride = 1, pad = 0;  // symmetric padding: out = (in + 2 pad - kernel) / stride + 1
  // Zeros before the first row / column. Equal to `pad` except for Keras 'same' stride-2 convs on an
  // even size (0: the one padded row/column is at the bottom/right). The output size is always the
  // symmetric one above; rows and columns past the input read as zeros.
  int pad_top = 0, pad_left = 0;
  int h_in = 0, w_in = 0, h_out = 0, w_out = 0;
  Activation act = Activation::kNone;  // what the layer ends in (conv+BN+act)

  bool relu() const { return act == Activation::kRelu; }
  bool symmetric_padding() const { return pad_top == pad && pad_left == pad; }

  int64_t weight_count() const { return int64_t(cout) * cin * kernel * kernel; }
  int64_t macs() const { return weight_count() * h_out * w_out; }
};

struct BlockShape {
  std::string name;  // "stage{g}/block{b}"
  int stage = 0;     // 1..4
  int index = 0;     // block within the stage, 0-based
  int cin = 0, width = 0, cout = 0, se_channels = 0;
  int stride = 1;
  int h_in = 0, w_in = 0, h_out = 0, w_out = 0;
  ConvShape conv1, conv2, conv3;
  bool has_projection = false;  // block 0 of each stage
  bool pool_shortcut = false;   // 2x2 'same' avg-pool before the projection (stages 2-4; stage 1 too in the Model Garden)
  int pool_stride = 2;          // the pool's stride: the block's stride (1 only for the Model Garden's stage 1)
  ConvShape shortcut;           // valid when has_projection
  Activation act = Activation::kRelu;  // applied to (t3 * gate + shortcut)
};

struct NetworkDesc {
  ModelConfig config;
  int height = 0, width = 0;  // input resolution
  ConvShape stem[4];
  std::vector<BlockShape> blocks;  // all blocks in execution order
  int final_h = 0, final_w = 0;    // spatial size entering the global pool
  int num_classes = 0;

  // Trainable parameters as timm counts them: conv kernels, BN gamma and beta, SE kernels and
  // biases, dense kernel and bias (BN moving statistics excluded).
  int64_t trainable_params() const;
  // Multiply-accumulates of one image: every conv (SE's included) and the dense layer.
  int64_t macs() const;
  // The largest activation tensor of one image, in floats (for arena sizing).
  int64_t max_activation_floats() const;
};

// Throws Error(kInvalidArgument) for a resolution below kMinResolution.
NetworkDesc describe_network(const ModelConfig& config, int height, int width);

constexpr int kMinResolution = 32;

// ceil(x / 2): the output size of every stride-2 op of the network.
inline int half_ceil(int x) { return (x + 1) / 2; }

}  // namespace resnetrs
