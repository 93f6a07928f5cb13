// The ResNet-RS family: which depths exist and how many bottleneck blocks each stage has
// (resnetrs-architecture.md §1). Everything else about the network follows from these.
#pragma once

#include <array>
#include <vector>

namespace resnetrs {

struct ModelConfig {
  int depth = 0;                  // 50, 101, 152, 200, 270, 350 or 420
  std::array<int, 4> blocks{};    // bottleneck blocks per stage
  int num_classes = 1000;

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
