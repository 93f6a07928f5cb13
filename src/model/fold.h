// BN folding: every conv+BN pair becomes one conv with a bias, computed in double at load:
//   w' = w * gamma / sqrt(var + eps),   b' = beta - mean * gamma / sqrt(var + eps).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "io/weights.h"
#include "model/config.h"

namespace resnetrs {

struct FoldedConv {
  int cout = 0, cin = 0, kernel = 1;
  std::vector<float> weight;  // OIHW [cout, cin, k, k]
  std::vector<float> bias;    // [cout]
};

struct FoldedBlock {
  FoldedConv conv1, conv2, conv3;
  bool has_shortcut = false;
  FoldedConv shortcut;
  int se_channels = 0;
  std::vector<float> se_reduce_weight, se_reduce_bias;  // [r, C], [r]
  std::vector<float> se_expand_weight, se_expand_bias;  // [C, r], [C]
};

struct FoldedWeights {
  ModelConfig config;
  std::array<float, 3> input_mean{}, input_std{};
  FoldedConv stem[4];
  std::vector<FoldedBlock> blocks;
  std::vector<float> dense_weight;  // [num_classes, 2048]
  std::vector<float> dense_bias;    // [num_classes]
};

FoldedConv fold_conv_bn(const ConvBnParams& conv, int cout, int cin, int kernel, double epsilon);
// Throws Error(kWeightsInvalid) naming `origin` and the layer when a folded weight or bias is not
// finite or exceeds limits::kMaxAbsFolded (src/io/weights_limits.h).
FoldedWeights fold_weights(const RawWeights& raw, const std::string& origin = "weights");

}  // namespace resnetrs
