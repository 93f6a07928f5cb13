#include "model/config.h"

#include <algorithm>
#include <string>

#include "common/error.h"

namespace resnetrs {

const std::vector<int>& supported_depths() {
  static const std::vector<int> depths = {50, 101, 152, 200, 270, 350, 420};
  return depths;
}

ModelConfig config_for_depth(int depth, int num_classes) {
  ModelConfig cfg;
  cfg.depth = depth;
  cfg.num_classes = num_classes;
  switch (depth) {
    case 50: cfg.blocks = {3, 4, 6, 3}; break;
    case 101: cfg.blocks = {3, 4, 23, 3}; break;
    case 152: cfg.blocks = {3, 8, 36, 3}; break;
    case 200: cfg.blocks = {3, 24, 36, 3}; break;
    case 270: cfg.blocks = {4, 29, 53, 4}; break;
    case 350: cfg.blocks = {4, 36, 72, 4}; break;
    case 420: cfg.blocks = {4, 44, 87, 4}; break;
    default:
      throw_error(Status::kInvalidArgument,
                  "unsupported ResNet-RS depth " + std::to_string(depth) +
                      " (expected one of 50, 101, 152, 200, 270, 350, 420)");
  }
  RESNETRS_CHECK_ARG(num_classes > 0, "num_classes must be positive, got " + std::to_string(num_classes));
  return cfg;
}

ModelVariant model_garden_variant() {
  ModelVariant v;
  v.activation = Activation::kSwish;
  v.stride2_padding = Stride2Padding::kSame;
  v.stage1_shortcut_pool = true;
  return v;
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kNone: return "none";
    case Activation::kRelu: return "relu";
    case Activation::kSwish: return "swish";
  }
  return "?";
}

const char* stride2_padding_name(Stride2Padding p) { return p == Stride2Padding::kSymmetric ? "symmetric" : "same"; }

const char* stage1_shortcut_pool_name(bool pool) { return pool ? "avg2x2_stride1_same" : "none"; }

std::string ModelVariant::describe() const {
  return std::string("activation ") + activation_name(activation) + ", stride-2 padding '" +
         stride2_padding_name(stride2_padding) + "', stage-1 shortcut pool " + stage1_shortcut_pool_name(stage1_shortcut_pool);
}

int se_reduced_channels(int block_out_channels) {
  return std::max(1, static_cast<int>(block_out_channels * kSeRatio));
}

}  // namespace resnetrs
