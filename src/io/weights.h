// In-memory form of a `resnetrs-weights` v1(.x) file (docs/weights-format.md): raw, unfolded
// parameters exactly as stored. Kernels are OIHW, the dense kernel is [num_classes, 2048].
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace resnetrs {

struct BatchNormParams {
  std::vector<float> gamma, beta, moving_mean, moving_variance;  // [C] each
};

struct ConvBnParams {
  std::vector<float> kernel;  // OIHW
  BatchNormParams bn;
};

struct BlockParams {
  ConvBnParams conv1, conv2, conv3;
  bool has_shortcut = false;
  ConvBnParams shortcut;  // valid when has_shortcut (block 0 of a stage)
  std::vector<float> se_reduce_kernel, se_reduce_bias;  // [r, C, 1, 1], [r]
  std::vector<float> se_expand_kernel, se_expand_bias;  // [C, r, 1, 1], [C]
};

struct WeightsAttributes {
  int format_version = 1;
  int format_minor = 2;   // 0: a v1.0 file (no checksum, variable-length strings, not read); 1: v1.1 (checksum of the datasets only)
  std::string checksum;   // as stored ("crc32:..."); empty in a v1.0 file
  int depth = 0;
  int num_classes = 1000;
  double bn_epsilon = 1.001e-5;
  std::array<float, 3> input_mean = {123.675f, 116.28f, 103.53f};
  std::array<float, 3> input_std = {58.395f, 57.12f, 57.375f};
  int train_resolution = 0;
  std::string source;
  std::string converter_version;
};

struct RawWeights {
  WeightsAttributes attrs;
  ModelConfig config;
  ConvBnParams stem[4];
  std::vector<BlockParams> blocks;  // execution order, as NetworkDesc::blocks
  std::vector<float> dense_kernel;  // [num_classes, 2048]
  std::vector<float> dense_bias;    // [num_classes]
};

constexpr const char* kWeightsFormatName = "resnetrs-weights";
constexpr int kWeightsFormatVersion = 1;
// Minor versions add attributes; a reader of minor m reads every file of minor <= m, and files of
// a newer minor too (ignoring what it does not know). Minor 1 adds `checksum`, fixed-length strings
// and the network variant (`activation`, `stride2_padding`, `stage1_shortcut_pool`;
// RawWeights::config.variant); a minor-0 file is the TF1 release's network. Minor 2 makes the
// checksum cover the root attributes too (io/weights_checksum.h).
constexpr int kWeightsFormatMinor = 2;

}  // namespace resnetrs
