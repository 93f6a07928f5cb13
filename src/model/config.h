// The ResNet-RS family: which depths exist and how many bottleneck blocks each stage has
// (resnetrs-architecture.md §1). Everything else about the network follows from these.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace resnetrs {

// The activation a layer ends in. kRelu and kSwish are the two the network variants use.
enum class Activation { kNone, kRelu, kSwish };

// Padding of the stride-2 3x3 convolutions. kSymmetric: TF1's fixed padding (1 on each side, then
// VALID). kSame: Keras 'same' (total max((out-1)*2 + 3 - H, 0), the extra cell at the bottom/right):
// on even sizes 0 before and 1 after, on odd sizes 1 and 1. Output ceil(H/2) either way.
enum class Stride2Padding { kSymmetric, kSame };

// What distinguishes the two trained families of ResNet-RS (docs/weights-format.md, docs/converter.md):
// the TF1 release (tensorflow/tpu) and the TF2 Model Garden (tensorflow/models, official/vision).
// Stored in the weights file (format 1.1), so the engines read it as data.
struct ModelVariant {
  Activation activation = Activation::kRelu;              // stem convs, conv1, conv2 and the block output
  Stride2Padding stride2_padding = Stride2Padding::kSymmetric;
  // The Model Garden's ResNet-D shortcut pools in every projection block, also in stage 1 where the
  // stride is 1: a 2x2 stride-1 'same' average pool (the extra row/column at the bottom/right,
  // dividing by the valid cells). The TF1 release pools only in the stride-2 stages 2-4.
  bool stage1_shortcut_pool = false;

  // True for the TF1 release's network (ReLU, symmetric padding, no stage-1 pool).
  bool is_tf1_release() const {
    return activation == Activation::kRelu && stride2_padding == Stride2Padding::kSymmetric && !stage1_shortcut_pool;
  }
  bool operator==(const ModelVariant& o) const {
    return activation == o.activation && stride2_padding == o.stride2_padding && stage1_shortcut_pool == o.stage1_shortcut_pool;
  }
  bool operator!=(const ModelVariant& o) const { return !(*this == o); }
  // e.g. "activation swish, stride-2 padding 'same', stage-1 shortcut pool 2x2/1"
  std::string describe() const;
};

// The TF2 Model Garden's resnet_rs_imagenet network: swish, Keras 'same', stage-1 pool.
ModelVariant model_garden_variant();

// Names used in the weights file's attributes (`activation`, `stride2_padding`, `stage1_shortcut_pool`).
const char* activation_name(Activation a);                // "none", "relu", "swish"
const char* stride2_padding_name(Stride2Padding p);       // "symmetric", "same"
const char* stage1_shortcut_pool_name(bool pool);         // "none", "avg2x2_stride1_same"

struct ModelConfig {
  int depth = 0;                  // 50, 101, 152, 200, 270, 350 or 420
  std::array<int, 4> blocks{};    // bottleneck blocks per stage
  int num_classes = 1000;
  ModelVariant variant;           // TF1 release unless the weights file says otherwise

  int total_blocks() const { return blocks[0] + blocks[1] + blocks[2] + blocks[3]; }
};

// Every depth the release has, in increasing order.
const std::vector<int>& supported_depths();

// Throws Error(kInvalidArgument) for a depth that is not in supported_depths().
ModelConfig config_for_depth(int depth, int num_classes = 1000);

// Stage constants shared by every depth.
constexpr std::array<int, 4> kStageWidths = {64, 128, 256, 512};  // bottleneck width f
constexpr int kExpansion = 4;                                      // stage output = 4 f
constexpr int kStemWidths[4] = {32, 32, 64, 64};                   // the 4 stem convs' outputs
constexpr int kFinalChannels = 2048;
constexpr double kSeRatio = 0.25;

// SE bottleneck width: max(1, int(4f * 0.25)), computed from the block's OUTPUT channels.
int se_reduced_channels(int block_out_channels);

}  // namespace resnetrs
